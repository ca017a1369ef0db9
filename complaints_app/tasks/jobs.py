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
from ..domain.dispatch import forget, queue, resend
from ..domain.errors import Conflict
from ..models.base import utcnow
from ..unit_of_work import OutcomeUnknown, Unavailable, replayable, unit_of_work

log = logging.getLogger(__name__)


# A busy or unreachable database, or a lost race: the job runs again (every job is idempotent).
TRANSIENT = (Conflict, Unavailable, OutcomeUnknown, OperationalError)


def _committed(operation, argument):
    """Run an operation as one unit of work (again, carefully, if a service step fails: ``replayable``)."""
    return replayable(lambda: operation(argument))


def _job(name: str, operation, argument):
    """Run a job's operation as one unit of work that first takes the job out of the outbox."""
    def work():
        forget(name, argument)
        return operation(argument)
    return replayable(work)


@shared_task(name="complaints.fire_timers", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def fire_timers(complaint_id: int) -> bool:
    """Fire the due timers of one complaint (a busy database is retried; the sweep re-enqueues anyway)."""
    return _job("fire_timers", task_ops.fire_timers, complaint_id)


@shared_task(name="complaints.render_letter", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def render_letter(letter_id: int) -> bool:
    """Render one letter's PDF (a second message for the same letter does nothing)."""
    return _job("render_letter", letters.render_letter, letter_id)


def hand_over(name: str, claim, record, row_id: int) -> bool:
    """Claim a message and commit, hand it to the mail server with no transaction open, record the result
    and commit (see ``domain.outgoing``). A failure is recorded with its next attempt, which the sweep
    picks up when due, so it is not raised."""
    outgoing = _job(name, claim, row_id)
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
    return hand_over("send_letter", letter_delivery.claim_letter, letter_delivery.record_letter, letter_id)


def deliver_notification(notification_id: int) -> bool:
    return hand_over("mail_notification", notify.claim_notification, notify.record_notification,
                     notification_id)


@shared_task(name="complaints.send_letter", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def send_letter(letter_id: int) -> bool:
    """E-mail one rendered letter whose delivery is due (a failed attempt waits on the letter for the next)."""
    return deliver_letter(letter_id)


@shared_task(name="complaints.assemble_batch", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def assemble_batch(batch_id: int) -> bool:
    """Join a print run's letters and enclosures into its one PDF (a second message does nothing)."""
    return _job("assemble_batch", post.assemble_batch, batch_id)


@shared_task(name="complaints.tick_clock", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def tick_clock(complaint_id: int) -> str | None:
    """Warn before, or record, a statutory deadline that is due now (idempotent)."""
    return _job("tick_clock", clock_tick.tick, complaint_id)


@shared_task(name="complaints.remind", autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def remind(task_id: str) -> bool:
    """Send a task's due reminder (idempotent)."""
    return _job("remind", reminders.remind, task_id)


@shared_task(name="complaints.mail_notification", autoretry_for=TRANSIENT, retry_backoff=True,
             max_retries=5)
def mail_notification(notification_id: int) -> bool:
    """E-mail one notification whose e-mail is due (once it is sent, never again)."""
    return deliver_notification(notification_id)


# Every job by its outbox name, with the type of its argument (the outbox keeps it as text).
JOBS = {"render_letter": (render_letter, int), "fire_timers": (fire_timers, int), "send_letter": (send_letter, int),
        "mail_notification": (mail_notification, int), "assemble_batch": (assemble_batch, int),
        "tick_clock": (tick_clock, int), "remind": (remind, str)}
RELAY_CHUNK = 100


def publish(jobs: list[tuple[str, str]]) -> None:
    """Send outbox jobs to the broker: one job as itself, several in relay messages of up to 100 (one round
    trip for the committing process, whatever it asked for)."""
    if len(jobs) == 1:
        task, kind = JOBS[jobs[0][0]]
        task.delay(kind(jobs[0][1]))
        return
    for start in range(0, len(jobs), RELAY_CHUNK):
        relay.delay([list(job) for job in jobs[start:start + RELAY_CHUNK]])


@shared_task(name="complaints.relay")
def relay(jobs: list[list[str]]) -> int:
    """Send each job of a relay message as its own message, for the workers to share."""
    for name, argument in jobs:
        task, kind = JOBS[name]
        task.delay(kind(argument))
    return len(jobs)


@shared_task(name="complaints.sweep")
def sweep() -> int:
    """Queue whatever the database says is due and is not on its way already: timers, statutory clocks,
    reminders, letters to render or send, print runs to assemble, notifications to e-mail; and send again
    what has been on its way too long (beat runs this every second; each read is an indexed range)."""
    with unit_of_work():
        found = [
            ("fire_timers", task_ops.due_timer_complaints()),
            ("tick_clock", clock.due_clocks()),
            ("remind", reminders.due_reminders()),
            ("render_letter", letters.letters_to_render()),
            ("send_letter", letter_delivery.letters_to_send()),
            ("assemble_batch", post.batches_to_assemble()),
            ("mail_notification", notify.notifications_to_mail()),
        ]
        sent = [job for name, arguments in found for job in queue(name, arguments)]
        sent += resend()
    if sent:  # after the commit: the outbox says they are on their way
        publish(sent)
    return len(sent)


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
