"""Jobs reach the broker only once the transaction that asked for them has committed."""

from __future__ import annotations

import os

import pytest

from complaints_app.domain.dispatch import after_commit
from complaints_app.extensions import db
from tests.conftest import build_app, drop_database, fresh_database_url, init_database


@pytest.fixture
def queued(tmp_path):
    """An app with a real broker (the configured one, else the embedded SQLite one), nothing eager,
    and a function counting the messages waiting in its queue."""
    url = fresh_database_url(tmp_path)
    broker = os.environ.get("COMPLAINTS_BROKER_URL") or f"sqlafast+sqlite:///{tmp_path / 'broker.sqlite'}"
    app = build_app(tmp_path, url, broker_url=broker, tasks_eager=False)
    init_database(app)
    celery = app.extensions["celery"]

    def waiting() -> int:
        with celery.connection_for_write() as conn:
            return conn.default_channel.queue_declare("celery", durable=True).message_count

    with celery.connection_for_write() as conn:
        conn.default_channel.queue_declare("celery", durable=True)
        conn.default_channel.queue_purge("celery")
    with app.app_context():
        yield waiting
        db.session.remove()
        db.engine.dispose()
    with celery.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    drop_database(url)


def test_a_job_queued_inside_a_savepoint_waits_for_the_real_commit(queued):
    with db.session.begin_nested():  # what every service task runs in
        after_commit("render_letter", 10**9)
    assert queued() == 0, "sent when the savepoint was released, before the letter was committed"
    db.session.commit()
    assert queued() == 1


def test_a_rolled_back_savepoint_keeps_the_jobs_queued_before_it(queued):
    after_commit("render_letter", 10**9)
    failing = db.session.begin_nested()  # a service that fails: its savepoint is rolled back
    failing.rollback()
    db.session.commit()
    assert queued() == 1


def test_a_rolled_back_transaction_sends_nothing(queued):
    after_commit("render_letter", 10**9)
    db.session.rollback()
    db.session.commit()
    assert queued() == 0
