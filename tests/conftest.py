"""Fixtures: one migrated database per run, one rolled-back transaction per test.

The backend comes from ``COMPLAINTS_DATABASE_URL`` (a temporary SQLite file when unset). Tests marked
``postgresql`` or ``sqlite`` are deselected (not skipped) on the other backend; CI runs both.
"""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from complaints_app import create_app
from complaints_app.config import Settings
from complaints_app.extensions import db, limiter

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("COMPLAINTS_DATABASE_URL", "")
BACKEND = "postgresql" if DATABASE_URL.startswith("postgresql") else "sqlite"
LIMITS = {"PLN": 1000, "EUR": 250, "GBP": 200, "UAH": 10000}
MANAGER_LIMITS = {"PLN": 50000, "EUR": 12000, "GBP": 10000, "UAH": 500000}


def pytest_collection_modifyitems(config, items):
    other = "sqlite" if BACKEND == "postgresql" else "postgresql"
    deselected = [item for item in items if item.get_closest_marker(other)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


def pytest_report_header(config):
    return f"database backend: {BACKEND}"


def fresh_database_url(tmp_path: Path) -> str:
    """A new empty database on the run's backend (tests that need committed data use their own)."""
    if BACKEND == "sqlite":
        return f"sqlite:///{tmp_path / ('own-' + uuid.uuid4().hex[:8] + '.sqlite')}"
    url = make_url(DATABASE_URL)
    name = f"complaints_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database made by ``fresh_database_url`` (SQLite files go with the temp folder)."""
    if BACKEND != "postgresql":
        return
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def build_app(tmp_path: Path, database_url: str, **overrides):
    settings = Settings.from_env(
        environ={},
        instance_path=str(tmp_path / "instance"),
        database_url=database_url,
        broker_url=overrides.pop("broker_url", "memory://"),
        tasks_eager=overrides.pop("tasks_eager", True),
        secret_key="test-secret",
        **overrides,
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def init_database(app) -> None:
    """What ``complaints init`` does, as a library call."""
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    url = DATABASE_URL or f"sqlite:///{tmp / 'test.sqlite'}"
    app = build_app(tmp, url)
    init_database(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _db_transaction(request):
    """Run each test that uses the app inside one transaction, rolled back at the end."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        engines[None] = connection
        try:
            yield
        finally:
            db.session.remove()
            engines[None] = engine
            outer.rollback()
            connection.close()
            # What the app caches from the database must not outlive the rolled-back rows.
            app.extensions.pop("complaints.calendars", None)
            app.extensions.pop("complaints.lane_roles", None)
            app.extensions.pop("complaints.statutory_calendars", None)


class _Client(FlaskClient):
    """Requests share the test's app context: forget what flask-login and Flask-Babel cached in ``g``."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = _Client
    return app.test_client()


# -- factories -------------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    from complaints_app.domain.users import create_user

    counter = iter(range(1, 10_000))

    def make(*roles: str, limits: dict | None = None, team: str | None = None, username: str | None = None):
        name = username or f"{'-'.join(roles)}-{next(counter)}-{uuid.uuid4().hex[:4]}"
        user = create_user(name, "correct horse battery", list(roles), limits=limits, team=team)
        db.session.commit()
        return user
    return make


PEOPLE = {
    "staff": (["staff"], None), "staff2": (["staff"], None),
    "supervisor": (["supervisor"], LIMITS), "supervisor2": (["supervisor"], LIMITS),
    "manager": (["manager"], MANAGER_LIMITS),
    "investigator": (["customer_centre"], None), "investigator2": (["customer_centre"], None),
    "owner": (["process_owner"], None), "admin": (["admin"], None),
}


@pytest.fixture(scope="session")
def _people_seeded(app):
    from complaints_app.domain.users import create_user

    with app.app_context():
        for name, (roles, limits) in PEOPLE.items():
            create_user(f"p-{name}", "correct horse battery", roles, limits=limits)
        db.session.commit()
        db.session.remove()


@pytest.fixture
def people(app, _people_seeded):
    """One person of every role (created once per run), with the seeded demo's limits."""
    from sqlalchemy import select

    from complaints_app.models import User

    found = {u.username[2:]: u for u in db.session.scalars(select(User).where(User.username.like("p-%")))}
    return type("People", (), found)


@pytest.fixture
def register(app):
    from complaints_app.domain.complaints import find_or_create_customer, register_complaint

    def make(actor, extra_data: dict | None = None, **fields):
        values = dict(channel="phone", category="product", description="The kettle leaks", product="Kettle K1",
                      claimed_amount=Decimal("120.00"), currency="PLN", language="pl", jurisdiction="PL",
                      regime="consumer")
        values.update(fields)
        customer = find_or_create_customer("Jan Kowalski", f"jan{uuid.uuid4().hex[:6]}@example.test", None, "pl")
        complaint = register_complaint(actor, customer=customer, extra_data=extra_data, **values)
        db.session.commit()
        return complaint
    return make


@pytest.fixture
def open_task(app):
    """The one open task of a complaint (asserting there is exactly one)."""
    from sqlalchemy import select

    from complaints_app.models import HumanTask

    def find(complaint, name: str | None = None):
        tasks = list(db.session.scalars(select(HumanTask).where(
            HumanTask.complaint_id == complaint.id, HumanTask.state == "open")))
        assert len(tasks) == 1, [t.name for t in tasks]
        if name is not None:
            assert tasks[0].name == name
        return tasks[0]
    return find


@pytest.fixture
def complete(app):
    from complaints_app.domain.tasks import complete_task

    def done(actor, task, **data):
        result = complete_task(actor, task.id, data)
        db.session.commit()
        return result
    return done


@pytest.fixture
def web(app, client):
    """A client with CSRF checks off (they have their own tests) and the login rate limit off."""
    app.config["WTF_CSRF_ENABLED"] = False
    limiter.enabled = False
    yield client
    app.config["WTF_CSRF_ENABLED"] = True
    limiter.enabled = True


@pytest.fixture
def rate_limited(app, client):
    """The login rate limit on, with no attempts counted before or after the test; CSRF off."""
    limiter.reset()
    limiter.enabled = True
    app.config["WTF_CSRF_ENABLED"] = False
    yield client
    app.config["WTF_CSRF_ENABLED"] = True
    limiter.reset()


@pytest.fixture
def login(web):
    def as_(user):
        web.post("/logout")
        response = web.post("/login", data={"username": user.username, "password": "correct horse battery"})
        assert response.status_code == 302, response.data[:500]
        return web
    return as_
