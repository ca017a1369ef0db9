"""One door per edge: what a client is told when the database fails in the middle of its request, and that
what it is told is true (the connection is really cut, on PostgreSQL, at the moment named)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, func, select, text

from complaints_app.domain.users import create_token, create_user
from complaints_app.extensions import db
from complaints_app.models import Complaint
from tests.conftest import build_app, drop_database, fresh_database_url, init_database
from tests.test_api import COMPLAINT


@pytest.fixture
def own(tmp_path):
    """An app on its own database (a cut connection must not take the test's transaction with it), with a
    staff user's API token, and ``cut(when)`` that terminates the server process of the request's connection
    at that moment: ``"commit"`` just before COMMIT, or a statement's first words."""
    url = fresh_database_url(tmp_path)
    app = build_app(tmp_path, url)
    app.config["WTF_CSRF_ENABLED"] = False
    init_database(app)
    with app.app_context():
        user = create_user("door-staff", "correct horse battery", ["staff"])
        token = create_token(user, "test")
        db.session.commit()
        db.session.remove()
        admin = create_engine(url, isolation_level="AUTOCOMMIT")  # never the connection being cut
        armed: dict = {}

        def terminate(connection):
            armed.clear()
            pid = connection.connection.dbapi_connection.info.backend_pid
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        @event.listens_for(db.engine, "commit")
        def before_commit(connection):
            if armed.get("when") == "commit":
                terminate(connection)

        @event.listens_for(db.engine, "before_cursor_execute")
        def before_statement(connection, cursor, statement, parameters, context, executemany):
            when = armed.get("when")
            if when and when != "commit" and statement.lstrip().upper().startswith(when.upper()):
                terminate(connection)

        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def stored() -> int:
            db.session.remove()
            return db.session.scalar(select(func.count()).select_from(Complaint))

        yield type("Own", (), {"client": client, "headers": headers, "stored": staticmethod(stored),
                               "cut": staticmethod(lambda when: armed.update(when=when))})
        event.remove(db.engine, "commit", before_commit)
        event.remove(db.engine, "before_cursor_execute", before_statement)
        admin.dispose()
        db.session.remove()
        db.engine.dispose()
    drop_database(url)


@pytest.mark.postgresql
def test_a_connection_lost_while_the_process_starts_is_a_json_503_and_nothing_is_stored(own):
    own.cut("INSERT INTO workflow_instances")
    response = own.client.post("/api/v1/complaints", json=COMPLAINT, headers=own.headers)
    assert response.status_code == 503 and response.is_json
    assert response.json["error"]["code"] == "unavailable"
    assert "nothing was changed" in response.json["error"]["message"]
    assert response.headers["Retry-After"] == "1"
    assert own.stored() == 0
    again = own.client.post("/api/v1/complaints", json=COMPLAINT, headers=own.headers)
    assert again.status_code == 201 and own.stored() == 1


@pytest.mark.postgresql
def test_a_connection_lost_during_commit_says_the_outcome_is_unknown_and_the_same_key_is_safe(own):
    headers = {**own.headers, "Idempotency-Key": "door-1"}
    own.cut("commit")
    response = own.client.post("/api/v1/complaints", json=COMPLAINT, headers=headers)
    assert response.status_code == 503 and response.is_json
    error = response.json["error"]
    assert error["code"] == "outcome_unknown"
    assert "may or may not have been stored" in error["message"] and "Idempotency-Key" in error["message"]
    first = own.client.post("/api/v1/complaints", json=COMPLAINT, headers=headers)
    second = own.client.post("/api/v1/complaints", json=COMPLAINT, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json["reference"] == first.json["reference"]
    assert own.stored() == 1


@pytest.mark.postgresql
def test_a_web_page_whose_connection_is_lost_shows_a_page_saying_nothing_was_changed(own):
    login = own.client.post("/login", data={"username": "door-staff", "password": "correct horse battery"})
    assert login.status_code == 302
    own.cut("SELECT")
    page = own.client.get("/inbox")
    assert page.status_code == 503
    assert "text/html" in page.content_type
    assert b"nothing was changed" in page.data.lower()


def test_an_export_streams_after_the_commit_as_a_web_server_runs_it(tmp_path):
    """No app context around the request (as under gunicorn): the CSV is written after the door's commit,
    from what the view loaded, and every row arrives."""
    url = fresh_database_url(tmp_path)
    app = build_app(tmp_path, url)
    app.config["WTF_CSRF_ENABLED"] = False
    init_database(app)
    with app.app_context():
        user = create_user("door-exporter", "correct horse battery", ["staff", "supervisor"])
        token = create_token(user, "test")
        db.session.commit()
        db.session.remove()
    try:
        client = app.test_client()
        for i in range(3):
            body = {**COMPLAINT, "description": f"Exported {i}"}
            assert client.post("/api/v1/complaints", json=body,
                               headers={"Authorization": f"Bearer {token}"}).status_code == 201
        login = client.post("/login", data={"username": "door-exporter", "password": "correct horse battery"})
        assert login.status_code == 302
        response = client.get("/complaints.csv?q=Exported")
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert len(text.strip().splitlines()) == 1 + 3  # the header and every complaint found
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(url)
