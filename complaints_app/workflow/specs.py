"""Task specs the app adds to SpiffWorkflow, and their serializer converters."""

from __future__ import annotations

from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.serializer.task_spec import BaseBusinessRuleTaskConverter
from SpiffWorkflow.dmn.specs.model import HitPolicy

from .scripting import check_saveable


class TopicServiceTask(ServiceTask):
    """A Camunda external task: the host runs the function registered for ``topic``.

    The call is synchronous inside the engine step; whatever it returns is merged into the task data.
    A failure leaves the task in ERROR, which the host records as an incident and can retry.
    """

    def __init__(self, wf_spec, bpmn_id, topic=None, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _execute(self, task):
        properties = dict(getattr(self, "extensions", None) or {})
        updates = task.workflow.script_engine.call_service(task, topic=self.topic, properties=properties)
        if updates:
            task.data.update(updates)
        return True


class TopicServiceTaskConverter(BpmnTaskSpecConverter):
    def to_dict(self, spec):
        dct = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        return dct

    def from_dict(self, dct):
        return self.task_spec_from_dict(dct)


class FirstHitDMNEngine(DMNEngine):
    """Stop at the first matching rule unless the table collects.

    SpiffWorkflow evaluates every rule and then keeps the first match for all hit policies but
    COLLECT; stopping at the first match gives the same result without evaluating the rest.
    """

    def decide(self, task):
        if self.decision_table.hit_policy == HitPolicy.COLLECT.value:
            return super().decide(task)
        check = self._DMNEngine__check_rule  # the library's own per-rule test (name-mangled)
        for rule in self.decision_table.rules:
            if check(rule, task):
                return [rule]
        return []


    def result(self, task):
        outputs = super().result(task)
        for key, value in outputs.items():
            check_saveable(key, value)
        return outputs


class DecisionTaskConverter(BaseBusinessRuleTaskConverter):
    def from_dict(self, dct):
        table = self.decision_table_from_dict(dct.pop("decision_table"))
        dct["dmnEngine"] = FirstHitDMNEngine(table)
        return self.task_spec_from_dict(dct)
