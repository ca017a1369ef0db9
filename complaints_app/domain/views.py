"""Read models: what a page or an API response shows of a complaint."""

from __future__ import annotations

from sqlalchemy import select

from flask_babel import gettext as _

from ..extensions import db
from ..models import (
    AuditEvent,
    Compensation,
    Complaint,
    DefinitionFile,
    HumanTask,
    Incident,
    Letter,
    User,
    UserRole,
    WorkflowInstance,
)
from .driver import load
from .errors import NotFound


def usernames(ids, column=User.username) -> dict[int, str]:
    """Names of users by id (``column=User.display_name`` for pages)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, column).where(User.id.in_(ids))).all())


def complaint_story(complaint: Complaint) -> dict:
    """Everything recorded about a complaint, oldest first (the caller has checked access)."""
    cid = complaint.id
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == cid))
    tasks = list(db.session.scalars(select(HumanTask).where(HumanTask.complaint_id == cid, HumanTask.state == "open")
                                    .order_by(HumanTask.created_at)))
    history = list(db.session.scalars(select(AuditEvent).where(AuditEvent.complaint_id == cid)
                                      .order_by(AuditEvent.id)))
    letters = list(db.session.scalars(select(Letter).where(Letter.complaint_id == cid).order_by(Letter.id)))
    compensations = list(db.session.scalars(select(Compensation).where(Compensation.complaint_id == cid)
                                            .order_by(Compensation.id)))
    incidents = list(db.session.scalars(select(Incident).where(Incident.complaint_id == cid).order_by(Incident.id)))
    names = usernames([e.actor_id for e in history] + [t.assignee_id for t in tasks]
                      + [c.proposed_by_id for c in compensations] + [c.approved_by_id for c in compensations])
    return {"instance": instance, "tasks": tasks, "history": history, "letters": letters,
            "compensations": compensations, "incidents": incidents, "names": names}


def diagram_position(complaint: Complaint) -> dict:
    """The complaint's diagram (its own version) with the elements passed and those waiting now."""
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))
    if instance is None:
        raise NotFound(_("complaint %(reference)s has no process", reference=complaint.reference))
    files = list(db.session.scalars(select(DefinitionFile).where(
        DefinitionFile.definition_id == instance.definition_id, DefinitionFile.filename.like("%.bpmn"))))
    process_file = next((f for f in files if b'id="complaint"' in f.content), files[0] if files else None)
    if process_file is None:
        raise NotFound(_("the process diagram is missing"))
    rows = db.session.execute(select(AuditEvent.kind, AuditEvent.element_id, AuditEvent.task_id).where(
        AuditEvent.complaint_id == complaint.id, AuditEvent.kind.in_(
            ["element_entered", "element_left", "element_cancelled"]))).all()
    open_tokens: dict[str, str] = {}
    done: set[str] = set()
    for kind, element_id, task_id in rows:
        if kind == "element_entered":
            open_tokens[task_id] = element_id
        else:
            open_tokens.pop(task_id, None)
            if kind == "element_left":
                done.add(element_id)
    return {"xml": process_file.content.decode("utf-8", "replace"), "version": instance.definition.version,
            "completed": sorted(done), "active": sorted(set(open_tokens.values()))}


def task_form_data(task: HumanTask) -> dict:
    """What the form of an open task starts with: the value a field's ``prefill`` property names, else its
    default. A value the process already holds under the field's own id is not offered: it is an earlier
    round's answer (an appeal's investigation would start from the decision appealed against) or a start
    value (``compensation_approved`` is false until someone approves), never this person's decision."""
    complaint = db.session.get(Complaint, task.complaint_id)
    _, run = load(complaint, None, lock=False)
    data = run.task_data(task.id)
    values = {}
    for field in task.form:
        prefill = (field.get("properties") or {}).get("prefill")
        if prefill and data.get(prefill) is not None:
            values[field["id"]] = data[prefill]
        elif field.get("default") not in (None, ""):
            values[field["id"]] = field["default"]
    return values


def eligible_users(task: HumanTask) -> list[User]:
    """Active people who hold the task's role (managers count as supervisors)."""
    roles = [task.role, "manager"] if task.role == "supervisor" else [task.role]
    return list(db.session.scalars(select(User).join(UserRole).where(
        UserRole.role.in_(roles), User.is_active_user.is_(True)).order_by(User.display_name).distinct()))
