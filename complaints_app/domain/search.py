"""Find complaints: the filtered list staff and supervisors browse and export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, or_, select, true, tuple_
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Complaint, Customer, HumanTask, Incident, Note, User
from ..models.base import MAX_ROW_ID, utcnow
from .access import SEE_ALL
from .deadlines import ZONES, next_working_day
from .errors import InvalidInput


@dataclass
class Filters:
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    jurisdiction: str | None = None
    overdue: bool = False
    stuck: bool = False  # stopped by a failed step (an open incident) until someone retries it
    received_from: date | None = None
    received_to: date | None = None
    text: str | None = None
    zone: str = "UTC"  # the time zone the received days are meant in


def visible_to(actor: User) -> Select:
    """Complaints ``actor`` may see, as a query (the same rules as ``access.can_view``)."""
    query = select(Complaint)
    if actor.has_role(*SEE_ALL):
        return query
    conditions = []
    if actor.has_role("supervisor", "staff"):
        conditions.append(Complaint.team == actor.team if actor.team else true())
        conditions.append(Complaint.team.is_(None))
    if actor.has_role("staff"):
        conditions.append(Complaint.created_by_id == actor.id)
    if actor.has_role("customer_centre"):
        conditions.append(exists().where(HumanTask.complaint_id == Complaint.id,
                                         HumanTask.role == "customer_centre"))
    # The complaints they were given or did a task of: two plain EXISTS, each answered by an index (one
    # EXISTS with an OR inside made PostgreSQL scan every task at a million complaints; an IN over the set
    # of a person's complaints, 144,000 for a busy supervisor, outgrew work_mem and was rescanned per row).
    conditions.append(exists().where(HumanTask.complaint_id == Complaint.id, HumanTask.assignee_id == actor.id))
    conditions.append(exists().where(HumanTask.complaint_id == Complaint.id, HumanTask.completed_by_id == actor.id))
    return query.where(or_(*conditions))


def matching(actor: User, filters: Filters, load_customers: bool = True) -> Select:
    """The complaints ``actor`` may see that pass ``filters``, newest first (their customers loaded with
    them unless ``load_customers`` is false)."""
    query = visible_to(actor)
    for column in ("status", "category", "channel", "jurisdiction"):
        value = getattr(filters, column)
        if value:
            query = query.where(getattr(Complaint, column) == value)
    zone = ZoneInfo(filters.zone)  # "from 1 Dec" is the reader's 1 December, not UTC's
    if filters.received_from:
        query = query.where(Complaint.received_at >= datetime.combine(filters.received_from, time(), zone))
    if filters.received_to:
        query = query.where(Complaint.received_at < datetime.combine(filters.received_to + timedelta(days=1),
                                                                     time(), zone))
    for word in (filters.text or "").split()[:8]:  # every word somewhere: "Kowalski Jan" finds Jan Kowalski
        customers = select(Customer.id).where(or_(*(column.icontains(word, autoescape=True) for column in (
            Customer.name, Customer.email, Customer.phone))))
        noted = exists().where(Note.complaint_id == Complaint.id, Note.body.icontains(word, autoescape=True))
        query = query.where(or_(*(column.icontains(word, autoescape=True) for column in (
            Complaint.reference, Complaint.description, Complaint.product)), Complaint.customer_id.in_(customers),
            noted))
    if filters.overdue:
        query = query.where(exists().where(and_(HumanTask.complaint_id == Complaint.id, HumanTask.state == "open",
                                                HumanTask.due_at < utcnow())))
    if filters.stuck:
        query = query.where(exists().where(Incident.complaint_id == Complaint.id, Incident.resolved_at.is_(None)))
    query = query.order_by(Complaint.received_at.desc(), Complaint.id.desc())
    return query.options(selectinload(Complaint.customer)) if load_customers else query


def stuck_among(complaint_ids: list[int]) -> set[int]:
    """Which of these complaints a failed step has stopped (an open incident waits for a retry)."""
    if not complaint_ids:
        return set()
    return set(db.session.scalars(select(Incident.complaint_id).where(
        Incident.complaint_id.in_(complaint_ids), Incident.resolved_at.is_(None)).distinct()))


def search(actor: User, filters: Filters, limit: int = 50, offset: int = 0) -> list[Complaint]:
    return list(db.session.scalars(matching(actor, filters).limit(limit).offset(offset)))


@dataclass(frozen=True)
class Cursor:
    """A place in the list (newest first): the received time and id of a complaint on it. Paging by cursor
    reads only the rows of the page shown, however deep it is (an offset reads every row before it)."""

    received_at: datetime
    complaint_id: int

    @classmethod
    def of(cls, complaint: Complaint) -> Cursor:
        return cls(complaint.received_at, complaint.id)

    @classmethod
    def parse(cls, text: str) -> Cursor:
        moment, _sep, number = (text or "").rpartition("~")
        try:
            received = datetime.fromisoformat(moment)
        except ValueError:
            received = None
        if received is None or received.tzinfo is None or not (number.isascii() and number.isdigit()) \
                or int(number) > MAX_ROW_ID:
            raise InvalidInput(_("this link to a page of the list is damaged; open the list again"))
        return cls(received, int(number))

    def __str__(self) -> str:
        return f"{self.received_at.isoformat()}~{self.complaint_id}"


def page_of(actor: User, filters: Filters, size: int = 50, after: Cursor | None = None,
            before: Cursor | None = None) -> tuple[list[Complaint], bool, bool]:
    """A page of ``matching``: the ``size`` complaints after (older than) ``after``, or before (newer than)
    ``before``, or the newest; with whether there are older and newer ones."""
    query = matching(actor, filters)
    key = tuple_(Complaint.received_at, Complaint.id)
    if before is not None:
        query = (query.where(key > tuple_(before.received_at, before.complaint_id)).order_by(None)
                 .order_by(Complaint.received_at, Complaint.id))
        rows = list(db.session.scalars(query.limit(size + 1)))
        newer = len(rows) > size
        return list(reversed(rows[:size])), True, newer
    if after is not None:
        query = query.where(key < tuple_(after.received_at, after.complaint_id))
    rows = list(db.session.scalars(query.limit(size + 1)))
    return rows[:size], len(rows) > size, after is not None


# What an export gives of each complaint: plain rows (no objects), the customer's contact joined in.
EXPORTED = (Complaint.reference, Complaint.status, Complaint.received_at, Customer.name.label("customer_name"),
            Customer.email.label("customer_email"), Customer.phone.label("customer_phone"), Complaint.channel,
            Complaint.category, Complaint.product, Complaint.claimed_amount, Complaint.currency,
            Complaint.jurisdiction, Complaint.regime, Complaint.team, Complaint.priority, Complaint.statutory_rule,
            Complaint.statutory_due_on, Complaint.resolution_due_at, Complaint.closed_at)


def every_match(actor: User, filters: Filters, batch: int = 2000) -> Iterator:
    """All the complaints ``matching`` gives, however many, as rows of ``EXPORTED`` read ``batch`` at a time
    (an export: memory stays flat)."""
    query = (matching(actor, filters, load_customers=False).with_only_columns(*EXPORTED)
             .join(Customer, Customer.id == Complaint.customer_id))
    yield from db.session.execute(query.execution_options(yield_per=batch))


OPEN_STATUSES = ("open", "escalated", "awaiting_customer")


def horizon(today: date, days: int, jurisdiction: str) -> date:
    """The day ``days`` working days after ``today`` in the jurisdiction (its weekends and public holidays)."""
    day = today
    for _day in range(days):
        day = next_working_day(day, jurisdiction)
    return day


def at_risk(actor: User, within_days: int = 3, today: date | None = None) -> list[tuple[Complaint, list[HumanTask]]]:
    """Unanswered complaints whose statutory deadline has passed or falls within ``within_days`` working days,
    the most urgent first, each with its open tasks (who holds it now)."""
    today = today or utcnow().date()
    window = or_(*[(Complaint.jurisdiction == country)
                   & (Complaint.statutory_due_on <= horizon(today, within_days, country)) for country in ZONES])
    query = visible_to(actor).where(Complaint.status.in_(OPEN_STATUSES), Complaint.statutory_due_on.is_not(None),
                                    window)
    complaints = list(db.session.scalars(query.options(joinedload(Complaint.customer))
                                         .order_by(Complaint.statutory_due_on, Complaint.id).limit(500)))
    tasks: dict[int, list[HumanTask]] = {c.id: [] for c in complaints}
    if complaints:
        for task in db.session.scalars(select(HumanTask).where(HumanTask.complaint_id.in_(tasks),
                                                               HumanTask.state == "open")):
            tasks[task.complaint_id].append(task)
    return [(c, tasks[c.id]) for c in complaints]
