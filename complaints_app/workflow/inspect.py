"""Read SpiffWorkflow objects into the app's plain data: element descriptions, open tasks, the events of
a step, incidents, the messages a workflow would catch. Pure functions; :mod:`.engine` moves workflows."""

from __future__ import annotations

from datetime import datetime, timezone

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from .scripting import ScriptRejected, ScriptTimeout
from .types import ElementEvent, EngineIncident, MessageCatch, MessageNotExpected, OpenTask

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_TYPE_NAMES = {"TopicServiceTask": "ServiceTask"}

def all_task_specs(spec, subprocess_specs):
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "bpmn_id", None):
                yield task_spec


def describe_spec(task_spec) -> dict:
    """A plain description of one diagram element."""
    type_name = type(task_spec).__name__
    described = {
        "id": task_spec.bpmn_id,
        "name": task_spec.bpmn_name,
        "type": _TYPE_NAMES.get(type_name, type_name),
        "lane": task_spec.lane,
        "properties": dict(getattr(task_spec, "extensions", None) or {}),
        "manual": bool(task_spec.manual),
    }
    if getattr(task_spec, "topic", None):
        described["topic"] = task_spec.topic
    expression = getattr(getattr(task_spec, "event_definition", None), "expression", None)
    if expression:
        described["expression"] = expression
    if getattr(task_spec, "script", None):
        described["script"] = task_spec.script
    conditions = getattr(task_spec, "cond_task_specs", None)
    if conditions:
        described["conditions"] = {str(target): condition.args[0] if condition is not None else None
                                   for condition, target in conditions}
    form = _form(task_spec)
    if form is not None:
        described["form"] = form
    return described


def _form(task_spec):
    form = getattr(task_spec, "form", None)
    if form is None:
        return None
    fields = []
    for field in form.fields:
        fields.append({
            "id": field.id,
            "type": field.type,
            "label": field.label,
            "default": field.default_value,
            "properties": {p.id: p.value for p in field.properties},
            "validation": {v.name: v.config for v in field.validation},
            "options": [{"id": o.id, "name": o.name} for o in getattr(field, "options", [])],
        })
    return fields


def _boundary_due(task) -> datetime | None:
    """When the earliest timer on this task's boundary fires (its deadline as drawn)."""
    parent = task.parent
    if parent is None or type(parent.task_spec).__name__ != "BoundaryEventSplit":
        return None
    due = []
    for sibling in parent.children:
        value = sibling._get_internal_data("event_value") if sibling is not task else None
        definition = getattr(sibling.task_spec, "event_definition", None)
        if value and isinstance(value, str) and is_timer(definition):
            moment = datetime.fromisoformat(value)
            due.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return min(due) if due else None


TIMER_TYPES = {"TimerEventDefinition", "TimeDateEventDefinition", "DurationTimerEventDefinition",
                "CycleTimerEventDefinition"}


def is_timer(definition) -> bool:
    return isinstance(definition, TimerEventDefinition)


def all_tasks(workflow):
    """Every task, the subprocesses' too (an event subprocess's user task is a task for a person)."""
    yield from workflow.tasks.items()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.items()


def is_message(definition) -> bool:
    return "Message" in type(definition).__name__ and bool(getattr(definition, "name", None))


def message_catch(spec, interrupting: bool) -> MessageCatch:
    return MessageCatch(name=spec.event_definition.name, element_id=spec.bpmn_id, element_name=spec.bpmn_name,
                        properties=dict(getattr(spec, "extensions", None) or {}), interrupting=interrupting)


def wire_event_subprocesses(spec) -> None:
    """Give each message-started event subprocess its start as input, one way only: the library's
    own trigger connects it both ways, on the shared definition, at the first message ever caught."""
    for name in getattr(spec.start, "trigger_specs", []):
        task_spec = spec.task_specs.get(name)
        if task_spec is not None and not task_spec._inputs:
            task_spec._inputs = [spec.start.name]


def event_subprocess_of(workflow, start_id: str) -> str | None:
    """The event subprocess (of the top process) that ``start_id`` starts, if any."""
    for name in getattr(workflow.spec.start, "trigger_specs", []):
        sp_spec = workflow.subprocess_specs.get(name)
        if sp_spec is not None and any(s.bpmn_id == start_id for s in sp_spec.bpmn_start_events):
            return name
    return None


def message_definition(workflow, element_id: str):
    for process in [workflow.spec, *workflow.subprocess_specs.values()]:
        spec = process.task_specs.get(element_id)
        if spec is not None:
            return spec.event_definition
    raise MessageNotExpected(element_id)


def open_task(task) -> OpenTask:
    spec = task.task_spec
    return OpenTask(
        due_at=_boundary_due(task),
        task_id=str(task.id),
        element_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        form=_form(spec) or [],
        properties=dict(getattr(spec, "extensions", None) or {}),
        documentation=spec.documentation,
    )


def _event(kind: str, task) -> ElementEvent:
    spec = task.task_spec
    type_name = type(spec).__name__
    return ElementEvent(
        kind=kind,
        task_id=str(task.id),
        element_id=spec.bpmn_id,
        element_name=spec.bpmn_name,
        element_type=_TYPE_NAMES.get(type_name, type_name),
        lane=spec.lane,
        properties=dict(getattr(spec, "extensions", None) or {}),
        manual=bool(spec.manual),
    )


def events(workflow, before: dict, finished: list) -> list[ElementEvent]:
    events = []
    seen = set()
    for task in finished:
        if not getattr(task.task_spec, "bpmn_id", None) or task.id in seen:
            continue
        seen.add(task.id)
        if not (before.get(task.id, 0) & (ACTIVE | TaskState.ERROR)):
            events.append(_event("entered", task))
        events.append(_event("left", task))
    for _task_id, task in all_tasks(workflow):
        if not getattr(task.task_spec, "bpmn_id", None) or task.id in seen:
            continue
        was_active = bool(before.get(task.id, 0) & (ACTIVE | TaskState.ERROR))
        if task.has_state(ACTIVE | TaskState.ERROR) and not was_active:
            events.append(_event("entered", task))
        elif task.has_state(TaskState.CANCELLED) and was_active:
            # A waiting task or event was withdrawn; a token waiting at a join left with the merged one.
            events.append(_event("cancelled" if _waits(task) else "left", task))
    return events


def _waits(task) -> bool:
    """A task that waited for someone or something (not a gateway's internal copy of a join)."""
    return task.task_spec.manual or type(task.task_spec).__name__ in ("BoundaryEvent", "IntermediateCatchEvent")


def incident(workflow, err) -> EngineIncident:
    task = getattr(err, "task", None)
    if task is None:
        task = next(iter(workflow.get_tasks(state=TaskState.ERROR)), None)
    cause = getattr(err, "exception", None) or err.__cause__ or err.__context__
    chain = [err, cause] if cause is not None else [err]
    if any(isinstance(e, ScriptTimeout) for e in chain):
        kind = "timeout"
    elif any(isinstance(e, ScriptRejected) for e in chain):
        kind = "rejected_script"
    elif task is not None and type(task.task_spec).__name__ == "TopicServiceTask":
        kind = "service"
    else:
        kind = "script"
    message = str(err)
    if cause is not None and str(cause) not in message:
        message = f"{message}: {type(cause).__name__}: {cause}"
    return EngineIncident(
        task_id=str(task.id) if task is not None else None,
        element_id=task.task_spec.bpmn_id if task is not None else None,
        element_name=task.task_spec.bpmn_name if task is not None else None,
        kind=kind,
        message=message[:4000],
    )


def validation_problem(err: ValidationException, filename: str | None) -> dict:
    text = " ".join(str(getattr(err, "message", None) or err).split()).rstrip(". ")
    problem = {"message": text + "."}
    if getattr(err, "id", None):
        problem["element_id"] = err.id
    if getattr(err, "name", None):
        problem["element_name"] = err.name
    if filename or getattr(err, "file_name", None):
        problem["file"] = filename or err.file_name
    return problem
