"""The statutory clock's tick: at the warning moment and at the breach it tells the diagram through messages
it may catch, and tells the people. Business-day calendars are beyond BPMN timers, so the app keeps this clock
(see ``clock``):

- ``statutory_deadline_near`` {rule, due, working_days_left, holding_letter_sent, extendable}: the shipped
  diagram asks for a delay response under the FCA's eight-week rule, and for the decision to extend where
  the law allows an extension;
- ``statutory_deadline_breached`` {rule, due, deemed_accepted}: the shipped diagram records the breach;
- ``statutory_deemed_accepted`` {rule, due}, right after it, when the rule deems an unanswered claim
  accepted (``pl-consumer-14d``): the shipped diagram ends the ordinary path (interrupting), gives a
  supervisor the task to honour the claim, sends the final response and closes.

Whatever the diagram catches, supervisors (and the holders of open tasks) are notified.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from ..extensions import db
from ..models import Complaint, Letter, WorkflowInstance
from ..models.base import utcnow
from .audit import audit
from .clock import arm, moments, runs
from .deadlines import RULES, ZONES, extension_of, working_days_before
from .messages import deliver_if_caught
from .notify import notify_people


def tick(complaint_id: int, now: datetime | None = None) -> str | None:
    """Warn or record the breach if it is time (idempotent). Returns what happened."""
    now = now or utcnow()
    # Moves lock the process row first and write the complaint after; the tick takes its locks in the same
    # order (PostgreSQL), or a tick and a task completion at the same moment could deadlock.
    db.session.execute(select(WorkflowInstance.id).where(WorkflowInstance.complaint_id == complaint_id)
                       .with_for_update())
    complaint = db.session.get(Complaint, complaint_id, with_for_update=True)
    if complaint is None or complaint.clock_next_at is None or complaint.clock_next_at > now:
        return None
    found = moments(complaint) if runs(complaint) else None
    if found is None:
        complaint.clock_next_at = None
        db.session.flush()
        return None
    warn, breach = found
    rule = RULES[complaint.statutory_rule]
    due = complaint.statutory_due_on.isoformat()
    happened = None
    if now >= breach and complaint.statutory_breached_at is None:
        complaint.statutory_breached_at = now
        complaint.statutory_warned_at = complaint.statutory_warned_at or now
        payload = {"rule": rule.id, "due": due, "deemed_accepted": rule.deemed_accepted}
        happened = "statutory_breached"
    elif now >= warn and complaint.statutory_warned_at is None:
        complaint.statutory_warned_at = now
        left = _working_days_left(now, complaint.statutory_due_on, rule.jurisdiction)
        sent = db.session.scalar(select(Letter.id).where(Letter.complaint_id == complaint.id,
                                                         Letter.letter_type == "holding_letter").limit(1))
        payload = {"rule": rule.id, "due": due, "working_days_left": left, "holding_letter_sent": sent is not None,
                   "extendable": extension_of(rule.id) is not None}
        happened = "statutory_near"
    if happened:
        name = "statutory_deadline_breached" if happened == "statutory_breached" else "statutory_deadline_near"
        audit(complaint, happened, None, data=payload)
        db.session.flush()
        deliver_if_caught(complaint, name, payload)
        if happened == "statutory_breached" and rule.deemed_accepted:
            deliver_if_caught(complaint, "statutory_deemed_accepted", {"rule": rule.id, "due": due})
        notify_people(complaint, happened, {"reference": complaint.reference, **payload})
    arm(complaint)
    db.session.flush()
    return happened


def _working_days_left(now: datetime, due: date, jurisdiction: str) -> int:
    today = now.astimezone(ZONES[jurisdiction]).date()
    days = 0
    while working_days_before(due, days + 1, jurisdiction) >= today:
        days += 1
    return days
