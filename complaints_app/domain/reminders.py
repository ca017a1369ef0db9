"""Reminders before a task's deadline, at configured shares of its time (50 % and 80 % by default).

A task's time runs from its creation to its own deadline (a boundary timer drawn on it) or, without one,
to the end of the complaint's statutory due day. The holder and the team's supervisors are told, in the
app and by e-mail. One indexed column says when each open task needs its next reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..config import current_settings
from ..extensions import db
from ..models import Complaint, HumanTask
from ..models.base import utcnow
from .clock import moments
from .deadlines import ZONES
from .notify import notify_people

MIN_WINDOW = timedelta(hours=1)


def _window_end(task: HumanTask, complaint: Complaint) -> datetime | None:
    if task.due_at is not None:
        return task.due_at
    found = moments(complaint)
    return found[1] if found else None


def schedule(task: HumanTask, complaint: Complaint, now: datetime | None = None) -> None:
    """Set the task's next reminder: the first configured share of its time not yet reached."""
    now = now or utcnow()
    start = task.created_at or now
    end = _window_end(task, complaint)
    task.next_reminder_at = None
    if end is None or end - start < MIN_WINDOW:  # nobody needs reminding of a task due within minutes
        return
    fractions = current_settings().reminder_fractions
    for index in range(task.reminders_sent or 0, len(fractions)):
        moment = start + (end - start) * fractions[index]
        if moment > now:
            task.next_reminder_at = moment
            return


def due_reminders(now: datetime | None = None, limit: int = 500) -> list[str]:
    now = now or utcnow()
    return list(db.session.scalars(select(HumanTask.id).where(
        HumanTask.next_reminder_at.is_not(None), HumanTask.next_reminder_at <= now, HumanTask.state == "open")
        .order_by(HumanTask.next_reminder_at).limit(limit)))


def remind(task_id: str, now: datetime | None = None) -> bool:
    """Send the reminder that is due (idempotent: nothing due, nothing sent). After a pause, only the
    latest share passed is reported, not one message per missed share."""
    now = now or utcnow()
    task = db.session.get(HumanTask, task_id, with_for_update=True)
    if task is None or task.state != "open" or task.next_reminder_at is None or task.next_reminder_at > now:
        if task is not None and task.state != "open":
            task.next_reminder_at = None
        return False
    complaint = db.session.get(Complaint, task.complaint_id)
    end = _window_end(task, complaint)
    fractions = current_settings().reminder_fractions
    start = task.created_at
    passed = [i for i, f in enumerate(fractions) if end is not None and start + (end - start) * f <= now]
    index = max(passed) if passed else task.reminders_sent
    zone = ZONES.get(complaint.jurisdiction)
    due_text = end.astimezone(zone).strftime("%Y-%m-%d %H:%M") if end is not None else ""
    notify_people(complaint, "reminder", {"reference": complaint.reference, "task": task.name,
                                          "percent": round(fractions[index] * 100), "due": due_text}, task=task)
    task.reminders_sent = index + 1
    schedule(task, complaint, now)
    db.session.flush()
    return True
