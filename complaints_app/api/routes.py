"""API routes: parse -> authorize -> call the operation -> respond (the door, ``unit_of_work``, commits)."""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError

from ..auth import expired_token, token_user
from ..domain import duplicates
from ..domain import tasks as task_ops
from ..domain.access import require_view
from ..domain.complaints import Intake, get_complaint, register_complaint, registered_before
from ..domain.customers import customer_for
from ..domain.deadlines import compute as compute_deadline
from ..domain.deadlines import parse_received
from ..domain.addresses import clean_address
from ..domain.messages import available_messages, send_message
from ..domain.notes import add_note, notes_of
from ..domain.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from ..extensions import db
from ..domain.search import Cursor, Filters, page_of, search
from ..domain.views import complaint_story, usernames
from ..models import Complaint, Customer, HumanTask
from ..models.complaints import CATEGORIES, CHANNELS, JURISDICTIONS, STATUSES
from .openapi import api_doc, build_document
from .schemas import (
    CompensationOut,
    DeadlineOut,
    ComplaintIn,
    ComplaintListOut,
    ComplaintOut,
    ComplaintSummaryOut,
    CompleteIn,
    EventOut,
    IncidentOut,
    LetterOut,
    MessageIn,
    MessageOut,
    NoteIn,
    NoteOut,
    TaskListOut,
    TaskOut,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError):
    body = {"error": {"code": err.code, "message": err.message, "details": err.details}}
    return jsonify(body), err.status, ({"Retry-After": "1"} if err.code == "unavailable" else {})


# App-wide, so that a URL under /api/ that matches no route (``/api/v1/incidents/abc/retry``) answers in JSON
# too; every other path keeps its page.
@bp.app_errorhandler(404)
def _not_found(err):
    if not request.path.startswith(bp.url_prefix + "/"):
        return render_template("error.html", message=_("There is no such page."), status=404), 404
    return jsonify({"error": {"code": "not_found", "message": "no such resource", "details": {}}}), 404


@bp.app_errorhandler(405)
def _bad_method(err):
    if not request.path.startswith(bp.url_prefix + "/"):
        return render_template("error.html", message=_("This page cannot be opened that way: go back and use "
                                                        "its buttons."), status=405), 405
    return jsonify({"error": {"code": "method_not_allowed", "message": str(err), "details": {}}}), 405


@bp.errorhandler(OperationalError)
def _database_busy(err):
    """The database could not take the request before its view ran (signing in): nothing was changed, and
    the client may retry. (Inside a view the door turns this into ``Unavailable``.)"""
    body = {"error": {"code": "unavailable", "message": "the database is busy or unreachable; nothing was "
                      "changed, retry in a moment", "details": {}}}
    return jsonify(body), 503, {"Retry-After": "1"}


def _json_body(model: type[BaseModel]):
    payload = request.get_json(silent=True)
    if payload is None:
        raise InvalidInput("send a JSON object with Content-Type: application/json")
    try:
        return model.model_validate(payload)
    except ValidationError as err:
        fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in err.errors()}
        raise InvalidInput("the request has errors", {"fields": fields}) from None


def _paging(args, default: int, most: int) -> tuple[int, int]:
    """``limit`` (1 to ``most``) and ``offset`` from the query, checked."""
    limit, offset = args.get("limit", str(default)), args.get("offset", "0")
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= most):
        raise InvalidInput(f"limit is a whole number from 1 to {most}")
    if not (offset.isascii() and offset.isdigit() and int(offset) <= 10**9):
        raise InvalidInput("offset is a whole number from 0")
    return int(limit), int(offset)


def authenticated(view):
    """The view acts as the bearer token's user; a browser's session cookie is not enough (``auth``)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if token_user() is None:
            expired = expired_token(request.headers.get("Authorization", ""))
            raise Unauthenticated(f"the token expired at {expired.isoformat()}; ask an administrator for a new one"
                                  if expired else "send Authorization: Bearer <token>")
        return view(*args, **kwargs)
    return wrapper


def task_out(task: HumanTask, reference: str | None = None, names: dict | None = None) -> dict:
    if names is None:  # most often the caller's own task: no read for their name
        names = ({current_user.id: current_user.username} if task.assignee_id in (None, current_user.id)
                 else usernames([task.assignee_id]))
    return TaskOut(
        id=task.id, complaint=reference or task_complaint_ref(task), name=task.name, element_id=task.element_id,
        lane=task.lane, role=task.role, state=task.state, assignee=names.get(task.assignee_id),
        created_at=task.created_at, due_at=task.due_at, form=task.form, context=task.context or {},
    ).model_dump(mode="json")


def task_complaint_ref(task: HumanTask) -> str:
    return db.session.get(Complaint, task.complaint_id).reference


def customer_out(customer: Customer) -> dict:
    address = ({key: getattr(customer, key) for key in ("street", "postcode", "city", "country")}
               if customer.has_postal_address else None)
    return {"name": customer.name, "email": customer.email, "phone": customer.phone, "title": customer.title,
            "given_name": customer.given_name, "family_name": customer.family_name, "address": address}


def complaint_out(complaint) -> dict:
    story = complaint_story(complaint)
    notes = notes_of(complaint)
    names = {**story["names"], **usernames([n.author_id for n in notes.values()])}
    return ComplaintOut(
        reference=complaint.reference, status=complaint.status, channel=complaint.channel,
        category=complaint.category, product=complaint.product, description=complaint.description,
        claimed_amount=complaint.claimed_amount, currency=complaint.currency, language=complaint.language,
        jurisdiction=complaint.jurisdiction, regime=complaint.regime, team=complaint.team,
        priority=complaint.priority, statutory_rule=complaint.statutory_rule, received_at=complaint.received_at,
        customer=customer_out(complaint.customer),
        answer_by=complaint.answer_by, answered_at=complaint.answered_at,
        notes=[NoteOut(id=n.id, body=n.body, author=names.get(n.author_id), created_at=n.created_at)
               for n in notes.values()],
        process_version=story["instance"].definition.version if story["instance"] else None,
        tasks=[TaskOut.model_validate(task_out(t, complaint.reference, names)) for t in story["tasks"]],
        history=[EventOut(at=e.at, kind=e.kind, actor=names.get(e.actor_id), element_id=e.element_id,
                          element_name=e.element_name, data=e.data) for e in story["history"]],
        letters=[LetterOut.model_validate(letter, from_attributes=True) for letter in story["letters"]],
        compensations=[CompensationOut(
            id=c.id, status=c.status, currency=c.currency, proposed_amount=c.proposed_amount,
            approved_by=names.get(c.approved_by_id), proposed_by=names.get(c.proposed_by_id),
            payout_reference=c.payout_reference) for c in story["compensations"]],
        incidents=[IncidentOut.model_validate(i, from_attributes=True) for i in story["incidents"]],
        messages=[MessageOut(name=m.name, element_id=m.element_id, element_name=m.element_name,
                             interrupting=m.interrupting) for m in available_messages(current_user, complaint)],
        possible_duplicate_of=_reference_of(complaint.possible_duplicate_id),
        merged_into=_reference_of(complaint.merged_into_id),
    ).model_dump(mode="json")


def _reference_of(complaint_id: int | None) -> str | None:
    return db.session.get(Complaint, complaint_id).reference if complaint_id else None


@bp.get("/openapi.json")
@api_doc("This document")
def openapi():
    return jsonify(build_document())


@bp.post("/complaints")
@authenticated
@api_doc("Register a complaint and start its process", body=ComplaintIn, response=ComplaintOut, status=201,
         headers={"Idempotency-Key": "Makes a retry safe: the same key and body again give the complaint registered "
                                     "the first time (200); the same key with another body is refused (409)."},
         also={200: "Registered before with this Idempotency-Key (header Idempotent-Replayed: true)"})
def create_complaint():
    """With an ``Idempotency-Key`` header, sending the same registration again (a timeout, a retry) gives the
    complaint registered the first time (200, ``Idempotent-Replayed: true``), never a second one."""
    body = _json_body(ComplaintIn)
    key = request.headers.get("Idempotency-Key")
    intake = Intake.of(key, request.get_json()) if key is not None else None
    # The same key registered at the same moment by another request: this one loses the race on the key and,
    # run again by the door, finds that one and answers with it.
    if intake and (earlier := registered_before(current_user, intake)) is not None:
        return _replayed(earlier)
    complaint = _register(body, intake)
    return jsonify(complaint_out(complaint)), 201


def _register(body: ComplaintIn, intake: Intake | None) -> Complaint:
    given = body.customer
    chosen = None
    if given.id is not None:
        chosen = db.session.get(Customer, given.id)
        if chosen is None:
            raise NotFound(f"no customer {given.id}")
    address = None
    if given.address is not None:
        try:
            address = clean_address(given.address.street, given.address.postcode, given.address.city,
                                    given.address.country)
        except InvalidInput as err:
            raise InvalidInput("the request has errors", {"fields": {
                f"customer.address.{part}": message for part, message in err.details["address"].items()}}) from None
    if body.answer_by == "email" and not given.email:
        raise InvalidInput("the request has errors", {"fields": {
            "answer_by": "answers by e-mail need the customer's e-mail address"}})
    details = {"title": given.title, "given_name": given.given_name, "family_name": given.family_name,
               **(vars(address) if address else {})}
    customer, changed = customer_for(current_user, given.name, given.email, given.phone, body.language,
                                     details=details, chosen=chosen, same_as=given.id, update=given.update_details)
    return register_complaint(
        current_user, customer=customer, channel=body.channel, category=body.category,
        description=body.description, product=body.product, claimed_amount=body.claimed_amount,
        currency=body.currency, language=body.language, jurisdiction=body.jurisdiction, regime=body.regime,
        received_at=body.received_at, customer_changes=changed, intake=intake, answer_by=body.answer_by,
        quote_description=body.quote_description, check_duplicates=intake is None)


def _replayed(complaint: Complaint):
    return jsonify(complaint_out(complaint)), 200, {"Idempotent-Replayed": "true"}


@bp.get("/complaints")
@authenticated
@api_doc("Complaints the caller may see, newest first, filtered", response=ComplaintListOut, query={
    "status": "one of " + ", ".join(STATUSES), "category": "one of " + ", ".join(CATEGORIES),
    "channel": "one of " + ", ".join(CHANNELS), "jurisdiction": "one of " + ", ".join(JURISDICTIONS),
    "q": "words found in the reference, description, product or the customer's name, e-mail or phone",
    "from": "received on or after this day (YYYY-MM-DD, UTC)", "to": "received on or before this day (UTC)",
    "overdue": "1: only those with an overdue task",
    "stuck": "1: only those a failed step stopped (an open incident)",
    "limit": "at most 200 (50 by default)",
    "after": "the next_after of the page before: the next page, read by cursor (fast however deep)",
    "offset": "paging by position (slower the deeper it goes; prefer after)"})
def list_complaints():
    filters, limit, offset = _complaint_filters(request.args)
    after = request.args.get("after")
    if after is not None:
        if offset:
            raise InvalidInput("give after or offset, not both")
        rows, older, _newer = page_of(current_user, filters, limit, after=Cursor.parse(after))
        rows = rows + ([None] if older else [])  # as the offset read: one more than the page says there is more
    else:
        rows = search(current_user, filters, limit + 1, offset)
    more = len(rows) > limit
    return jsonify(ComplaintListOut(complaints=[ComplaintSummaryOut(
        reference=c.reference, status=c.status, received_at=c.received_at, customer=c.customer.name,
        channel=c.channel, category=c.category, product=c.product, claimed_amount=c.claimed_amount,
        currency=c.currency, jurisdiction=c.jurisdiction, team=c.team, priority=c.priority,
        statutory_due_on=c.statutory_due_on) for c in rows[:limit]],
        next_offset=offset + limit if more and after is None else None,
        next_after=str(Cursor.of(rows[limit - 1])) if more else None).model_dump(mode="json"))


def _complaint_filters(args) -> tuple[Filters, int, int]:
    """The list's query parameters, each checked: a value the API does not know is a 400, not ignored."""
    chosen = {}
    for name, values in (("status", STATUSES), ("category", CATEGORIES), ("channel", CHANNELS),
                         ("jurisdiction", JURISDICTIONS)):
        value = args.get(name)
        if value is not None and value not in values:
            raise InvalidInput(f"{name} is one of {', '.join(values)}", {"fields": {name: "unknown value"}})
        chosen[name] = value
    days = {}
    for name in ("from", "to"):
        try:
            days[name] = date.fromisoformat(args[name]) if args.get(name) else None
        except ValueError:
            raise InvalidInput(f"{name} is a day written YYYY-MM-DD", {"fields": {name: "not a day"}}) from None
    for flag in ("overdue", "stuck"):
        if args.get(flag) not in (None, "0", "1"):
            raise InvalidInput(f"{flag} is 1 or 0", {"fields": {flag: "not 1 or 0"}})
    limit, offset = _paging(args, default=50, most=200)
    text = args.get("q") or None
    if text is not None and len(text) > 100:
        raise InvalidInput("q is at most 100 characters")
    return Filters(**chosen, overdue=args.get("overdue") == "1", stuck=args.get("stuck") == "1",
                   received_from=days["from"], received_to=days["to"], text=text), limit, offset


@bp.get("/complaints/<reference>")
@authenticated
@api_doc("A complaint: status, current tasks, history, letters, compensation, incidents", response=ComplaintOut)
def complaint_detail(reference):
    complaint = get_complaint(reference)
    require_view(current_user, complaint)
    return jsonify(complaint_out(complaint))


@bp.post("/complaints/<reference>/messages")
@authenticated
@api_doc("Record a message the process waits for (e.g. complaint_withdrawn) with its reason; the process runs on",
         body=MessageIn, response=ComplaintOut)
def post_message(reference):
    body = _json_body(MessageIn)
    complaint = get_complaint(reference)
    send_message(current_user, complaint, body.name, body.reason)
    return jsonify(complaint_out(complaint))


@bp.post("/complaints/<reference>/duplicate/keep")
@authenticated
@api_doc("A possible duplicate is a complaint of its own: the mark goes from both", response=ComplaintOut)
def keep_duplicate(reference):
    complaint = get_complaint(reference)
    duplicates.keep_both(current_user, complaint)
    return jsonify(complaint_out(complaint))


@bp.post("/complaints/<reference>/duplicate/merge")
@authenticated
@api_doc("A possible duplicate is the same complaint as the other: its process ends, its open tasks are cancelled, "
         "its unsent letters withdrawn; status merged", response=ComplaintOut)
def merge_duplicate(reference):
    complaint = get_complaint(reference)
    duplicates.merge(current_user, complaint)
    return jsonify(complaint_out(complaint))


@bp.post("/complaints/<reference>/notes")
@authenticated
@api_doc("Add an internal note (for staff only: never shown, quoted or sent to the customer)", body=NoteIn,
         response=ComplaintOut, status=201)
def post_note(reference):
    body = _json_body(NoteIn)
    complaint = get_complaint(reference)
    add_note(current_user, complaint, body.body)
    return jsonify(complaint_out(complaint)), 201


@bp.get("/tasks")
@authenticated
@api_doc("Open tasks", response=TaskListOut,
         query={"scope": "mine (default), available (unassigned, my roles) or team (supervisors)",
                "limit": "at most 500", "offset": "paging"})
def list_tasks():
    limit, offset = _paging(request.args, default=100, most=500)
    tasks = task_ops.list_tasks(current_user, request.args.get("scope", "mine"), limit, offset)
    return jsonify({"tasks": [task_out(task, complaint.reference) for task, complaint in tasks]})


@bp.get("/tasks/<task_id>")
@authenticated
@api_doc("One task with its form", response=TaskOut)
def task_detail(task_id):
    return jsonify(task_out(task_ops.get_task(current_user, task_id)))


@bp.post("/tasks/<task_id>/claim")
@authenticated
@api_doc("Claim a task", response=TaskOut)
def claim_task(task_id):
    task, complaint = task_ops.claim(current_user, task_id)
    return jsonify(task_out(task, complaint.reference))


@bp.post("/tasks/<task_id>/unclaim")
@authenticated
@api_doc("Give a claimed task back", response=TaskOut)
def unclaim_task(task_id):
    task, complaint = task_ops.unclaim(current_user, task_id)
    return jsonify(task_out(task, complaint.reference))


@bp.post("/tasks/<task_id>/complete")
@authenticated
@api_doc("Complete a task with its form data; the process runs on", body=CompleteIn, response=TaskOut)
def complete_task(task_id):
    body = _json_body(CompleteIn)
    task = task_ops.complete_task(current_user, task_id, body.data)
    return jsonify(task_out(task))


@bp.post("/incidents/<int:incident_id>/retry")
@authenticated
@api_doc("Retry the failed step of an incident", response=IncidentOut)
def retry_incident(incident_id):
    incident = task_ops.retry_incident(current_user, incident_id)
    return jsonify(IncidentOut.model_validate(incident, from_attributes=True).model_dump(mode="json"))


@bp.get("/deadlines")
@authenticated
@api_doc("A statutory deadline and its reasoning (each day skipped and why)", response=DeadlineOut,
         query={"rule": "a rule id such as pl-consumer-14d", "received": "the day of receipt, YYYY-MM-DD"})
def deadline():
    result = compute_deadline(request.args.get("rule", ""), parse_received(request.args.get("received", "")))
    return jsonify(DeadlineOut.model_validate(result.as_dict()).model_dump(mode="json"))
