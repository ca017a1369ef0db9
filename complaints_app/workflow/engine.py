"""Run processes: compile definitions, start, load, step and save workflows.

A :class:`Run` wraps one loaded workflow. Every operation on it (complete a task, fire timers, retry)
runs the engine until it waits again, reports which elements were entered and left, turns a failing
script or service into an :class:`EngineIncident` instead of an exception, and re-roots the task tree
so the saved state stays bounded.
"""

from __future__ import annotations

import threading
from copy import deepcopy
from datetime import datetime, timezone
from typing import Callable
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from .inspect import (
    ACTIVE,
    TIMER_TYPES,
    all_task_specs,
    all_tasks,
    describe_spec,
    event_subprocess_of,
    events,
    incident,
    is_message,
    is_timer,
    message_catch,
    message_definition,
    open_task,
    validation_problem,
    wire_event_subprocesses,
)
from .parser import ComplaintsParser
from .scripting import RestrictedScriptEngine, ScriptRejected, ScriptTimeout
from .serializer import SERIALIZER_VERSION, StateSerializer, prune
from .types import (
    CompiledDefinition,
    DefinitionError,
    MessageCatch,
    MessageNotExpected,
    MigrationProblem,
    OpenTask,
    ServiceCall,
    StepResult,
    TaskNotOpen,
)
from .xml import parse_xml

ServiceHost = Callable[[ServiceCall], dict | None]
# The serialized definition, or a function returning it: read only when this process has not cached it.
SpecSource = str | Callable[[], str]



class ProcessRuntime:
    """One per app process: the serializer, the script budget and a cache of parsed definitions."""

    serializer_version = SERIALIZER_VERSION

    def __init__(self, script_time_budget: float = 1.0):
        self.serializer = StateSerializer()
        self.script_time_budget = script_time_budget
        self._specs: dict[str, tuple] = {}
        self._lock = threading.Lock()

    # -- definitions -------------------------------------------------------------------------

    def compile(self, files: dict[str, bytes], process_id: str = "complaint") -> CompiledDefinition:
        """Parse and check BPMN and DMN files; raise :class:`DefinitionError` naming the elements."""
        parser = ComplaintsParser()
        for name, data in sorted(files.items()):
            root = parse_xml(data, name)
            try:
                if "DMN" in (etree.QName(root).namespace or "").upper():
                    parser.add_dmn_xml(root, filename=name)
                else:
                    parser.add_bpmn_xml(root, filename=name)
            except ValidationException as err:
                raise DefinitionError([validation_problem(err, name)]) from None
            except Exception as err:
                raise DefinitionError([{"file": name, "message": f"the file could not be read as BPMN or DMN: "
                                                                 f"{type(err).__name__}: {err}"}]) from None
        try:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except ValidationException as err:
            raise DefinitionError([validation_problem(err, None)]) from None
        except Exception as err:  # the library's own failures on foreign diagrams: a verdict, never a crash
            raise DefinitionError([{"message": f"the diagram could not be built: {type(err).__name__}: {err}"}]) from None
        elements = {}
        for task_spec in all_task_specs(spec, subprocess_specs):
            elements[task_spec.bpmn_id] = describe_spec(task_spec)
        try:
            spec_json = self.serializer.dump_spec(spec, subprocess_specs)
        except (TypeError, ValueError) as err:
            raise DefinitionError([{"message": f"the diagram uses something the app cannot run or save: {err}"}]) from None
        return CompiledDefinition(
            process_id=process_id,
            spec_json=spec_json,
            elements=elements,
            service_topics={e["topic"] for e in elements.values() if e.get("topic")},
            lanes={e["lane"] for e in elements.values() if e.get("lane")},
        )

    def _specs_for(self, key: str, spec_json: SpecSource):
        specs = self._specs.get(key)
        if specs is None:
            specs = self.serializer.load_spec(spec_json() if callable(spec_json) else spec_json)
            wire_event_subprocesses(specs[0])
            with self._lock:
                self._specs[key] = specs
        return specs

    # -- workflows -----------------------------------------------------------------------------

    def _engine(self, host: ServiceHost | None) -> RestrictedScriptEngine:
        def call(task, topic, properties):
            return host(ServiceCall(
                topic=topic,
                properties=properties,
                element_id=task.task_spec.bpmn_id,
                element_name=task.task_spec.bpmn_name,
                task_id=str(task.id),
                data=deepcopy(task.data),
            ))
        return RestrictedScriptEngine(self.script_time_budget, host=call if host else None)

    def start(self, key: str, spec_json: SpecSource, data: dict, host: ServiceHost | None = None) -> "Run":
        """Create a workflow on a definition with ``data`` as its start data (not yet stepped)."""
        spec, subprocess_specs = self._specs_for(key, spec_json)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._engine(host))
        workflow.task_tree.data.update(deepcopy(data))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(deepcopy(data))
        return Run(self, workflow)

    def load(self, key: str, spec_json: SpecSource, state_json: str, host: ServiceHost | None = None) -> "Run":
        """Restore a saved workflow; the restricted engine is set again on every load."""
        spec, subprocess_specs = self._specs_for(key, spec_json)
        workflow = self.serializer.load_state(state_json, spec, subprocess_specs, self._engine(host))
        return Run(self, workflow)


class Run:
    """One loaded workflow and the operations that move it."""

    def __init__(self, runtime: ProcessRuntime, workflow: BpmnWorkflow):
        self.runtime = runtime
        self.workflow = workflow

    # -- reading -------------------------------------------------------------------------------

    def open_tasks(self) -> list[OpenTask]:
        """The tasks waiting for a person."""
        return [open_task(t) for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def task_data(self, task_id: str) -> dict:
        return deepcopy(self._task(task_id).data)

    def task_values(self, task_id: str, names) -> dict:
        """Some of a task's data (copies of just those values: cheaper than the whole of ``task_data``)."""
        data = self._task(task_id).data
        return {name: deepcopy(data.get(name)) for name in names}

    def current_data(self) -> dict:
        """The data as the process sees it now (an open task's, else the last finished one's)."""
        for task in self.workflow.get_tasks(state=ACTIVE):
            return deepcopy(task.data)
        task = self.workflow.last_task or self.workflow.task_tree
        return deepcopy(task.data)

    def next_timer_due(self) -> datetime | None:
        due = []
        for event in self.workflow.waiting_events():
            if event.event_type not in TIMER_TYPES or not event.value:
                continue
            value = event.value if isinstance(event.value, str) else event.value.get("next")
            moment = datetime.fromisoformat(value)
            due.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
        return min(due) if due else None

    @property
    def is_completed(self) -> bool:
        return self.workflow.is_completed()

    def dump(self) -> str:
        return self.runtime.serializer.dump_state(self.workflow)

    def size(self) -> int:
        return len(self.workflow.tasks)

    # -- moving --------------------------------------------------------------------------------

    def advance(self) -> StepResult:
        """Run engine tasks until the process waits (for a person, a timer or an incident)."""
        return self._step(None)

    def complete(self, task_id: str, data: dict) -> StepResult:
        """Complete an open user task with (already validated) form data and run on."""
        task = self._task(task_id)
        if not (task.has_state(TaskState.READY) and task.task_spec.manual):
            raise TaskNotOpen(task_id)

        def action():
            task.data.update(deepcopy(data))
            task.run()
            return [task]
        return self._step(action)

    def fire_timers(self) -> StepResult:
        """Fire every timer that is due and run on."""
        def action():
            self.workflow.refresh_timers()
            return []
        return self._step(action)

    def messages(self) -> list[MessageCatch]:
        """Messages the process would catch now: event subprocesses started by a message (not already
        running) and message events it waits at."""
        workflow = self.workflow
        if workflow.is_completed():
            return []
        running = {t.task_spec.name for t in workflow.get_tasks(state=ACTIVE)}
        found = []
        for name in getattr(workflow.spec.start, "trigger_specs", []):
            sp_spec = workflow.subprocess_specs.get(name)
            if sp_spec is None or name in running:
                continue
            for start in sp_spec.bpmn_start_events:
                if is_message(start.event_definition):
                    found.append(message_catch(start, start.extensions.get("interrupting") != "false"))
        for task in workflow.event_manager.tasks.values():
            if task.has_state(TaskState.WAITING) and is_message(task.task_spec.event_definition):
                found.append(message_catch(task.task_spec, False))
        return found

    def send_message(self, name: str, payload: dict) -> StepResult:
        """Deliver a message; an interrupting event subprocess it starts ends everything else."""
        catch = next((m for m in self.messages() if m.name == name), None)
        if catch is None:
            raise MessageNotExpected(name)
        workflow = self.workflow
        definition = message_definition(workflow, catch.element_id)
        subprocess_name = event_subprocess_of(workflow, catch.element_id)

        def action():
            root = workflow.task_tree
            before = {child.id for child in root.children}
            if subprocess_name is not None:
                # Start the event subprocess here rather than through the library's trigger, which
                # rewires the (shared, cached) definition so every later complaint would start it too.
                spec = workflow.spec.task_specs[subprocess_name]
                child = root._add_child(spec, TaskState.FUTURE)
                child.triggered = True
                spec._update(child)
            data = deepcopy(payload)
            if hasattr(definition, "result_var"):  # Camunda's message: the payload lands under this name
                data = {"payload": data, "result_var": name}
            workflow.send_event(BpmnEvent(definition, payload=data))
            if catch.interrupting:
                for child in list(root.children):
                    if child.id in before:
                        child.cancel()
            return []
        return self._step(action)

    def update_data(self, updates: dict) -> StepResult:
        """Put new values into the data of everything waiting, and re-arm the timers whose expressions
        read them (the engine fixes a timer's due time when it first reaches it)."""
        keys = set(updates)

        def action():
            for _task_id, task in all_tasks(self.workflow):
                if not task.has_state(ACTIVE):
                    continue
                task.data.update(deepcopy(updates))
                if task.parent is not None:  # a waiting event copies its parent's data on every look
                    task.parent.data.update(deepcopy(updates))
                definition = getattr(task.task_spec, "event_definition", None)
                expression = getattr(definition, "expression", None) or ""
                if is_timer(definition) and any(key in expression for key in keys):
                    task.internal_data.pop("event_value", None)
            self.workflow.refresh_timers()
            return []
        return self._step(action)

    def migration_problems(self, key: str, spec_json: SpecSource) -> list[MigrationProblem]:
        """Why this workflow cannot move to another version of its diagram (empty: it can). Every task
        still in the (re-rooted) tree must exist in the new version under the same id and of the same kind,
        running subprocesses included; a finished or failed workflow stays where it is."""
        workflow = self.workflow
        if workflow.is_completed():
            return [MigrationProblem("finished")]
        if workflow.get_tasks(state=TaskState.ERROR):
            return [MigrationProblem("failed")]
        spec, subprocess_specs = self.runtime._specs_for(key, spec_json)
        if spec.name != workflow.spec.name:
            return [MigrationProblem("other_process", new=spec.name, old=workflow.spec.name)]
        problems = set()
        targets = {None: spec, **{sp.spec.name: subprocess_specs.get(sp.spec.name)
                                  for sp in workflow.subprocesses.values()}}
        for sub_name, task in [(None, t) for t in workflow.tasks.values()] + [
                (sp.spec.name, t) for sp in workflow.subprocesses.values() for t in sp.tasks.values()]:
            target = targets.get(sub_name)
            if target is None:
                problems.add(MigrationProblem("subprocess_missing", element=sub_name))
                continue
            new = target.task_specs.get(task.task_spec.name)
            label = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
            if new is None:
                kind = "waiting_at_missing" if task.has_state(ACTIVE) else "passed_missing"
                problems.add(MigrationProblem(kind, element=label))
            elif type(new) is not type(task.task_spec):
                problems.add(MigrationProblem("kind_changed", element=label, new=type(new).__name__,
                                              old=type(task.task_spec).__name__))
        return sorted(problems)

    def migrate(self, key: str, spec_json: SpecSource) -> StepResult:
        """Move to another version (check :meth:`migration_problems` first): every task takes the new
        version's element of the same id; nothing runs but what the new version now makes ready."""
        spec, subprocess_specs = self.runtime._specs_for(key, spec_json)
        workflow = self.workflow

        def action():
            workflow.spec = spec
            workflow.subprocess_specs = subprocess_specs
            for task in workflow.tasks.values():
                task.task_spec = spec.task_specs[task.task_spec.name]
            for subprocess in workflow.subprocesses.values():
                target = subprocess_specs[subprocess.spec.name]
                subprocess.spec = target
                for task in subprocess.tasks.values():
                    task.task_spec = target.task_specs[task.task_spec.name]
            return []
        return self._step(action)

    def retry(self, task_id: str | None) -> StepResult:
        """Run a failed task again (its data as before the failure) and run on."""
        def action():
            if task_id is not None:
                task = self._task(task_id)
                if task.has_state(TaskState.ERROR):
                    task.reset_branch(None)
            self.workflow.refresh_timers()
            return []
        return self._step(action)

    def cancel(self) -> StepResult:
        """End the process where it stands (a complaint handled as another one): every task that waits,
        for a person, a timer or a message, is cancelled, and nothing runs on."""
        workflow = self.workflow
        before = {task_id: task.state for task_id, task in all_tasks(workflow)}
        workflow.cancel()
        result = StepResult()
        result.events = events(workflow, before, [])
        prune(workflow)
        result.completed = True
        return result

    def _task(self, task_id: str):
        try:
            task = self.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, KeyError, TaskNotFoundException):  # finished and pruned from the live tree
            task = None
        if task is None:
            raise TaskNotOpen(task_id)
        return task

    def _step(self, action) -> StepResult:
        workflow = self.workflow
        before = {task_id: task.state for task_id, task in all_tasks(workflow)}
        finished = []
        result = StepResult()
        try:
            if action is not None:
                finished.extend(action())
            workflow.do_engine_steps(did_complete_task=finished.append)
        except (SpiffWorkflowException, WorkflowException, ScriptRejected, ScriptTimeout) as err:
            result.incident = incident(workflow, err)
        result.events = events(workflow, before, finished)
        prune(workflow)
        result.completed = workflow.is_completed()
        result.next_timer_due = None if result.completed else self.next_timer_due()
        return result
