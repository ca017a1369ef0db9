"""The JSON API, ``/api/v1``: token auth, JSON errors, an OpenAPI document built from the routes."""

from .routes import bp

__all__ = ["bp"]
