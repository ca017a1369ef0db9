"""Moving running complaints to a newer version of their process: a dry run that says, per complaint,
whether it can move and why not; then one or all movable ones, each audited. A complaint that cannot
move is never touched."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Complaint, HumanTask, ProcessDefinition, User, WorkflowInstance
from ..workflow import MigrationProblem
from .access import require_role
from .driver import _lane_roles, load, save
from .errors import Conflict, NotFound
from .processes import runtime


@dataclass
class Candidate:
    complaint_id: int
    reference: str
    status: str
    version: int
    problems: list[str] = field(default_factory=list)

    @property
    def movable(self) -> bool:
        return not self.problems


def _target(definition_id: int) -> ProcessDefinition:
    target = db.session.get(ProcessDefinition, definition_id)
    if target is None:
        raise NotFound(_("no such process version"))
    return target


def dry_run(actor: User, definition_id: int, limit: int = 1000, progress=None) -> list[Candidate]:
    """Every running complaint on another version of the target's process, and whether it can move."""
    require_role(actor, "process_owner", "admin")
    target = _target(definition_id)
    rows = db.session.execute(
        select(WorkflowInstance, Complaint.reference, Complaint.status, ProcessDefinition.version)
        .join(Complaint, Complaint.id == WorkflowInstance.complaint_id)
        .join(ProcessDefinition, ProcessDefinition.id == WorkflowInstance.definition_id)
        .where(ProcessDefinition.process_id == target.process_id, WorkflowInstance.definition_id != target.id,
               WorkflowInstance.is_completed.is_(False))
        .order_by(Complaint.id).limit(limit)).all()
    found = []
    for instance, reference, status, version in rows:
        candidate = Candidate(instance.complaint_id, reference, status, version)
        candidate.problems = _problems(instance, target)
        found.append(candidate)
        if progress:
            progress(1)
    return found


def _problems(instance: WorkflowInstance, target: ProcessDefinition) -> list[str]:
    if instance.has_incident:
        return [_("a step failed and waits for a retry")]
    definition = instance.definition
    run = runtime().load(definition.cache_key, lambda: definition.spec_json, instance.state)
    return _worded(run.migration_problems(target.cache_key, lambda: target.spec_json))


def _worded(problems: list[MigrationProblem]) -> list[str]:
    """The engine's reasons in the reader's language."""
    texts = {
        "finished": lambda p: _("the process has finished"),
        "failed": lambda p: _("a step failed and waits for a retry"),
        "other_process": lambda p: _("the new version is process “%(new)s”, not “%(old)s”", new=p.new, old=p.old),
        "subprocess_missing": lambda p: _("the running subprocess “%(element)s” is not in the new version",
                                          element=p.element),
        "waiting_at_missing": lambda p: _("it waits at “%(element)s”, which the new version does not have",
                                          element=p.element),
        "passed_missing": lambda p: _("it has passed “%(element)s”, which the new version does not have",
                                      element=p.element),
        "kind_changed": lambda p: _("“%(element)s” is a %(new)s in the new version, not a %(old)s",
                                    element=p.element, new=p.new, old=p.old),
    }
    return [texts[problem.kind](problem) for problem in problems]


def migrate(actor: User, definition_id: int, complaint_id: int) -> Candidate:
    """Move one complaint (refused, with the reasons, when it cannot move). Flushes."""
    require_role(actor, "process_owner", "admin")
    target = _target(definition_id)
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(_("no complaint %(reference)s", reference=complaint_id))
    instance, run = load(complaint, actor)
    source = instance.definition
    if source.process_id != target.process_id or source.id == target.id:
        raise Conflict(_("%(reference)s runs version %(version)s of %(process)s; choose another version of it",
                         reference=complaint.reference, version=source.version, process=source.process_id))
    problems = ([_("a step failed and waits for a retry")] if instance.has_incident
                else _worded(run.migration_problems(target.cache_key, lambda: target.spec_json)))
    if problems:
        raise Conflict(_("%(reference)s cannot move: %(reasons)s", reference=complaint.reference,
                         reasons="; ".join(problems)))
    result = run.migrate(target.cache_key, lambda: target.spec_json)
    instance.definition_id = target.id
    first = {"kind": "process_migrated", "element_id": None, "element_name": None, "element_type": None,
             "task_id": None, "data": {"from_version": source.version, "to_version": target.version,
                                       "from_definition": source.id, "to_definition": target.id}}
    save(complaint, instance, run, result, actor, first=first)
    _refresh_open_tasks(complaint, target, run)
    return Candidate(complaint.id, complaint.reference, complaint.status, target.version)


def _refresh_open_tasks(complaint: Complaint, target: ProcessDefinition, run) -> None:
    """Open tasks now belong to the new version: its names, lanes, forms and rules."""
    roles = _lane_roles()
    now = {task.task_id: task for task in run.open_tasks()}
    for human in db.session.scalars(select(HumanTask).where(HumanTask.complaint_id == complaint.id,
                                                            HumanTask.state == "open")):
        task = now.get(human.id)
        if task is None:
            continue
        human.definition_id = target.id
        human.name, human.lane, human.role = task.name, task.lane, roles.get(task.lane)
        human.form, human.properties = task.form, task.properties
    db.session.flush()
