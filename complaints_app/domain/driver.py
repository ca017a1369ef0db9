"""Drive a complaint's workflow: load it, move it, and record what happened.

Every move is saved the same way: the engine state (with its lock version), the audit rows for every
element entered and left, the status the diagram set, the open-task projection and any incident.
"""

from __future__ import annotations

from time import monotonic

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm.exc import StaleDataError

from flask_babel import gettext as _

from ..extensions import db
from ..models import AuditEvent, Complaint, HumanTask, Incident, LaneRole, User, WorkflowInstance
from ..models.base import utcnow
from ..workflow import ServiceCall, StepResult
from ..workflow.engine import Run
from .errors import Conflict
from .processes import latest_definition, runtime
from .services import SERVICES, ServiceContext, ServiceFailed

CLOSED_STATUSES = ("closed", "withdrawn")


def audit(complaint: Complaint | None, kind: str, actor: User | None = None, **fields) -> None:
    db.session.add(AuditEvent(complaint_id=complaint.id if complaint else None, kind=kind,
                              actor_id=actor.id if actor else None, **fields))


def _audit_rows(rows: list[dict]) -> None:
    """Append many audit rows in one statement (the engine's element events)."""
    if rows:
        # Core executemany: one cached statement, whatever the rows hold (the ORM would split them).
        db.session.connection().execute(AuditEvent.__table__.insert(), rows)


def _host(complaint: Complaint, actor: User | None):
    def call(request: ServiceCall):
        fn = SERVICES.get(request.topic)
        if fn is None:
            raise ServiceFailed(f"no service is registered for topic '{request.topic}'")
        with db.session.begin_nested():
            return fn(ServiceContext(complaint, actor), request)
    return call


def start_workflow(complaint: Complaint, actor: User | None, data: dict) -> WorkflowInstance:
    """Start the newest ``complaint`` process for a registered complaint and run it to its first wait."""
    definition = latest_definition("complaint")
    run = runtime().start(definition.cache_key, lambda: definition.spec_json, data, _host(complaint, actor))
    instance = WorkflowInstance(complaint_id=complaint.id, definition_id=definition.id, definition=definition,
                                state="", serializer_version=runtime().serializer_version)
    db.session.add(instance)
    result = run.advance()
    save(complaint, instance, run, result, actor)
    return instance


def load(complaint: Complaint, actor: User | None, lock: bool = True) -> tuple[WorkflowInstance, Run]:
    """Load the complaint's workflow; ``lock`` takes the row lock (PostgreSQL) for the move."""
    query = select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id)
    if lock:
        query = query.with_for_update(of=WorkflowInstance).execution_options(populate_existing=True)
    instance = db.session.scalar(query)
    if instance is None:
        raise Conflict(_("complaint %(reference)s has no process", reference=complaint.reference))
    definition = instance.definition
    run = runtime().load(definition.cache_key, lambda: definition.spec_json, instance.state,
                         _host(complaint, actor))
    return instance, run


def save(complaint: Complaint, instance: WorkflowInstance, run: Run, result: StepResult,
         actor: User | None, first: dict | None = None) -> None:
    """Record a move: audit, status, task projection, incident, engine state. Flushes.

    ``first`` is an audit row (kind, element and data) to write before the engine's own.
    """
    definition_id = instance.definition_id
    now = utcnow()
    base = {"complaint_id": complaint.id, "actor_id": actor.id if actor else None, "at": now,
            "definition_id": definition_id}
    rows = [{**base, **first}] if first else []
    for event in result.events:
        rows.append({**base, "kind": f"element_{event.kind}", "element_id": event.element_id,
                     "element_name": event.element_name, "element_type": event.element_type,
                     "task_id": event.task_id, "data": {"lane": event.lane} if event.lane else None})
        status = event.properties.get("status")
        if event.kind == "left" and status and status != complaint.status:
            rows.append({**base, "kind": "status_changed", "element_id": event.element_id,
                         "element_name": event.element_name, "element_type": None, "task_id": None,
                         "data": {"from": complaint.status, "to": status}})
            complaint.status = status
            if status in CLOSED_STATUSES:
                complaint.closed_at = now
    _audit_rows(rows)
    _project_tasks(complaint, instance, run, result)
    if result.incident is not None:
        incident = result.incident
        db.session.add(Incident(complaint_id=complaint.id, task_id=incident.task_id, element_id=incident.element_id,
                                element_name=incident.element_name, kind=incident.kind, message=incident.message))
        audit(complaint, "incident_opened", actor, definition_id=definition_id, element_id=incident.element_id,
              element_name=incident.element_name, task_id=incident.task_id,
              data={"kind": incident.kind, "message": incident.message})
    instance.has_incident = result.incident is not None
    instance.state = run.dump()
    instance.serializer_version = runtime().serializer_version
    instance.next_timer_due_at = result.next_timer_due
    instance.is_completed = result.completed
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(_("the complaint was changed by someone else at the same time; reload and try again")) from None


def update_process_data(complaint: Complaint, actor: User | None, updates: dict, reason: str) -> None:
    """Hand new values to a running process (e.g. a moved statutory deadline): timers that read them
    are re-armed and the open tasks' due times follow. Flushes."""
    from .reminders import schedule

    instance, run = load(complaint, actor)
    if instance.is_completed:
        return
    result = run.update_data(updates)
    first = {"kind": "process_data_updated", "element_id": None, "element_name": None, "element_type": None,
             "task_id": None, "data": {"reason": reason, "values": updates}}
    save(complaint, instance, run, result, actor, first=first)
    due = {task.task_id: task.due_at for task in run.open_tasks()}
    for task in db.session.scalars(select(HumanTask).where(HumanTask.id.in_(due), HumanTask.state == "open")):
        if task.due_at != due[task.id]:
            task.due_at = due[task.id]
            task.reminders_sent = 0
            schedule(task, complaint)
    db.session.flush()


def _project_tasks(complaint: Complaint, instance: WorkflowInstance, run: Run, result: StepResult) -> None:
    """Mirror the step's changes to tasks for people: cancelled ones close, new ones open."""
    cancelled = [e.task_id for e in result.events if e.kind == "cancelled" and e.manual]
    if cancelled:
        db.session.execute(update(HumanTask).where(HumanTask.id.in_(cancelled), HumanTask.state == "open")
                           .values(state="cancelled", completed_at=utcnow()))
    entered = {e.task_id for e in result.events if e.kind == "entered"}
    new = [t for t in run.open_tasks() if t.task_id in entered] if entered else []
    if not new:
        return
    from .reminders import schedule  # reminders read the statutory clock, which moves workflows

    roles = _lane_roles()
    now = utcnow()
    for task in new:
        human = HumanTask(
            id=task.task_id, complaint_id=complaint.id, definition_id=instance.definition_id,
            element_id=task.element_id, name=task.name, lane=task.lane, role=roles.get(task.lane),
            form=task.form, properties=task.properties, due_at=task.due_at, context=_context(run, task),
            created_at=now, reminders_sent=0,
        )
        schedule(human, complaint, now)
        db.session.add(human)


def _context(run: Run, task) -> dict:
    names = [value for key, value in task.properties.items() if key.endswith("_var") and value]
    if not names:
        return {}
    data = run.task_data(task.task_id)
    return {name: data.get(name) for name in names}


LANE_CACHE_SECONDS = 10.0


def _lane_roles() -> dict[str, str]:
    """The lane-to-role table, cached per app for a few seconds (admins rarely change it)."""
    cache = current_app.extensions.setdefault("complaints.lane_roles", {"at": -LANE_CACHE_SECONDS, "roles": {}})
    if monotonic() - cache["at"] > LANE_CACHE_SECONDS:
        cache["roles"] = {row.lane: row.role for row in db.session.scalars(select(LaneRole))}
        cache["at"] = monotonic()
    return cache["roles"]


def forget_lane_roles() -> None:
    current_app.extensions.pop("complaints.lane_roles", None)


def settings():
    return current_app.extensions["complaints.settings"]
