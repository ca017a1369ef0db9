"""Drive a complaint's workflow: load it, move it, and record what happened.

Every move is saved the same way: the engine state (with its lock version), the audit rows for every
element entered and left, the status the diagram set, the open-task projection and any incident.

The moves are the hot path of the whole system, so they write with plain statements (one per table,
many rows at once) rather than the ORM's unit of work, which costs several times the statements
themselves; objects already in the session are told the values they were given (``_written``), so
they stay true without being read again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from flask_babel import gettext as _

from ..extensions import db
from ..models import Complaint, HumanTask, Incident, LaneRole, ProcessDefinition, User, WorkflowInstance
from ..models.base import utcnow
from ..models.complaints import CLOSED_STATUSES
from ..workflow import ServiceCall, StepResult, listed
from ..workflow.engine import Run
from .audit import audit, audit_rows
from .errors import Conflict
from .processes import latest_definition, runtime
from .reminders import schedule
from .replay import ReplayCarefully, is_optimistic
from .services import SERVICES, ServiceContext, ServiceFailed
from .this_transaction import hold, last_saved_run, saved_run, spoil, wrote

INSTANCES = WorkflowInstance.__table__


@functools.cache
def _by_key(table):
    """``UPDATE table ... WHERE id = :row_id``, built once per table: the columns set are the ones the
    parameters name, so one statement object serves every change (and SQLAlchemy's compiled cache keys it
    by those columns) instead of a new statement, coerced and cache-keyed, per call."""
    return update(table).where(table.primary_key.columns[0] == bindparam("row_id"))


def _written(obj, **values) -> None:
    """Update ``obj``'s row with one statement and tell the session object the values it now holds."""
    mapper = obj.__mapper__
    key = mapper.primary_key[0]
    params = {mapper.get_property(name).columns[0].key: value for name, value in values.items()}
    params["row_id"] = getattr(obj, mapper.get_property_by_column(key).key)
    db.session.connection().execute(_by_key(mapper.local_table), params)
    for name, value in values.items():
        set_committed_value(obj, name, value)


def _host(complaint: Complaint, actor: User | None, definition_id: int, definition_key: str):
    def call(request: ServiceCall):
        fn = SERVICES.get(request.topic)
        if fn is None:
            raise ServiceFailed(f"no service is registered for topic '{request.topic}'")
        context = ServiceContext(complaint, actor, definition_id, definition_key)
        if is_optimistic():  # no savepoint: a failure has the whole work run again, carefully
            try:
                result = fn(context, request)
                _write_changes(complaint)  # what the service set on the complaint (triage, satisfaction)
            except Exception as err:
                raise ReplayCarefully(f"service '{request.topic}' failed") from err
            return result
        with db.session.begin_nested():
            result = fn(context, request)
            _write_changes(complaint)
            return result
    return call


def _write_changes(obj) -> None:
    """Write a persistent object's changed columns now, with one UPDATE (what the flush at the end of the
    savepoint would do, without its unit of work)."""
    state = inspect(obj)
    if not state.persistent or not state.modified:
        return
    columns = state.mapper.column_attrs
    # ``committed_state`` holds the attributes changed since the object was loaded (their old values).
    values = {key: state.dict[key] for key in state.committed_state if key in columns and key in state.dict}
    if values:
        _written(obj, **values)


def start_workflow(complaint: Complaint, actor: User | None, data: dict, first: list[dict] | None = None) -> None:
    """Start the newest ``complaint`` process for a registered complaint and run it to its first wait;
    ``first`` are audit rows to write before the engine's (the registration's)."""
    definition = latest_definition("complaint")
    hold(definition)  # the answer to the registration names its version
    run = runtime().start(definition.cache_key, lambda: definition.spec_json, data,
                          _host(complaint, actor, definition.id, definition.cache_key))
    result = run.advance()
    # Inserted by save() once, with the state it reached.
    instance = Instance(None, complaint.id, definition.id, definition.content_hash, 0, None, False, False, "")
    save(complaint, instance, run, result, actor, first=first)


@dataclass
class Instance:
    """A complaint's saved process as a move needs it: one row read, no ORM object."""

    id: int
    complaint_id: int
    definition_id: int
    content_hash: str
    lock_version: int
    next_timer_due_at: datetime | None
    is_completed: bool
    has_incident: bool
    state: str

    @property
    def definition(self) -> ProcessDefinition:
        return db.session.get(ProcessDefinition, self.definition_id)


DEFINITIONS = ProcessDefinition.__table__
# What a move reads of the process (the columns of ``Instance``, in its order).
INSTANCE_COLUMNS = (INSTANCES.c.id, INSTANCES.c.complaint_id, INSTANCES.c.definition_id, DEFINITIONS.c.content_hash,
                    INSTANCES.c.lock_version, INSTANCES.c.next_timer_due_at, INSTANCES.c.is_completed,
                    INSTANCES.c.has_incident, INSTANCES.c.state)
_LOAD = select(*INSTANCE_COLUMNS).join(DEFINITIONS, DEFINITIONS.c.id == INSTANCES.c.definition_id).where(
    INSTANCES.c.complaint_id == bindparam("complaint_id"))
_LOAD_LOCKED = _LOAD.with_for_update(of=INSTANCES)


def with_process(query):
    """``query`` (over complaints) with the complaint's process row, locked (PostgreSQL) for a move: one
    read instead of two. ``open_run`` takes the added columns."""
    return (query.add_columns(*INSTANCE_COLUMNS).join(INSTANCES, INSTANCES.c.complaint_id == Complaint.id)
            .join(DEFINITIONS, DEFINITIONS.c.id == INSTANCES.c.definition_id).with_for_update(of=INSTANCES))


def load(complaint: Complaint, actor: User | None, lock: bool = True) -> tuple[Instance, Run]:
    """Load the complaint's workflow; ``lock`` takes the row lock (PostgreSQL) for the move. To read only
    (``lock`` False), the run this transaction saved last serves, if there is one."""
    if not lock and (saved := last_saved_run(complaint.id)) is not None:
        return saved
    row = db.session.connection().execute(_LOAD_LOCKED if lock else _LOAD, {"complaint_id": complaint.id}).first()
    if row is None:
        raise Conflict(_("complaint %(reference)s has no process", reference=complaint.reference))
    return open_run(complaint, actor, row)


def open_run(complaint: Complaint, actor: User | None, columns) -> tuple[Instance, Run]:
    """The engine run of a process row read by ``load`` or ``with_process``."""
    instance = Instance(*columns)
    key = ProcessDefinition.key_for(instance.definition_id, instance.content_hash)
    run = runtime().load(key, lambda: _spec_json(instance.definition_id), instance.state,
                         _host(complaint, actor, instance.definition_id, key))
    return instance, run


def _spec_json(definition_id: int) -> str:
    return db.session.scalar(select(ProcessDefinition.spec_json).where(ProcessDefinition.id == definition_id))


def save(complaint: Complaint, instance: Instance, run: Run, result: StepResult,
         actor: User | None, first: dict | None = None, done: tuple[HumanTask, dict] | None = None) -> None:
    """Record a move: audit, status, task projection, incident, engine state. Flushes.

    ``first`` is an audit row (kind, element and data), or a list of them, to write before the engine's own;
    ``done`` the task a person completed and its new values (state, completion), written with the tasks the
    move opened. A new process (``instance.id`` None) is inserted.
    """
    definition_id = instance.definition_id
    now = utcnow()
    base = {"complaint_id": complaint.id, "actor_id": actor.id if actor else None, "at": now,
            "definition_id": definition_id}
    rows = [{**base, **row} for row in ([first] if isinstance(first, dict) else first or [])]
    for event in result.events:
        rows.append({**base, "kind": f"element_{event.kind}", "element_id": event.element_id,
                     "element_name": event.element_name, "element_type": event.element_type,
                     "task_id": event.task_id, "data": {"lane": event.lane} if event.lane else None})
        status = event.properties.get("status")
        if event.kind == "left" and status and status != complaint.status:
            rows.append({**base, "kind": "status_changed", "element_id": event.element_id,
                         "element_name": event.element_name, "element_type": None, "task_id": None,
                         "data": {"from": complaint.status, "to": status}})
            _written(complaint, status=status, **({"closed_at": now} if status in CLOSED_STATUSES else {}))
    audit_rows(rows)
    _project_tasks(complaint, instance, run, result, done)
    if result.incident is not None:
        incident = result.incident
        db.session.add(Incident(complaint_id=complaint.id, task_id=incident.task_id, element_id=incident.element_id,
                                element_name=incident.element_name, kind=incident.kind, message=incident.message))
        audit(complaint, "incident_opened", actor, definition_id=definition_id, element_id=incident.element_id,
              element_name=incident.element_name, task_id=incident.task_id,
              data={"kind": incident.kind, "message": incident.message})
    if result.completed:  # once per complaint (an incident may be open though later moves went on)
        _close_incidents(complaint, actor, definition_id, now)
    values = {"state": run.dump(), "serializer_version": runtime().serializer_version,
              "definition_id": instance.definition_id,
              "next_timer_due_at": result.next_timer_due, "is_completed": result.completed,
              "has_incident": result.incident is not None, "updated_at": now,
              "lock_version": instance.lock_version + 1}
    connection = db.session.connection()
    if instance.id is None:
        instance.id = connection.execute(_INSERT_STATE, {**values, "complaint_id": complaint.id}).scalar_one()
    elif connection.execute(_SAVE_STATE, {**values, "row_id": instance.id,
                                          "loaded_version": instance.lock_version}).rowcount != 1:
        raise Conflict(_("the complaint was changed by someone else at the same time; reload and try again"))
    for name, value in values.items():
        setattr(instance, name, value)
    saved_run(complaint.id, instance, run)


def cancel_process(complaint: Complaint, actor: User | None, reason: dict) -> None:
    """End the complaint's process where it stands: its tasks, timers and awaited messages are cancelled
    (a complaint merged into another). ``reason`` goes into the audit. Flushes."""
    instance, run = load(complaint, actor)
    if instance.is_completed:
        return
    result = run.cancel()
    first = {"kind": "process_cancelled", "element_id": None, "element_name": None, "element_type": None,
             "task_id": None, "data": reason}
    save(complaint, instance, run, result, actor, first=first)


def _close_incidents(complaint: Complaint, actor: User | None, definition_id: int, now: datetime) -> None:
    """The process ended (a withdrawal, say) with steps still failed: their incidents are over, not retried."""
    incidents = list(db.session.scalars(select(Incident).where(Incident.complaint_id == complaint.id,
                                                               Incident.resolved_at.is_(None))))
    for incident in incidents:
        incident.resolved_at = now
        incident.resolved_by_id = actor.id if actor else None
        audit(complaint, "incident_closed", actor, definition_id=definition_id, element_id=incident.element_id,
              element_name=incident.element_name, task_id=incident.task_id,
              data={"incident": incident.id, "reason": "the process ended"})
    db.session.flush()


# Optimistic lock: the row must still hold the version the move was loaded from.
_INSERT_STATE = insert(INSTANCES).returning(INSTANCES.c.id)
_SAVE_STATE = update(INSTANCES).where(INSTANCES.c.id == bindparam("row_id"),
                                      INSTANCES.c.lock_version == bindparam("loaded_version"))


def update_process_data(complaint: Complaint, actor: User | None, updates: dict, reason: str) -> None:
    """Hand new values to a running process (e.g. a moved statutory deadline): timers that read them
    are re-armed and the open tasks' due times follow. Flushes."""
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


def _project_tasks(complaint: Complaint, instance: Instance, run: Run, result: StepResult,
                   done: tuple[HumanTask, dict] | None = None) -> None:
    """Mirror the step's changes to tasks for people: cancelled ones close, the completed one closes and new
    ones open (those two in one statement)."""
    cancelled = [e.task_id for e in result.events if e.kind == "cancelled" and e.manual]
    if cancelled:
        # Rare (a boundary timer, a withdrawal): the ORM's update keeps task objects in the session true.
        db.session.execute(update(HumanTask).where(HumanTask.id.in_(cancelled), HumanTask.state == "open")
                           .values(state="cancelled", completed_at=utcnow()))
        spoil(complaint.id, "tasks")
    entered = {e.task_id for e in result.events if e.kind == "entered"}
    new = [t for t in run.open_tasks() if t.task_id in entered] if entered else []
    rows = []
    if new:
        roles = _lane_roles()
        now = utcnow()
        for task in new:
            human = SimpleNamespace(
                id=task.task_id, complaint_id=complaint.id, definition_id=instance.definition_id,
                element_id=task.element_id, name=task.name, lane=task.lane, role=roles.get(task.lane),
                form=task.form, properties=task.properties, due_at=task.due_at, context=_context(run, task),
                created_at=now, reminders_sent=0, state="open", next_reminder_at=None, completed_at=None,
                completed_by_id=None,
                assignee_id=_assignee_of(complaint, task.properties.get("assignee_of"), roles.get(task.lane), done),
            )
            schedule(human, complaint, now)
            rows.append(vars(human))
    if done is None:
        if rows:
            db.session.connection().execute(_INSERT_TASKS, rows)
            wrote(complaint.id, "tasks", rows)
        return
    spoil(complaint.id, "tasks")
    task, values = done
    rows.append({**{name: getattr(task, name) for name in _TASK_COLUMNS}, **values})
    connection = db.session.connection()
    connection.execute(_upsert_tasks(connection.dialect.name), rows)
    for name, value in values.items():
        set_committed_value(task, name, value)


TASKS = HumanTask.__table__
_INSERT_TASKS = insert(TASKS)
_TASK_COLUMNS = tuple(column.key for column in TASKS.columns)
_CLOSING = ("state", "assignee_id", "completed_at", "completed_by_id", "next_reminder_at")


@functools.cache
def _upsert_tasks(dialect: str):
    """Insert the new tasks and close the completed one (already there: its id conflicts) in one statement."""
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = build(TASKS)
    return statement.on_conflict_do_update(index_elements=[TASKS.c.id],
                                           set_={name: statement.excluded[name] for name in _CLOSING})


def _assignee_of(complaint: Complaint, element_ids: str | None, role: str | None,
                 done: tuple[HumanTask, dict] | None = None) -> int | None:
    """The person a new task goes to by the diagram's ``assignee_of`` (user task ids, comma-separated): whoever
    last completed one of them on this complaint (``done``, the task completed by this move, being the
    latest), if they are still active and hold the task's role (a manager counts as a supervisor); else
    nobody, and the task waits in its lane for anyone with the role."""
    ids = [e.strip() for e in (element_ids or "").split(",") if e.strip()]
    if not ids or role is None:
        return None
    if done is not None and done[0].element_id in ids:
        person = done[1]["completed_by_id"]
    else:
        person = db.session.scalar(select(HumanTask.completed_by_id).where(
            HumanTask.complaint_id == complaint.id, HumanTask.element_id.in_(ids), HumanTask.state == "completed")
            .order_by(HumanTask.completed_at.desc()).limit(1))
    user = db.session.execute(select(User).options(joinedload(User.role_rows), lazyload(User.limits))
                              .where(User.id == person)).unique().scalar_one_or_none() if person else None
    return user.id if user is not None and user.is_active_user and user.has_role(role) else None


def _context(run: Run, task) -> dict:
    """What the task keeps of the process data when it opens: the keys its ``*_var`` properties name
    (authority checks) and those its ``show`` property lists (the facts its page shows)."""
    names = [value for key, value in task.properties.items() if key.endswith("_var") and value]
    names += listed(task.properties, "show")
    return run.task_values(task.task_id, names) if names else {}


LANE_CACHE_SECONDS = 10.0


def _lane_roles() -> dict[str, str]:
    """The lane-to-role table, cached per app for a few seconds (admins rarely change it)."""
    cache = current_app.extensions.setdefault("complaints.lane_roles", {"at": -LANE_CACHE_SECONDS, "roles": {}})
    if monotonic() - cache["at"] > LANE_CACHE_SECONDS:
        cache["roles"] = {row.lane: row.role for row in db.session.scalars(select(LaneRole))}
        cache["at"] = monotonic()
    return cache["roles"]


def lane_role(lane: str | None) -> str | None:
    """The role that works a lane's tasks."""
    return _lane_roles().get(lane)


def forget_lane_roles() -> None:
    current_app.extensions.pop("complaints.lane_roles", None)


