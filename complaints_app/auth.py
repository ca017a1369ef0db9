"""API authentication: ``Authorization: Bearer <token>`` acts as the token's user, and nothing else does.

The API is exempt from CSRF because a browser never sends this header on its own; a session cookie, which
it does send, is therefore not accepted there (it would make every API POST forgeable from a page the user
visits). The web pages, in turn, take only the session cookie.
"""

from __future__ import annotations

from flask import current_app, request

from .domain.users import token_expiry, user_for_token


def expired_token(header: str):
    """When the bearer token of an ``Authorization`` header expired (None if it did not, or is unknown)."""
    scheme, _, token = header.partition(" ")
    return token_expiry(token.strip()) if scheme.lower() == "bearer" and token.strip() else None


def token_user():
    """The user of the request's bearer token, or None; the request acts as them from here on."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    # flask-login's own way of setting the request's user (what login_user does, without the cookie).
    current_app.login_manager._update_request_context_with_user(user)
    return user
