"""The statutory clock's arithmetic: when a complaint's deadline warns (some working days before) and when it is
breached, and when the clock needs its next look (``Complaint.clock_next_at``, one indexed column, moved by
triage and extensions). What happens at those moments, telling the diagram and the people, is
``clock_tick.tick``.

The clock stops once the complaint has its answer: when the first letter its rule counts as one goes out,
e-mailed or posted (``Complaint.answered_at``; a letter written but not yet sent does not stop it), or when it
is closed or withdrawn.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from ..config import current_settings
from ..extensions import db
from ..models import Complaint
from ..models.base import utcnow
from ..models.complaints import CLOSED_STATUSES
from .deadlines import RULES, ZONES, working_days_before

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
    warn_day = working_days_before(due, current_settings().statutory_warning_days, rule.jurisdiction)
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
