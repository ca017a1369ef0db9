"""What supervisors, managers, process owners and admins read at a glance: complaints received per week by
channel, how the statutory deadlines of those weeks were kept, what is open now by team and status, and the
compensation paid per month. Every figure counts only the complaints the reader may see (``visible_to``);
weeks (Monday first) and months are the reader's, in ``zone``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Compensation, Complaint
from .search import OPEN_STATUSES, visible_to
from .terms import TERMS

WEEKS = 12
MONTHS = 6
KEPT, BREACHED, STILL_RUNNING = "kept", "breached", "running"


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def _ordered(found, known) -> list[str]:
    """``found`` keys, those of a known vocabulary first in its order, then any other alphabetically."""
    return [k for k in known if k in found] + sorted(k for k in found if k not in known)


def _bucket(column, starts: list[datetime]):
    """Which of the periods beginning at ``starts`` (and ending at the next) ``column`` falls in, counted in
    SQL: the reader's weeks and months have their own lengths (summer time), so they are given as moments."""
    return case(*[(column < start, index - 1) for index, start in enumerate(starts[1:], start=1)],
                else_=len(starts) - 1)


# Of a complaint under a statutory rule: answered in time, breached, or still running; None when there is
# nothing to keep (no rule, or withdrawn before its deadline).
_OUTCOME = case((Complaint.statutory_rule.is_(None), None),
                ((Complaint.status == "withdrawn") & Complaint.statutory_breached_at.is_(None), None),
                (Complaint.statutory_breached_at.is_not(None), BREACHED),
                (Complaint.answered_at.is_not(None), KEPT), else_=STILL_RUNNING)


def weekly(actor, today: date, zone: ZoneInfo, weeks: int = WEEKS) -> dict:
    """Per week received (the last ``weeks``, this one included): how many came by each channel, and of
    those under a statutory rule how many were answered in time, breached their deadline, or still run.
    Counted by the database (a few dozen rows come back, however many complaints)."""
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    mondays = [first + timedelta(weeks=i) for i in range(weeks)]
    week = _bucket(Complaint.received_at, [_start(monday, zone) for monday in mondays]).label("week")
    outcome = _OUTCOME.label("outcome")
    rows = db.session.execute(visible_to(actor).with_only_columns(week, Complaint.channel, outcome, func.count())
                              .where(Complaint.received_at >= _start(first, zone),
                                     Complaint.received_at < _start(mondays[-1] + timedelta(weeks=1), zone))
                              .group_by(week, Complaint.channel, outcome))
    received: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    statutory = {KEPT: [0] * weeks, BREACHED: [0] * weeks, STILL_RUNNING: [0] * weeks}
    for index, channel, kept, number in rows:
        received[channel][index] += number
        if kept is not None:
            statutory[kept][index] += number
    return {"weeks": mondays,
            "received": {c: received[c] for c in _ordered(received, TERMS["channel"])},
            "statutory": statutory}


def open_by_team(actor) -> dict:
    """Complaints open now (no final outcome yet), per team and status."""
    counts = db.session.execute(visible_to(actor).with_only_columns(
        Complaint.team, Complaint.status, func.count()).where(Complaint.status.in_(OPEN_STATUSES))
        .group_by(Complaint.team, Complaint.status)).all()
    teams = _ordered({team or "" for team, _status, _n in counts}, TERMS["team"])
    by_status: dict[str, list[int]] = {s: [0] * len(teams) for s in OPEN_STATUSES}
    for team, status, number in counts:
        by_status[status][teams.index(team or "")] += number
    return {"teams": teams, "statuses": {s: n for s, n in by_status.items() if any(n)}}


def paid_by_month(actor, today: date, zone: ZoneInfo, months: int = MONTHS) -> dict:
    """Compensation paid per month (the last ``months``, this one included), summed per currency."""
    starts = [today.replace(day=1) - relativedelta(months=n) for n in range(months - 1, -1, -1)]
    visible = visible_to(actor).with_only_columns(Complaint.id)
    month = _bucket(Compensation.paid_at, [_start(start, zone) for start in starts]).label("month")
    rows = db.session.execute(select(month, Compensation.currency, func.sum(Compensation.proposed_amount)).where(
        Compensation.status == "paid", Compensation.paid_at >= _start(starts[0], zone),
        Compensation.complaint_id.in_(visible)).group_by(month, Compensation.currency))
    paid: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * months)
    for index, currency, amount in rows:
        paid[currency][index] += Decimal(str(amount)).quantize(Decimal("0.01"))
    return {"months": starts, "paid": {c: paid[c] for c in sorted(paid)}}
