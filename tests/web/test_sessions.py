"""Sessions, redirects and the line between the web pages (cookie) and the API (bearer token)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from complaints_app.domain.users import create_token
from complaints_app.extensions import db
from complaints_app.models import ApiToken

PASSWORD = "correct horse battery"


def _login(client, user, password=PASSWORD, **kwargs):
    return client.post("/login", data={"username": user.username, "password": password}, **kwargs)


@pytest.mark.parametrize("target", ["/%09/evil.example/phish", "/%0a/evil.example", "/%0d%0a/evil.example",
                                    "/\\evil.example", "//evil.example", "https://evil.example/x",
                                    "/%20/evil.example", "javascript:alert(1)"])
def test_login_never_sends_the_user_to_another_site(web, people, target):
    response = web.post(f"/login?next={target}", data={"username": people.staff.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


def test_login_keeps_a_path_on_this_site(web, people):
    response = web.post("/login?next=/complaints%3Fstatus%3Dopen",
                        data={"username": people.staff.username, "password": PASSWORD})
    assert response.headers["Location"] == "/complaints?status=open"


def test_the_api_does_not_take_the_browsers_session_cookie(login, people, register, open_task):
    task = open_task(register(people.staff))
    client = login(people.staff)
    assert client.get("/inbox").status_code == 200  # logged in on the web pages
    response = client.post(f"/api/v1/tasks/{task.id}/claim")  # no token: a forged request from a page
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthenticated"
    assert db.session.get(type(task), task.id).assignee_id is None


def test_with_a_cookie_and_a_token_the_api_acts_as_the_tokens_user(login, people, register, open_task):
    task = open_task(register(people.staff))
    token = create_token(people.staff2, "test")
    db.session.commit()
    client = login(people.staff)
    response = client.post(f"/api/v1/tasks/{task.id}/claim", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["assignee"] == people.staff2.username


def test_web_pages_do_not_take_a_bearer_token(client, people):
    token = create_token(people.staff, "test")
    db.session.commit()
    response = client.get("/inbox", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_password_change_ends_the_other_sessions(app, web, people):
    other = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    assert _login(other, people.staff).status_code == 302
    assert _login(web, people.staff).status_code == 302
    response = web.post("/password", data={"current": PASSWORD, "new": "a new long password",
                                           "repeat": "a new long password"})
    assert response.status_code == 302
    assert web.get("/inbox").status_code == 200  # the session that changed it goes on
    assert other.get("/inbox").status_code == 302  # the other one is logged out
    assert _login(other, people.staff).status_code == 400
    assert _login(other, people.staff, password="a new long password").status_code == 302


def test_a_copied_cookie_is_dead_after_log_out(app, web, people):
    assert _login(web, people.staff).status_code == 302
    cookie = web.get_cookie("session").value
    web.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_failed_logins_are_limited_per_account_whatever_the_address(rate_limited, people):
    client = rate_limited
    statuses = [_login(client, people.staff2, password="nope",
                       environ_base={"REMOTE_ADDR": f"10.1.2.{i}"}).status_code for i in range(11)]
    other = _login(client, people.staff, password="nope", environ_base={"REMOTE_ADDR": "10.1.3.1"})
    good_after_limit = _login(client, people.staff2, environ_base={"REMOTE_ADDR": "10.1.3.2"})
    assert statuses == [400] * 10 + [429]
    assert other.status_code == 400  # another account is not locked
    assert good_after_limit.status_code == 429


def test_successful_logins_do_not_count_against_an_address(rate_limited, people):
    statuses = [_login(rate_limited, people.staff, environ_base={"REMOTE_ADDR": "10.4.4.4"}).status_code
                for _ in range(12)]
    assert statuses == [302] * 12  # an office behind one address all logging in at nine


def test_an_admin_sees_when_a_token_was_last_used(login, people, client):
    token = create_token(people.staff, "reporting script")
    db.session.commit()
    page = login(people.admin).get(f"/admin/users/{people.staff.id}").data.decode()
    assert "reporting script" in page and "never" in page
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "reporting script"))
    db.session.refresh(row)
    assert row.last_used_at is not None
    page = login(people.admin).get(f"/admin/users/{people.staff.id}").data.decode()
    assert "never" not in page.split("reporting script", 1)[1].split("</tr>", 1)[0]


def test_a_token_works_until_it_expires_and_then_says_so(login, people, client, app):
    import time_machine

    from complaints_app.domain.errors import InvalidInput
    from complaints_app.models.base import utcnow

    token = create_token(people.staff, "nightly export", days=30)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "nightly export"))
    assert abs((row.expires_at - utcnow()).days - 30) <= 1
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    with time_machine.travel(row.expires_at, tick=False):
        refused = client.get("/api/v1/tasks", headers=headers)
        page = login(people.admin).get(f"/admin/users/{people.staff.id}").data.decode()
    assert refused.status_code == 401 and "the token expired at" in refused.json["error"]["message"]
    assert "expired" in page.split("nightly export", 1)[1].split("</tr>", 1)[0]
    for days in (0, 367):
        with pytest.raises(InvalidInput):
            create_token(people.staff, "for ever", days=days)
    result = app.test_cli_runner().invoke(args=["create-token", people.staff.username, "--days", "0"])
    assert result.exit_code != 0 and "0 is not in the range" in result.output
