"""Celery: the app's background work. Thin tasks take ids, call operations and commit once."""

from .app import celery_init_app

__all__ = ["celery_init_app"]
