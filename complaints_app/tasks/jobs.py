"""The tasks. Each is idempotent: the database says what is due, a duplicate message does nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from ..domain import clock, letters, notify, reminders
from ..mail import DeliveryFailed
from ..domain import tasks as task_ops
from ..domain.errors import Conflict
from ..extensions import db
from ..models.base import utcnow

log = logging.getLogger(__name__)


def _committed(operation, argument, keep_on=()):
    """Run an operation and commit; roll back on failure, except for ``keep_on`` errors (recorded, then raised)."""
    try:
        result = operation(argument)
    except keep_on:
        db.session.commit()
        raise
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


@shared_task(name="complaints.fire_timers", autoretry_for=(Conflict, OperationalError), retry_backoff=True,
             max_retries=5)
def fire_timers(complaint_id: int) -> bool:
    """Fire the due timers of one complaint (a busy database is retried; the sweep re-enqueues anyway)."""
    return _committed(task_ops.fire_timers, complaint_id)


@shared_task(name="complaints.render_letter", autoretry_for=(Conflict, OperationalError), retry_backoff=True,
             max_retries=5)
def render_letter(letter_id: int) -> bool:
    """Render one letter's PDF (a second message for the same letter does nothing)."""
    return _committed(letters.render_letter, letter_id)


@shared_task(name="complaints.send_letter", autoretry_for=(DeliveryFailed, OperationalError), retry_backoff=True,
             retry_backoff_max=600, max_retries=8)
def send_letter(letter_id: int) -> bool:
    """E-mail one rendered letter; a failed attempt is kept on the letter and retried with backoff."""
    return _committed(letters.send_letter, letter_id, keep_on=(DeliveryFailed,))


@shared_task(name="complaints.tick_clock", autoretry_for=(Conflict, OperationalError), retry_backoff=True,
             max_retries=5)
def tick_clock(complaint_id: int) -> str | None:
    """Warn before, or record, a statutory deadline that is due now (idempotent)."""
    return _committed(clock.tick, complaint_id)


@shared_task(name="complaints.remind", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def remind(task_id: str) -> bool:
    """Send a task's due reminder (idempotent)."""
    return _committed(reminders.remind, task_id)


@shared_task(name="complaints.mail_notification", autoretry_for=(DeliveryFailed, OperationalError),
             retry_backoff=True, retry_backoff_max=600, max_retries=8)
def mail_notification(notification_id: int) -> bool:
    """E-mail one notification (once)."""
    return _committed(notify.mail_notification, notification_id)


JOBS = {"render_letter": render_letter, "fire_timers": fire_timers, "send_letter": send_letter,
        "mail_notification": mail_notification}


@shared_task(name="complaints.sweep")
def sweep() -> int:
    """Enqueue whatever the database says is due: timers, statutory clocks, reminders, letters to render
    or send, notifications to e-mail (beat runs this every second; each read is an indexed range)."""
    work = [
        (fire_timers, task_ops.due_timer_complaints()),
        (tick_clock, clock.due_clocks()),
        (remind, reminders.due_reminders()),
        (render_letter, letters.letters_to_render()),
        (send_letter, letters.letters_to_send()),
        (mail_notification, notify.notifications_to_mail()),
    ]
    db.session.rollback()
    for job, ids in work:
        for argument in ids:
            job.delay(argument)
    return sum(len(ids) for _, ids in work)


@shared_task(name="complaints.clean_broker")
def clean_broker() -> int:
    """Delete messages the SQLite transport already delivered (it never deletes them itself)."""
    url = current_app.extensions["complaints.settings"].broker_url
    if not url.startswith("sqlafast+"):
        return 0
    engine = create_engine(url.split("+", 1)[1])
    cutoff = utcnow() - timedelta(hours=1)
    with engine.begin() as conn:
        deleted = conn.execute(text("DELETE FROM kombu_message WHERE visible = 0 AND timestamp < :cutoff"),
                               {"cutoff": cutoff.replace(tzinfo=None)}).rowcount
    engine.dispose()
    return deleted
