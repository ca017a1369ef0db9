"""SQL statements per request, counted on a database of the test's own (no test transaction around it, so
every statement the request sends is counted; BEGIN, COMMIT and ROLLBACK are not). A statement is a round
trip to the server: the API's operations have a budget, and pages read a fixed number whatever their rows.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from complaints_app.domain.users import create_token, create_user
from complaints_app.extensions import db, limiter
from tests.conftest import LIMITS, _Client, build_app, drop_database, fresh_database_url, init_database
from tests.test_api import COMPLAINT

TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    """An app on its own database with a staff user and a supervisor (API tokens, web logins), and
    ``count(send)`` giving the statements ``send()`` made, with its response."""
    tmp = tmp_path_factory.mktemp("statements")
    url = fresh_database_url(tmp)
    app = build_app(tmp, url)
    app.config["WTF_CSRF_ENABLED"] = False
    init_database(app)
    with app.app_context():
        staff = create_user("count-staff", "correct horse battery", ["staff"])
        supervisor = create_user("count-supervisor", "correct horse battery", ["supervisor"], limits=LIMITS)
        tokens = {"staff": create_token(staff, "t"), "supervisor": create_token(supervisor, "t")}
        db.session.commit()
        db.session.remove()
        seen: list[str] = []

        @event.listens_for(db.engine, "before_cursor_execute")
        def note(connection, cursor, statement, parameters, context, executemany):
            if not TRANSACTION.match(statement):
                seen.append(statement)

        def count(send):
            db.session.remove()
            seen.clear()
            response = send()
            assert response.status_code < 400, (response.status_code, response.get_data(as_text=True)[:500])
            return len(seen), response

        limiter.enabled = False
        yield type("Counted", (), {
            "app": app, "api": _Client(app), "web": _Client(app), "count": staticmethod(count),
            "seen": seen, "headers": {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()},
        })
        limiter.enabled = True
        event.remove(db.engine, "before_cursor_execute", note)
        db.session.remove()
        db.engine.dispose()
    drop_database(url)


def _register(counted, n: int, **overrides) -> list[dict]:
    made = []
    for i in range(n):
        body = {**COMPLAINT, "customer": {"name": f"Klient {i}", "email": f"klient{i}-{n}@example.com"},
                **overrides}
        response = counted.api.post("/api/v1/complaints", json=body, headers=counted.headers["staff"])
        assert response.status_code == 201, response.json
        made.append(response.json)
    return made


def _escalate(counted, complaint: dict) -> None:
    """First contact not resolved: the escalation waits for a supervisor's approval."""
    task = complaint["tasks"][0]["id"]
    headers = counted.headers["staff"]
    assert counted.api.post(f"/api/v1/tasks/{task}/claim", headers=headers).status_code == 200
    done = counted.api.post(f"/api/v1/tasks/{task}/complete", headers=headers,
                            json={"data": {"fc_resolved": False, "fc_summary": "Needs the customer centre"}})
    assert done.status_code == 200, done.json


def test_api_register_claim_and_complete_stay_within_their_statement_budget(counted):
    _register(counted, 1)  # the first request of a process reads what it caches (the version, the calendars)
    headers = counted.headers["staff"]
    body = {**COMPLAINT, "customer": {"name": "Nowa Klientka", "email": "nowa.klientka@example.com"}}
    statements, response = counted.count(lambda: counted.api.post("/api/v1/complaints", json=body,
                                                                   headers=headers))
    assert response.status_code == 201 and response.json["tasks"] and response.json["letters"]
    assert statements <= 15, "\n".join(" ".join(s.split())[:120] for s in counted.seen)
    task = response.json["tasks"][0]["id"]
    statements, response = counted.count(lambda: counted.api.post(f"/api/v1/tasks/{task}/claim", headers=headers))
    assert response.json["assignee"] == "count-staff"
    assert statements <= 4, "\n".join(" ".join(s.split())[:150] for s in counted.seen)
    statements, response = counted.count(lambda: counted.api.post(
        f"/api/v1/tasks/{task}/complete", headers=headers,
        json={"data": {"fc_resolved": False, "fc_summary": "Needs the customer centre"}}))
    assert response.json["state"] == "completed"
    assert statements <= 6, counted.seen


def test_a_completion_that_writes_a_letter_and_changes_the_status_stays_within_eight(counted):
    """Six, and the letter, the status and the letter's job in the outbox."""
    complaint = _register(counted, 1)[0]
    task = complaint["tasks"][0]["id"]
    headers = counted.headers["staff"]
    counted.api.post(f"/api/v1/tasks/{task}/claim", headers=headers)
    statements, response = counted.count(lambda: counted.api.post(
        f"/api/v1/tasks/{task}/complete", headers=headers,
        json={"data": {"fc_resolved": True, "fc_summary": "Refunded", "fc_answer": "We refunded the kettle."}}))
    assert statements <= 8, counted.seen
    detail = counted.api.get(f"/api/v1/complaints/{complaint['reference']}", headers=headers).json
    assert len(detail["letters"]) == len(complaint["letters"]) + 1 and detail["status"] != complaint["status"]


def _claim_new(counted, n: int) -> None:
    """``n`` new complaints whose first contact the staff user has taken (their own inbox), and as many
    waiting for anyone (the available tasks)."""
    for complaint in _register(counted, 2 * n)[:n]:
        task = complaint["tasks"][0]["id"]
        claimed = counted.api.post(f"/api/v1/tasks/{task}/claim", headers=counted.headers["staff"])
        assert claimed.status_code == 200


def _login(counted, username: str) -> None:
    counted.web.post("/logout")
    response = counted.web.post("/login", data={"username": username, "password": "correct horse battery"})
    assert response.status_code == 302


PAGES = {
    "count-staff": ["/inbox", "/inbox?scope=available", "/complaints", "/complaints?status=open",
                    "/complaints?q=Klient"],
    "count-supervisor": ["/inbox?scope=team", "/approvals", "/at-risk"],
}


def _page_counts(counted, repeated: dict | None = None) -> dict[str, int]:
    """Statements per page; ``repeated`` gets, per page, the statements it sent more than once."""
    found = {}
    for username, urls in PAGES.items():
        _login(counted, username)
        for url in urls:
            found[url] = counted.count(lambda: counted.web.get(url))[0]
            if repeated is not None:
                shapes = Counter(" ".join(s.split())[:200] for s in counted.seen)
                repeated[url] = {shape: n for shape, n in shapes.items() if n > 1}
    return found


def test_pages_read_as_many_statements_for_50_rows_as_for_5(counted):
    """Every page lists its rows with a fixed number of reads: no read per row (N+1)."""
    near = (datetime.now(timezone.utc) - timedelta(days=12)).isoformat()  # a 14-day deadline near
    made = _register(counted, 5, received_at=near)
    for complaint in made:
        _escalate(counted, complaint)
    _claim_new(counted, 5)
    small = _page_counts(counted)
    complaint_page = counted.count(lambda: counted.web.get(f"/complaints/{made[0]['reference']}"))[0]
    more = _register(counted, 45, received_at=near)
    for complaint in more:
        _escalate(counted, complaint)
    _claim_new(counted, 45)
    repeated = {}
    large = _page_counts(counted, repeated)
    _login(counted, "count-supervisor")
    assert counted.count(lambda: counted.web.get(f"/complaints/{more[-1]['reference']}"))[0] == complaint_page
    assert large == small, {url: repeated[url] for url in large if large[url] != small[url]}
    _login(counted, "count-supervisor")
    approvals = counted.web.get("/approvals").get_data(as_text=True)
    assert approvals.count("/complaints/C-") == 50 and "/approvals?page=2" in approvals  # 50 a page
    approvals += counted.web.get("/approvals?page=2").get_data(as_text=True)
    assert more[-1]["reference"] in approvals  # the pages really list the rows counted
    _login(counted, "count-staff")
    assert counted.web.get("/inbox").get_data(as_text=True).count("C-") >= 50
