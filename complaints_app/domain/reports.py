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
from sqlalchemy import func, select

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


def weekly(actor, today: date, zone: ZoneInfo, weeks: int = WEEKS) -> dict:
    """Per week received (the last ``weeks``, this one included): how many came by each channel, and of
    those under a statutory rule how many were answered in time, breached their deadline, or still run."""
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    mondays = [first + timedelta(weeks=i) for i in range(weeks)]
    rows = db.session.execute(visible_to(actor).with_only_columns(
        Complaint.received_at, Complaint.channel, Complaint.status, Complaint.statutory_rule,
        Complaint.statutory_breached_at, Complaint.answered_at).where(Complaint.received_at >= _start(first, zone)))
    received: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    statutory = {KEPT: [0] * weeks, BREACHED: [0] * weeks, STILL_RUNNING: [0] * weeks}
    for received_at, channel, status, rule, breached_at, answered_at in rows:
        week = (received_at.astimezone(zone).date() - first).days // 7
        if not 0 <= week < weeks:
            continue
        received[channel][week] += 1
        if rule is None or (status == "withdrawn" and breached_at is None):
            continue  # no deadline, or withdrawn before it: nothing to keep
        outcome = BREACHED if breached_at is not None else KEPT if answered_at is not None else STILL_RUNNING
        statutory[outcome][week] += 1
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
    rows = db.session.execute(select(Compensation.paid_at, Compensation.currency, Compensation.proposed_amount).where(
        Compensation.status == "paid", Compensation.paid_at >= _start(starts[0], zone),
        Compensation.complaint_id.in_(visible)))
    paid: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * months)
    for paid_at, currency, amount in rows:
        local = paid_at.astimezone(zone).date()
        index = (local.year - starts[0].year) * 12 + local.month - starts[0].month
        if 0 <= index < months:
            paid[currency][index] += amount
    return {"months": starts, "paid": {c: paid[c] for c in sorted(paid)}}
