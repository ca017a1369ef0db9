"""Saved state: the definition by reference, a bounded task tree, a versioned format.

SpiffWorkflow's own format embeds the whole definition in every saved instance and keeps every task
ever run. Here the definition is serialized once per deployed version (``spec_json``) and each saved
state names it; the task tree is re-rooted after every step so it holds only what can still happen
(history lives in the audit table).
"""

from __future__ import annotations

import json
from copy import deepcopy
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_FORMAT
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask

from .specs import DecisionTaskConverter, TopicServiceTask, TopicServiceTaskConverter

# Our layer over SpiffWorkflow's own format version; bump it with an explicit upgrade when it changes.
STATE_FORMAT = "c1"
SERIALIZER_VERSION = f"spiff-{SPIFF_FORMAT}+{STATE_FORMAT}"


class ReferenceWorkflowConverter(BpmnWorkflowConverter):
    """Leave the specs out of the saved state; take them from the caller on restore."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None, script_engine=None):
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config():
    config = deepcopy(CAMUNDA_CONFIG)
    config[TopicServiceTask] = TopicServiceTaskConverter
    config[BusinessRuleTask] = DecisionTaskConverter
    config[BpmnWorkflow] = ReferenceWorkflowConverter
    return config


class StateSerializer:
    """Dump and load workflow state and definition specs with the app's converters."""

    def __init__(self):
        self.registry = BpmnWorkflowSerializer.configure(_config())
        self._spiff = BpmnWorkflowSerializer(registry=self.registry)

    def dump_spec(self, spec, subprocess_specs) -> str:
        return json.dumps({
            "spec": self.registry.convert(spec),
            "subprocess_specs": {k: self.registry.convert(v) for k, v in subprocess_specs.items()},
        })

    def load_spec(self, spec_json: str):
        dct = json.loads(spec_json)
        spec = self.registry.restore(dct["spec"])
        subprocess_specs = {k: self.registry.restore(v) for k, v in dct["subprocess_specs"].items()}
        return spec, subprocess_specs

    def dump_state(self, workflow) -> str:
        return self._spiff.serialize_json(workflow)

    def load_state(self, state_json: str, spec, subprocess_specs, script_engine):
        dct = json.loads(state_json)
        self._spiff.migrate(dct)
        return self.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs, script_engine=script_engine)


def prune(workflow) -> int:
    """Re-root the task tree at the deepest finished task above everything still open.

    Returns how many tasks were dropped. Finished branches carry no future: joins and boundary events
    look only at ancestors of open tasks, and those are kept.
    """
    tasks = workflow.tasks
    open_tasks = [t for t in tasks.values() if not t.has_state(TaskState.COMPLETED | TaskState.CANCELLED)]
    if not open_tasks:
        return 0
    common = _path(open_tasks[0])
    for task in open_tasks[1:]:
        path = _path(task)
        n = 0
        limit = min(len(common), len(path))
        while n < limit and common[n] is path[n]:
            n += 1
        common = common[:n]
    # Not at a task whose spec reads its children (a boundary-event split tells the task from its events
    # by them): an event subprocess started later is added under the root.
    new_root = next((t for t in reversed(common) if t.has_state(TaskState.COMPLETED)
                     and type(t.task_spec).__name__ not in _READS_CHILDREN), None)
    if new_root is None or new_root is workflow.task_tree:
        return 0
    keep = set()
    stack = [new_root]
    while stack:
        task = stack.pop()
        keep.add(task.id)
        stack.extend(task.children)
    dropped = [task_id for task_id in tasks if task_id not in keep]
    for task_id in dropped:
        del tasks[task_id]
        workflow.event_manager.tasks.pop(task_id, None)
        workflow.subprocesses.pop(task_id, None)
    new_root._parent = None
    workflow.task_tree = new_root
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        workflow.last_task = new_root
    return len(dropped)


_READS_CHILDREN = ("BoundaryEventSplit", "EventBasedGateway")


def _path(task) -> list:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    path.reverse()
    return path
