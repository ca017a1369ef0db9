"""The statutory clock: a warning some working days before a complaint's statutory deadline, then the
breach. Business-day calendars are beyond BPMN timers, so the app keeps this clock (one indexed column,
moved by extensions) and tells the diagram through messages it may catch:

- ``statutory_deadline_near`` {rule, due, working_days_left, holding_letter_sent, extendable}: the shipped
  diagram asks for a delay response under the FCA's eight-week rule, and for the decision to extend where
  the law allows an extension;
- ``statutory_deadline_breached`` {rule, due, deemed_accepted}: the shipped diagram records the breach;
- ``statutory_deemed_accepted`` {rule, due}, right after it, when the rule deems an unanswered claim
  accepted (``pl-consumer-14d``): the shipped diagram ends the ordinary path (interrupting), gives a
  supervisor the task to honour the claim, sends the final response and closes.

Whatever the diagram catches, supervisors (and the holders of open tasks) are notified. The clock stops
once the complaint has its answer: when the first letter its rule counts as one goes out, e-mailed or posted
(``Complaint.answered_at``; a letter written but not yet sent does not stop it), or when it is closed or
withdrawn.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from ..extensions import db
from ..models import Complaint, Letter, WorkflowInstance
from ..models.base import utcnow
from .deadlines import RULES, ZONES, extension_of, working_days_before
from .driver import CLOSED_STATUSES, audit, settings
from .messages import deliver_if_caught
from .notify import notify_people

def runs(complaint: Complaint) -> bool:
    """Whether the complaint's statutory clock runs: it has no answer yet and is not closed or withdrawn."""
    return complaint.answered_at is None and complaint.status not in CLOSED_STATUSES


def moments(complaint: Complaint) -> tuple[datetime, datetime] | None:
    """When to warn (09:00 local, N working days before) and when the deadline is breached (the end
    of the due day, local time), both in UTC; None without a statutory deadline."""
    rule = RULES.get(complaint.statutory_rule or "")
    if rule is None or complaint.statutory_due_on is None:
        return None
    zone = ZONES[rule.jurisdiction]
    due = complaint.statutory_due_on
    warn_day = working_days_before(due, settings().statutory_warning_days, rule.jurisdiction)
    warn = datetime.combine(warn_day, time(9), zone).astimezone(timezone.utc)
    breach = datetime.combine(due + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
    return warn, breach


def arm(complaint: Complaint) -> None:
    """Set when the clock needs a look next (after triage, an extension or a tick)."""
    found = moments(complaint) if runs(complaint) else None
    if found is None:
        complaint.clock_next_at = None
        return
    warn, breach = found
    if complaint.statutory_warned_at is None and warn < breach:
        complaint.clock_next_at = warn
    elif complaint.statutory_breached_at is None:
        complaint.clock_next_at = breach
    else:
        complaint.clock_next_at = None


def restart_clock(complaint: Complaint) -> None:
    """A new deadline (counted at triage, or moved by an extension): its warning and breach are still to come."""
    complaint.statutory_warned_at = None
    complaint.statutory_breached_at = None
    arm(complaint)


def due_clocks(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Complaints whose clock needs a look (an indexed range read)."""
    now = now or utcnow()
    return list(db.session.scalars(select(Complaint.id).where(
        Complaint.clock_next_at.is_not(None), Complaint.clock_next_at <= now)
        .order_by(Complaint.clock_next_at).limit(limit)))


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
