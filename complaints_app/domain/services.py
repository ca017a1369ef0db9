"""What service tasks in the diagram can call, by ``camunda:topic``.

Each function gets the complaint, the acting user and the call (properties and task data) and returns
data to merge into the process. Functions flush; they never commit and never talk to the outside
world directly (e-mail and rendering are queued after the commit).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Callable

from flask import current_app
from sqlalchemy import Integer, bindparam, cast, exists, func, insert, select

from ..extensions import db
from ..models import Compensation, Complaint, HumanTask, ProcessDefinition, User
from ..models.base import utcnow
from ..workflow import ServiceCall, parse_duration
from .calendars import calendar_for
from .clock import restart_clock
from .deadline_extensions import check_extension, extend_deadline
from .deadlines import RULES, ZONES, receipt_date
from .deadlines import compute as compute_deadline
from .dispatch import after_commit
from .errors import DomainError
from .letters import LETTERS, next_number
from .this_transaction import last_completion


@dataclass
class ServiceContext:
    complaint: Complaint
    actor: User | None
    definition_id: int | None = None
    definition_key: str | None = None  # the version and its content: what the version's facts are cached by


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


# Facts of the process a letter is written from (never free text: that reaches a letter only from fields
# the diagram marks ``customer_facing``, see ``customer_facing_fields``).
LETTER_FACTS = ("reference", "decision", "compensation_amount", "compensation_approved", "currency",
                "statutory_rule", "deemed_accepted", "outside_time_limits", "expected_on", "fc_resolved")


@service("create_letter", writes=("last_letter_type",))
def create_letter(ctx: ServiceContext, call: ServiceCall):
    """Create the letter record for this step (one per step, however often it runs): the process's facts,
    and the texts of the fields the diagram marks for the customer. Properties: ``letter_type``;
    ``review=true`` to hold it until a person has read it; ``signed_by`` (a user task's id) to name the
    person who completed that task as the one answering (else whoever's step this is)."""
    letter_type = call.properties.get("letter_type")
    if not letter_type:
        raise ServiceFailed("create_letter needs the property letter_type")
    marked = customer_facing_fields(ctx)
    texts = {key: call.data[key] for key in marked if isinstance(call.data.get(key), str) and call.data[key]}
    signer_steps = [e.strip() for e in (call.properties.get("signed_by") or "").split(",") if e.strip()]
    actor_id = ctx.actor.id if ctx.actor else None
    if (latest := last_completion(ctx.complaint.id)) is not None and latest[0] in signer_steps:
        signer_steps, actor_id = [], latest[1]  # completed by this very move, so the latest completion
    connection = db.session.connection()
    letter_id = connection.execute(_insert_step_letter(connection.dialect.name), {
        "complaint_id": ctx.complaint.id, "task_id": call.task_id, "element_id": call.element_id,
        "letter_type": letter_type, "language": ctx.complaint.language, "status": "draft",
        "needs_review": call.properties.get("review") == "true", "created_at": utcnow(),
        "created_by_id": ctx.actor.id if ctx.actor else None, "actor_id": actor_id,
        "signer_steps": signer_steps or [""], "version": 1, "delivery_attempts": 0, "failed_attempts": 0,
        "context": {**{k: call.data.get(k) for k in LETTER_FACTS if k in call.data}, "texts": texts,
                    "text_labels": {key: marked[key] for key in texts}}}).scalar()
    if letter_id is not None:  # None: this step's letter was written before (the step ran again)
        after_commit("render_letter", letter_id)
    return {"last_letter_type": letter_type}


def customer_facing_fields(ctx: ServiceContext) -> dict[str, dict]:
    """The form fields of the complaint's process version that the diagram marks for the customer
    (``customer_facing=true``), each with its labels by language: only their text is ever quoted in a
    letter. Read once per version per process (a version never changes)."""
    cache = current_app.extensions.setdefault("complaints.customer_facing", {})
    key = ctx.definition_key or str(ctx.definition_id)
    if key not in cache:
        definition = db.session.get(ProcessDefinition, ctx.definition_id) if ctx.definition_id else None
        cache[key] = marked_fields((definition.elements if definition else None) or {})
    return cache[key]


def marked_fields(elements: dict) -> dict[str, dict]:
    """Fields with ``customer_facing=true`` in a version's elements, with their labels by language."""
    found = {}
    for element in elements.values():
        for field in element.get("form") or []:
            properties = field.get("properties") or {}
            if str(properties.get("customer_facing", "")).lower() == "true":
                labels = {name.split(":", 1)[1]: text for name, text in properties.items()
                          if name.startswith("label:") and text}
                found[field["id"]] = {"en": field.get("label") or field["id"], **labels}
    return found


_STEP_LETTER = ("complaint_id", "task_id", "element_id", "letter_type", "language", "status", "needs_review",
                "created_at", "created_by_id", "version", "delivery_attempts", "failed_attempts", "context")


@functools.cache
def _insert_step_letter(dialect: str):
    """One statement for a step's letter: written only if the step has none yet (a step run again after an
    incident writes nothing), numbered next within the complaint, signed by whoever last completed one of
    the ``signer_steps`` (else by ``actor_id``). The complaint's process row is locked by the move, so two
    letters never take the same number."""
    def value(name):
        param = bindparam(name, type_=LETTERS.c[name].type)
        # PostgreSQL types a parameter in a SELECT list by itself (a NULL would be text): say the column's.
        return cast(param, LETTERS.c[name].type) if dialect == "postgresql" and name != "context" else param
    tasks = HumanTask.__table__
    signer = (select(tasks.c.completed_by_id)
              .where(tasks.c.complaint_id == bindparam("complaint_id"),
                     tasks.c.element_id.in_(bindparam("signer_steps", expanding=True)),
                     tasks.c.state == "completed")
              .order_by(tasks.c.completed_at.desc()).limit(1).scalar_subquery())
    number = next_number("complaint_id")
    written = exists().where(LETTERS.c.complaint_id == bindparam("complaint_id"),
                             LETTERS.c.task_id == bindparam("task_id"))
    actor = cast(bindparam("actor_id", type_=Integer), Integer)
    rows = select(*[value(name) for name in _STEP_LETTER], number, func.coalesce(signer, actor)).where(~written)
    return insert(LETTERS).from_select([*_STEP_LETTER, "number", "signed_by_id"], rows).returning(LETTERS.c.id)


@service("apply_triage", writes=("statutory_due", "sla_resolution_due"))
def apply_triage(ctx: ServiceContext, call: ServiceCall):
    """Copy the triage decision (team, priority, statutory rule) onto the complaint."""
    missing = [k for k in ("team", "priority", "statutory_rule") if not call.data.get(k)]
    if missing:
        raise ServiceFailed(f"triage gave no {', '.join(missing)}")
    ctx.complaint.team = call.data["team"]
    ctx.complaint.priority = call.data["priority"]
    ctx.complaint.statutory_rule = call.data["statutory_rule"]
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


@service("summary_resolution_window", writes=("summary_resolution_possible",))
def summary_resolution_window(ctx: ServiceContext, call: ServiceCall):
    """Whether a UK complaint about a financial or payment service is resolved by close of business on the
    third business day after receipt (FCA DISP 1.5): then a summary resolution communication answers it
    instead of a final response. False for every other complaint."""
    complaint = ctx.complaint
    if complaint.jurisdiction != "GB" or complaint.regime not in ("financial", "payment_services"):
        return {"summary_resolution_possible": False}
    window = compute_deadline("uk-disp-summary-3bd", receipt_date(complaint.received_at, "GB")).due
    close = datetime.combine(window, time(17, 30), ZONES["GB"])
    return {"summary_resolution_possible": utcnow() <= close}


@service("extend_deadline", writes=("statutory_rule", "statutory_due"))
def extend_deadline_step(ctx: ServiceContext, call: ServiceCall):
    """Move the complaint to its rule's extension, writing the notice the law requires from the data keys
    ``delay_reasons``, ``circumstances`` (Poland: what is still to be established) and ``expected_on``."""
    try:
        check_extension(ctx.complaint, call.data.get("delay_reasons"), call.data.get("circumstances"),
                        call.data.get("expected_on"))
    except DomainError as err:
        raise ServiceFailed(f"the deadline cannot be extended: {err.message}") from None
    extend_deadline(ctx.actor, ctx.complaint, call.data.get("delay_reasons"), call.data.get("circumstances") or "",
                    call.data.get("expected_on"))
    return {"statutory_rule": ctx.complaint.statutory_rule,
            "statutory_due": ctx.complaint.statutory_due_on.isoformat()}


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
