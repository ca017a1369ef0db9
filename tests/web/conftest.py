"""Web fixtures: log a person in through the login form."""

from __future__ import annotations

import pytest

from complaints_app.extensions import limiter


@pytest.fixture
def web(app, client):
    """A client with CSRF checks off (they have their own tests) and the login rate limit off."""
    app.config["WTF_CSRF_ENABLED"] = False
    limiter.enabled = False
    yield client
    app.config["WTF_CSRF_ENABLED"] = True
    limiter.enabled = True


@pytest.fixture
def login(web):
    def as_(user):
        web.post("/logout")
        response = web.post("/login", data={"username": user.username, "password": "correct horse battery"})
        assert response.status_code == 302, response.data[:500]
        return web
    return as_
