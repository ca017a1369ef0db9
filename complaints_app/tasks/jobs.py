"""The tasks. Each is idempotent: the database says what is due, a duplicate message does nothing."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from ..config import current_settings
from ..domain import clock, clock_tick, letter_delivery, letters, notify, post, reminders
from ..mail import DeliveryFailed, deliver
from ..domain import tasks as task_ops
from ..domain.errors import Conflict
from ..models.base import utcnow
from ..unit_of_work import OutcomeUnknown, Unavailable, replayable, unit_of_work

log = logging.getLogger(__name__)


# A busy or unreachable database, or a lost race: the job runs again (every job is idempotent).
TRANSIENT = (Conflict, Unavailable, OutcomeUnknown, OperationalError)


def _committed(operation, argument):
    """Run an operation as one unit of work (again, carefully, if a service step fails: ``replayable``)."""
    return replayable(lambda: operation(argument))


@shared_task(name="complaints.fire_timers", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def fire_timers(complaint_id: int) -> bool:
    """Fire the due timers of one complaint (a busy database is retried; the sweep re-enqueues anyway)."""
    return _committed(task_ops.fire_timers, complaint_id)


@shared_task(name="complaints.render_letter", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def render_letter(letter_id: int) -> bool:
    """Render one letter's PDF (a second message for the same letter does nothing)."""
    return _committed(letters.render_letter, letter_id)


def hand_over(claim, record, row_id: int) -> bool:
    """Claim a message and commit, hand it to the mail server with no transaction open, record the result
    and commit (see ``domain.outgoing``). A failure is recorded with its next attempt, which the sweep
    picks up when due, so it is not raised."""
    outgoing = _committed(claim, row_id)
    if outgoing is None:
        return False
    config = current_settings()
    try:
        where = deliver(outgoing.message, config.mail_url, Path(config.outbox_path))
    except Exception as err:  # noqa: BLE001 - whatever failed (a full outbox disk too) waits, counted, for the next try
        error = str(err) if isinstance(err, DeliveryFailed) else f"{type(err).__name__}: {err}"
        log.warning("%s %s not delivered (attempt %s): %s", outgoing.kind, row_id, outgoing.attempt, error)
        return _committed(lambda o: record(o, error=error), outgoing)
    return _committed(lambda o: record(o, where=where), outgoing)


def deliver_letter(letter_id: int) -> bool:
    return hand_over(letter_delivery.claim_letter, letter_delivery.record_letter, letter_id)


def deliver_notification(notification_id: int) -> bool:
    return hand_over(notify.claim_notification, notify.record_notification, notification_id)


@shared_task(name="complaints.send_letter", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def send_letter(letter_id: int) -> bool:
    """E-mail one rendered letter whose delivery is due (a failed attempt waits on the letter for the next)."""
    return deliver_letter(letter_id)


@shared_task(name="complaints.assemble_batch", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def assemble_batch(batch_id: int) -> bool:
    """Join a print run's letters and enclosures into its one PDF (a second message does nothing)."""
    return _committed(post.assemble_batch, batch_id)


@shared_task(name="complaints.tick_clock", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def tick_clock(complaint_id: int) -> str | None:
    """Warn before, or record, a statutory deadline that is due now (idempotent)."""
    return _committed(clock_tick.tick, complaint_id)


@shared_task(name="complaints.remind", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def remind(task_id: str) -> bool:
    """Send a task's due reminder (idempotent)."""
    return _committed(reminders.remind, task_id)


@shared_task(name="complaints.mail_notification", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def mail_notification(notification_id: int) -> bool:
    """E-mail one notification whose e-mail is due (once it is sent, never again)."""
    return deliver_notification(notification_id)


JOBS = {"render_letter": render_letter, "fire_timers": fire_timers, "send_letter": send_letter,
        "mail_notification": mail_notification, "assemble_batch": assemble_batch}


@shared_task(name="complaints.sweep")
def sweep() -> int:
    """Enqueue whatever the database says is due: timers, statutory clocks, reminders, letters to render
    or send, print runs to assemble, notifications to e-mail (beat runs this every second; each read is an
    indexed range)."""
    with unit_of_work():  # reads only: no transaction stays open while the jobs are sent
        work = [
            (fire_timers, task_ops.due_timer_complaints()),
            (tick_clock, clock.due_clocks()),
            (remind, reminders.due_reminders()),
            (render_letter, letters.letters_to_render()),
            (send_letter, letter_delivery.letters_to_send()),
            (assemble_batch, post.batches_to_assemble()),
            (mail_notification, notify.notifications_to_mail()),
        ]
    for job, ids in work:
        for argument in ids:
            job.delay(argument)
    return sum(len(ids) for _, ids in work)


@shared_task(name="complaints.clean_broker")
def clean_broker() -> int:
    """Delete messages the SQLite transport already delivered (it never deletes them itself)."""
    url = current_settings().broker_url
    if not url.startswith("sqlafast+"):
        return 0
    engine = create_engine(url.split("+", 1)[1])
    cutoff = utcnow() - timedelta(hours=1)
    with engine.begin() as conn:
        deleted = conn.execute(text("DELETE FROM kombu_message WHERE visible = 0 AND timestamp < :cutoff"),
                               {"cutoff": cutoff.replace(tzinfo=None)}).rowcount
    engine.dispose()
    return deleted
