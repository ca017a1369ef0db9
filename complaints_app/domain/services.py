"""What service tasks in the diagram can call, by ``camunda:topic``.

Each function gets the complaint, the acting user and the call (properties and task data) and returns
data to merge into the process. Functions flush; they never commit and never talk to the outside
world directly (e-mail and rendering are queued after the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable

from sqlalchemy import bindparam, insert, select

from ..extensions import db
from ..models import Compensation, Complaint, Letter, User
from ..models.base import utcnow
from ..workflow import ServiceCall, parse_duration
from .deadlines import RULES, receipt_date
from .deadlines import compute as compute_deadline
from .dispatch import after_commit


@dataclass
class ServiceContext:
    complaint: Complaint
    actor: User | None


ServiceFn = Callable[[ServiceContext, ServiceCall], dict | None]
SERVICES: dict[str, ServiceFn] = {}
WRITES: dict[str, Callable[[dict], tuple]] = {}  # the data keys a topic returns, given the task's properties
# Task properties whose value is a data key the app reads: the deploy check wants something to set it.
KEY_PROPERTIES = ("required_role_var", "authority_amount_var", "authority_currency_var", "duration_var")


def service(topic: str, writes: tuple | Callable[[dict], tuple] = ()):
    """Register ``fn`` for ``topic``; ``writes`` names the keys its result holds (for the deploy check)."""
    def register(fn: ServiceFn) -> ServiceFn:
        SERVICES[topic] = fn
        WRITES[topic] = writes if callable(writes) else (lambda properties: writes)
        return fn
    return register


def service_writes(topic: str, properties: dict) -> tuple:
    """The data keys a service task with these properties adds to the process (none for unknown topics)."""
    return tuple(WRITES[topic](properties)) if topic in WRITES else ()


class ServiceFailed(Exception):
    """A service could not do its work; the task becomes an incident."""


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@service("create_letter", writes=("last_letter_type",))
def create_letter(ctx: ServiceContext, call: ServiceCall):
    """Create the letter record for this step (one per step, however often it runs)."""
    letter_type = call.properties.get("letter_type")
    if not letter_type:
        raise ServiceFailed("create_letter needs the property letter_type")
    conn = db.session.connection()  # plain statements, built once: a letter is written on most moves
    existing = conn.execute(_LETTER_OF_STEP, {"complaint_id": ctx.complaint.id, "task_id": call.task_id}).first()
    if existing is None:
        keys = ("reference", "decision", "decision_reasons", "remedy", "compensation_amount",
                "compensation_approved", "currency", "statutory_rule", "fc_summary", "deemed_accepted")
        letter_id = conn.execute(_INSERT_LETTER, {
            "complaint_id": ctx.complaint.id, "task_id": call.task_id, "letter_type": letter_type,
            "language": ctx.complaint.language, "needs_review": call.properties.get("review") == "true",
            "context": {k: call.data.get(k) for k in keys if k in call.data}}).scalar_one()
        after_commit("render_letter", letter_id)
    return {"last_letter_type": letter_type}


LETTERS = Letter.__table__
_LETTER_OF_STEP = select(LETTERS.c.id).where(LETTERS.c.complaint_id == bindparam("complaint_id"),
                                             LETTERS.c.task_id == bindparam("task_id")).limit(1)
_INSERT_LETTER = insert(LETTERS).returning(LETTERS.c.id)


@service("apply_triage", writes=("statutory_due", "sla_resolution_due"))
def apply_triage(ctx: ServiceContext, call: ServiceCall):
    """Copy the triage decision (team, priority, statutory rule) onto the complaint."""
    missing = [k for k in ("team", "priority", "statutory_rule") if not call.data.get(k)]
    if missing:
        raise ServiceFailed(f"triage gave no {', '.join(missing)}")
    ctx.complaint.team = call.data["team"]
    ctx.complaint.priority = call.data["priority"]
    ctx.complaint.statutory_rule = call.data["statutory_rule"]
    from .clock import restart_clock  # the clock delivers messages through the driver

    if call.data.get("sla_resolution"):
        ctx.complaint.resolution_due_at = _working_time_after(ctx, ctx.complaint.received_at, call.data,
                                                              "sla_resolution")
    if ctx.complaint.statutory_rule not in RULES:  # e.g. "internal-sla": no statutory clock
        ctx.complaint.statutory_due_on = None
        ctx.complaint.clock_next_at = None
        return {"statutory_due": None, "sla_resolution_due": _iso(ctx.complaint.resolution_due_at)}
    received = receipt_date(ctx.complaint.received_at, ctx.complaint.jurisdiction)
    ctx.complaint.statutory_due_on = compute_deadline(ctx.complaint.statutory_rule, received).due
    restart_clock(ctx.complaint)  # a fresh clock (triage may run again on a redrawn diagram)
    return {"statutory_due": ctx.complaint.statutory_due_on.isoformat(),
            "sla_resolution_due": _iso(ctx.complaint.resolution_due_at)}


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


@service("business_due", writes=lambda properties: (properties.get("result_var") or "",))
def business_due(ctx: ServiceContext, call: ServiceCall):
    """When a duration of working time from now ends, by the complaint's business calendar (its team's in
    its country, else the country's): for a timeDate timer. Properties: ``duration_var`` (the data key
    holding the ISO duration, e.g. sla_first_contact) and ``result_var`` (where the ISO moment goes)."""
    duration_var, result_var = call.properties.get("duration_var"), call.properties.get("result_var")
    if not duration_var or not result_var:
        raise ServiceFailed("business_due needs the properties duration_var and result_var")
    return {result_var: _working_time_after(ctx, utcnow(), call.data, duration_var).isoformat()}


def _working_time_after(ctx: ServiceContext, start, data: dict, key: str):
    """``start`` plus the ISO duration in ``data[key]``, counted in the complaint's working hours."""
    from .calendars import calendar_for

    text = data.get(key)
    try:
        duration = parse_duration(str(text))
    except Exception:
        raise ServiceFailed(f"{key} = {text!r} is not an ISO duration such as PT16H") from None
    return calendar_for(ctx.complaint.jurisdiction, ctx.complaint.team).add_working_time(start, duration)


def _open_compensation(complaint: Complaint) -> Compensation | None:
    return db.session.scalar(select(Compensation).where(
        Compensation.complaint_id == complaint.id, Compensation.status == "proposed")
        .order_by(Compensation.id.desc()).limit(1))


@service("record_compensation_proposal", writes=("compensation_approved",))
def record_compensation_proposal(ctx: ServiceContext, call: ServiceCall):
    """Record the amount the investigator proposes; the proposer is the acting user."""
    previous = _open_compensation(ctx.complaint)
    if previous is not None:
        previous.status = "rejected"
        previous.decision_comment = "superseded by a new proposal"
    dmn = call.data.get("proposed_compensation")
    db.session.add(Compensation(
        complaint_id=ctx.complaint.id, currency=ctx.complaint.currency,
        proposed_amount=_money(call.data.get("compensation_amount")),
        dmn_proposed_amount=_money(dmn) if dmn is not None else None,
        proposed_by_id=ctx.actor.id if ctx.actor else None,
    ))
    db.session.flush()
    return {"compensation_approved": False}


@service("record_compensation_decision")
def record_compensation_decision(ctx: ServiceContext, call: ServiceCall):
    """Record the approver's decision on the open proposal."""
    compensation = _open_compensation(ctx.complaint)
    if compensation is None:
        raise ServiceFailed("there is no proposed compensation to decide on")
    approved = bool(call.data.get("compensation_approved"))
    compensation.status = "approved" if approved else "rejected"
    compensation.required_role = call.data.get("approval_role")
    compensation.decided_by_id = ctx.actor.id if ctx.actor else None
    compensation.approved_by_id = compensation.decided_by_id if approved else None
    compensation.decided_at = utcnow()
    compensation.decision_comment = call.data.get("approval_comment")
    return None


@service("record_payout")
def record_payout(ctx: ServiceContext, call: ServiceCall):
    compensation = db.session.scalar(select(Compensation).where(
        Compensation.complaint_id == ctx.complaint.id, Compensation.status == "approved")
        .order_by(Compensation.id.desc()).limit(1))
    if compensation is None:
        raise ServiceFailed("there is no approved compensation to pay")
    compensation.status = "paid"
    compensation.paid_at = utcnow()
    compensation.paid_by_id = ctx.actor.id if ctx.actor else None
    compensation.payout_reference = call.data.get("payout_reference")
    paid_on = call.data.get("paid_on")
    compensation.paid_on = date.fromisoformat(paid_on) if paid_on else None
    return None


@service("record_satisfaction")
def record_satisfaction(ctx: ServiceContext, call: ServiceCall):
    score = call.data.get("satisfaction_score")
    ctx.complaint.satisfaction_score = int(score) if score is not None else None
    ctx.complaint.satisfaction_comment = call.data.get("satisfaction_comment")
    return None
