"""Work on tasks: list, claim, complete; fire timers; retry incidents."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, or_, select
from sqlalchemy.orm import joinedload

from flask_babel import gettext as _

from ..extensions import db
from ..models import Complaint, HumanTask, Incident, User, WorkflowInstance
from ..models.base import utcnow
from ..models.complaints import CLOSED_STATUSES
from ..workflow import TaskNotOpen
from .access import may_work, require_role, require_view
from .audit import audit
from .deadline_extensions import check_extension
from .driver import load, open_run, save, with_process
from .errors import Conflict, Forbidden, NotFound
from .forms import clean_form
from .letters import apply_review
from .terms import term
from .this_transaction import completing

SCOPES = ("mine", "available", "team")


SORTS = {
    "due": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at),
    "oldest": (HumanTask.created_at,),
    "newest": (HumanTask.created_at.desc(),),
    "priority": (case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Complaint.priority, else_=4),
                 HumanTask.due_at.is_(None), HumanTask.due_at),
}


def list_tasks(actor: User, scope: str = "mine", limit: int = 100, offset: int = 0, *,
               priority: str | None = None, overdue: bool = False, sort: str = "due",
               role: str | None = None) -> list[tuple[HumanTask, Complaint]]:
    """Open tasks with their complaints, most urgent first: assigned to me; unassigned for my roles;
    or my teams' (supervisors)."""
    query = (select(HumanTask, Complaint).join(Complaint, Complaint.id == HumanTask.complaint_id)
             .where(HumanTask.state == "open").options(joinedload(Complaint.customer)))
    if scope == "mine":
        query = query.where(HumanTask.assignee_id == actor.id)
    elif scope == "available":
        query = query.where(HumanTask.assignee_id.is_(None), HumanTask.role.in_(actor.roles))
        if actor.team and not actor.has_role("customer_centre", "admin", "process_owner"):
            query = query.where(or_(Complaint.team == actor.team, Complaint.team.is_(None)))
    elif scope == "team":
        require_role(actor, "supervisor", "admin", "process_owner")
        if actor.team and not actor.has_role("admin", "process_owner"):
            query = query.where(or_(Complaint.team == actor.team, Complaint.team.is_(None)))
    else:
        raise NotFound(_("no task list “%(scope)s”; use one of %(scopes)s", scope=scope, scopes=", ".join(SCOPES)))
    if role:
        query = query.where(HumanTask.role == role)
    if priority:
        query = query.where(Complaint.priority == priority)
    if overdue:
        query = query.where(HumanTask.due_at < utcnow())
    order = SORTS.get(sort, SORTS["due"])
    # The page's tasks chosen by their keys alone, then read whole: sorting thousands of open tasks with
    # their forms (JSON) made PostgreSQL sort on disk at a million complaints.
    ids = list(db.session.scalars(query.with_only_columns(HumanTask.id).order_by(*order)
                                  .limit(min(limit, 500)).offset(offset)))
    if not ids:
        return []
    found = {task.id: (task, complaint) for task, complaint in db.session.execute(
        query.where(HumanTask.id.in_(ids)))}
    return [found[task_id] for task_id in ids if task_id in found]


def get_task(actor: User, task_id: str) -> HumanTask:
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(_("no task %(id)s", id=task_id))
    require_view(actor, db.session.get(Complaint, task.complaint_id))
    return task


_TASK = select(HumanTask, Complaint).join(Complaint, Complaint.id == HumanTask.complaint_id).where(
    HumanTask.id == bindparam("task_id"))
_TASK_TO_CLAIM = _TASK.with_for_update(of=HumanTask).execution_options(populate_existing=True)
_TASK_TO_MOVE = with_process(_TASK)


def _open_task(actor: User, task_id: str, lock: bool = False) -> tuple[HumanTask, Complaint]:
    return _open_row(actor, task_id, _TASK_TO_CLAIM if lock else _TASK)


def _open_row(actor: User, task_id: str, query) -> tuple:
    """The open task's row (task, complaint, then whatever ``query`` adds), after the checks every door
    makes: the actor may see the complaint, it is not closed, the task is open."""
    row = db.session.execute(query, {"task_id": task_id}).first()
    if row is None:
        raise NotFound(_("no task %(id)s", id=task_id))
    task, complaint = row[0], row[1]
    require_view(actor, complaint, task)
    if complaint.status in CLOSED_STATUSES:
        raise Conflict(_("complaint %(reference)s is %(status)s; its tasks are closed", reference=complaint.reference, status=complaint.status))
    if task.state != "open":
        raise Conflict(_("task “%(task)s” is already %(state)s", task=task.name, state=task.state))
    return row


def claim(actor: User, task_id: str) -> tuple[HumanTask, Complaint]:
    """Take an open task; the task and its complaint."""
    task, complaint = _open_task(actor, task_id, lock=True)
    if task.assignee_id == actor.id:
        return task, complaint
    reason = may_work(actor, task)
    if reason:
        raise Forbidden(reason) if task.assignee_id is None else Conflict(reason)
    task.assignee_id = actor.id
    audit(complaint, "task_claimed", actor, element_id=task.element_id, element_name=task.name, task_id=task.id)
    db.session.flush()
    return task, complaint


def unclaim(actor: User, task_id: str) -> tuple[HumanTask, Complaint]:
    """Give a task back to its lane; the task and its complaint."""
    task, complaint = _open_task(actor, task_id, lock=True)
    if task.assignee_id != actor.id and not actor.has_role("supervisor", "admin"):
        raise Forbidden(_("only the assignee or a supervisor can release this task"))
    task.assignee_id = None
    audit(complaint, "task_unclaimed", actor, element_id=task.element_id, element_name=task.name, task_id=task.id)
    db.session.flush()
    return task, complaint


def reassign(actor: User, task_id: str, assignee: User) -> HumanTask:
    require_role(actor, "supervisor", "admin")
    task, complaint = _open_task(actor, task_id, lock=True)
    if not assignee.is_active or not assignee.has_role(task.role or ""):
        raise Conflict(_("%(name)s cannot work this task (it needs the role %(role)s)", name=assignee.username, role=task.role))
    task.assignee_id = assignee.id
    audit(complaint, "task_reassigned", actor, element_id=task.element_id, element_name=task.name,
          task_id=task.id, data={"assignee": assignee.username})
    db.session.flush()
    return task


def complete_task(actor: User, task_id: str, submitted: dict) -> HumanTask:
    """Complete an open task with its form data and run the process on to its next wait."""
    # The task, its complaint and the process in one read, the process row locked: that lock serialises
    # moves, and the state it reads is the one after any other's.
    row = _open_row(actor, task_id, _TASK_TO_MOVE)
    task, complaint = row[0], row[1]
    reason = may_work(actor, task)
    if reason:
        raise Forbidden(reason)
    instance, run = open_run(complaint, actor, row[2:])
    try:
        current = run.task_data(task.id)
        values = clean_form(task.form, submitted, current)
        _check_rules(actor, complaint, task, {**current, **values})
        if task.properties.get("checks_extension") == "true" and values.get("extend") is True:
            check_extension(complaint, values.get("delay_reasons"), values.get("circumstances"),
                            values.get("expected_on"))
        if task.properties.get("review_letter"):
            apply_review(actor, complaint, task.properties["review_letter"], values.get("letter_approved") is True,
                         values.get("review_comment"))
        completing(complaint.id, task.element_id, actor.id)
        result = run.complete(task.id, values)
    except TaskNotOpen:  # someone completed it (or the process moved on) while we waited for the lock
        raise Conflict(_("task “%(task)s” is no longer open", task=task.name)) from None
    # Written with the tasks the move opens. The process row's lock version (checked by ``save``) and the
    # engine's own task state stand guard against a second completion.
    done = {"state": "completed", "completed_at": utcnow(), "completed_by_id": actor.id,
            "assignee_id": task.assignee_id or actor.id, "next_reminder_at": None}
    completed = {"kind": "task_completed", "element_id": task.element_id, "element_name": task.name,
                 "element_type": "UserTask", "task_id": task.id, "data": values}
    save(complaint, instance, run, result, actor, first=completed, done=(task, done))
    return task


def blocked_reason(actor: User, task: HumanTask) -> str | None:
    """Why ``actor`` could not complete ``task`` now, judged before they fill in its form: the role, the
    assignee, and the diagram's rules on the data the task opened with (the decision's role, the
    authority limit, four eyes). None when nothing stands in the way."""
    complaint = db.session.get(Complaint, task.complaint_id)
    if complaint.status in CLOSED_STATUSES:
        return _("the complaint is withdrawn") if complaint.status == "withdrawn" else _("the complaint is closed")
    reason = may_work(actor, task)
    if reason:
        return reason
    try:
        _check_rules(actor, complaint, task, task.context or {})
    except Forbidden as err:
        return err.message
    return None


def _check_rules(actor: User, complaint: Complaint, task: HumanTask, data: dict) -> None:
    """Rules the diagram puts on a task: required role, authority limit, four eyes."""
    props = task.properties or {}
    role_var = props.get("required_role_var")
    if role_var:
        role = data.get(role_var)
        if not role or not actor.has_role(role):
            raise Forbidden(_("this decision needs the role %(role)s", role=term("role", role)))
    amount_var = props.get("authority_amount_var")
    if amount_var:
        currency = data.get(props.get("authority_currency_var") or "currency") or complaint.currency
        amount = Decimal(str(data.get(amount_var) or 0))
        limit = actor.limit_for(currency)
        if limit is None or amount > limit:
            have = f"{limit} {currency}" if limit is not None else _("no limit in %(currency)s", currency=currency)
            raise Forbidden(_("%(amount)s %(currency)s is above your authority limit (%(limit)s)",
                              amount=format(amount, ".2f"), currency=currency, limit=have))
    for element_id in filter(None, (props.get("four_eyes_with") or "").split(",")):
        last = db.session.scalar(select(HumanTask.completed_by_id).where(
            HumanTask.complaint_id == complaint.id, HumanTask.element_id == element_id.strip(),
            HumanTask.state == "completed").order_by(HumanTask.completed_at.desc()).limit(1))
        if last == actor.id:
            raise Forbidden(_("four eyes: you proposed this, someone else must decide it"))


def fire_timers(complaint_id: int, now: datetime | None = None) -> bool:
    """Fire the complaint's due timers (idempotent: nothing due, nothing done)."""
    now = now or utcnow()
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        return False
    instance, run = load(complaint, None)
    if instance.next_timer_due_at is None or instance.next_timer_due_at > now or instance.is_completed:
        return False
    result = run.fire_timers()
    audit(complaint, "timers_fired", None, definition_id=instance.definition_id,
          data={"due": instance.next_timer_due_at.isoformat()})
    save(complaint, instance, run, result, None)
    return True


def due_timer_complaints(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Complaints with a timer due (an indexed range read, whatever the number waiting)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(WorkflowInstance.complaint_id).where(
            and_(WorkflowInstance.next_timer_due_at.is_not(None), WorkflowInstance.next_timer_due_at <= now))
        .order_by(WorkflowInstance.next_timer_due_at).limit(limit)))


def retry_incident(actor: User, incident_id: int) -> Incident:
    """Run the failed step again; a new failure opens a new incident."""
    require_role(actor, "admin", "process_owner", "supervisor")
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(_("no incident %(id)s", id=incident_id))
    if incident.resolved_at is not None:
        raise Conflict(_("incident %(id)s is already resolved", id=incident_id))
    complaint = db.session.get(Complaint, incident.complaint_id)
    require_view(actor, complaint)
    instance, run = load(complaint, actor)
    if instance.is_completed:  # e.g. withdrawn meanwhile: running the failed step would restart the path
        raise Conflict(_("the process of %(reference)s has ended; there is nothing to retry",
                         reference=complaint.reference))
    result = run.retry(incident.task_id)
    incident.retries += 1
    incident.resolved_at = utcnow()
    incident.resolved_by_id = actor.id
    audit(complaint, "incident_retried", actor, definition_id=instance.definition_id,
          element_id=incident.element_id, task_id=incident.task_id, data={"incident": incident.id})
    save(complaint, instance, run, result, actor)
    return incident
