"""Jobs reach the broker only once the transaction that asked for them has committed, through the outbox:
once, and again only when their message may have been lost."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from complaints_app.domain.complaints import find_or_create_customer, register_complaint
from complaints_app.domain.dispatch import after_commit
from complaints_app.domain.users import create_user
from complaints_app.extensions import db
from complaints_app.models import Letter, OutboxJob
from complaints_app.models.base import utcnow
from complaints_app.tasks import jobs
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

    def purge() -> None:
        with celery.connection_for_write() as conn:
            conn.default_channel.queue_declare("celery", durable=True)
            conn.default_channel.queue_purge("celery")

    purge()
    waiting.purge = purge
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


def _outbox() -> list[tuple[str, str, int]]:
    rows = [tuple(row) for row in db.session.execute(
        select(OutboxJob.job, OutboxJob.argument, OutboxJob.sends).order_by(OutboxJob.id))]
    db.session.commit()  # no transaction left open to hold SQLite's lock against the jobs
    return rows


def _letter_due_to_render() -> int:
    """A draft letter, written a minute ago: what the sweep finds to render."""
    user = create_user(f"dispatch-{uuid.uuid4().hex[:6]}", "correct horse battery", ["staff"])
    customer = find_or_create_customer("Anna Nowak", f"anna{uuid.uuid4().hex[:6]}@example.com", None, "pl")
    complaint = register_complaint(user, customer=customer, channel="phone", category="product",
                                   description="The kettle leaks", currency="PLN", language="pl",
                                   jurisdiction="PL", regime="consumer")
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    letter.created_at = utcnow() - timedelta(minutes=1)
    letter_id = letter.id
    db.session.commit()
    return letter_id


def test_a_job_already_on_its_way_is_not_sent_again(queued):
    after_commit("render_letter", 10**9)
    db.session.commit()
    after_commit("render_letter", 10**9)  # asked for again (another change) while the first waits
    db.session.commit()
    assert queued() == 1
    assert _outbox() == [("render_letter", str(10**9), 1)]


def test_several_jobs_of_one_commit_go_in_one_message(queued):
    for letter_id in (10**9, 10**9 + 1, 10**9 + 2):
        after_commit("render_letter", letter_id)
    db.session.commit()
    assert queued() == 1  # a relay message: the worker sends each job on
    assert len(_outbox()) == 3


def test_the_sweep_sends_due_work_once_however_often_it_runs(queued):
    letter_id = _letter_due_to_render()
    waiting = queued()  # the acknowledgement's own message, sent with its commit
    for _ in range(5):
        jobs.sweep()
    assert queued() == waiting
    assert ("render_letter", str(letter_id), 1) in _outbox()


def test_a_lost_message_is_sent_again_later_each_time(queued):
    letter_id = _letter_due_to_render()
    queued.purge()  # the broker lost everything
    db.session.execute(update(OutboxJob).values(resend_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert jobs.sweep() >= 1
    assert queued() >= 1
    row = db.session.scalar(select(OutboxJob).where(OutboxJob.job == "render_letter",
                                                    OutboxJob.argument == str(letter_id)))
    db.session.commit()
    assert row.sends == 2
    assert timedelta(seconds=110) < row.resend_at - row.sent_at <= timedelta(minutes=2)


def test_a_job_that_runs_takes_itself_out_of_the_outbox(queued):
    letter_id = _letter_due_to_render()
    jobs.render_letter(letter_id)
    assert ("render_letter", str(letter_id)) not in [row[:2] for row in _outbox()]
