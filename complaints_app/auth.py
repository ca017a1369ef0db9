"""Request authentication: ``Authorization: Bearer <token>`` acts as the token's user."""

from __future__ import annotations

from .domain.users import user_for_token


def load_user_from_request(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_token(token.strip())
