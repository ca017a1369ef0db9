"""The BPMN/DMN parser: Camunda Modeler's dialect, read from bytes by a hardened XML parser."""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ParallelGateway,
    ScriptTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.parser.task_parsers import ConditionalGatewayParser, GatewayParser
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import (
    CAMUNDA_MODEL_NS,
    BusinessRuleTaskParser,
    ScriptTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.camunda.specs.user_task import UserTask

from .specs import FirstHitDMNEngine, TopicServiceTask

CAMUNDA = "{" + CAMUNDA_MODEL_NS + "}"


class CamundaPropertiesMixin:
    """Read ``camunda:properties`` on every element, not only on tasks."""

    def parse_extensions(self, node=None):
        node = self.node if node is None else node
        nodes = node.xpath(
            "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=self.nsmap
        )
        return {n.get("name"): n.get("value") for n in nodes if n.get("name")}


class TopicServiceTaskParser(CamundaPropertiesMixin, TaskParser):
    def create_task(self):
        topic = self.node.get(CAMUNDA + "topic")
        if not topic:
            self.raise_validation_exception(
                "service task needs an implementation 'External' with a topic naming an app service"
            )
        return self.spec_class(self.spec, self.bpmn_id, topic=topic, **self.bpmn_attributes)


class DecisionTaskParser(BusinessRuleTaskParser):
    def create_task(self):
        task = super().create_task()
        task.dmnEngine = FirstHitDMNEngine(task.dmnEngine.decision_table)
        return task

    @staticmethod
    def get_decision_ref(node):
        ref = node.get(CAMUNDA + "decisionRef")
        if not ref:
            raise ValidationException("business rule task has no camunda:decisionRef", node=node)
        return ref


class StartEventParser(CamundaPropertiesMixin, CamundaStartEventParser):
    """Start events also keep ``isInterrupting`` (an event subprocess's start may leave the rest running)."""

    def parse_extensions(self, node=None):
        properties = super().parse_extensions(node)
        if (node is None or node is self.node) and self.node.get("isInterrupting", "true").lower() == "false":
            properties["interrupting"] = "false"
        return properties


def _with_properties(parser_cls):
    return type(parser_cls.__name__, (CamundaPropertiesMixin, parser_cls), {})


class ComplaintsParser(CamundaParser):
    """CamundaParser plus external service tasks by topic and properties on every element."""

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (UserTaskParser, UserTask),
        full_tag("serviceTask"): (TopicServiceTaskParser, TopicServiceTask),
        full_tag("businessRuleTask"): (DecisionTaskParser, BusinessRuleTask),
        full_tag("scriptTask"): (_with_properties(ScriptTaskParser), ScriptTask),
        full_tag("startEvent"): (StartEventParser, StartEvent),
        full_tag("endEvent"): (_with_properties(CamundaEndEventParser), EndEvent),
        full_tag("intermediateCatchEvent"): (
            _with_properties(CamundaIntermediateCatchEventParser),
            IntermediateCatchEvent,
        ),
        full_tag("intermediateThrowEvent"): (
            _with_properties(CamundaIntermediateThrowEventParser),
            IntermediateThrowEvent,
        ),
        full_tag("boundaryEvent"): (_with_properties(CamundaBoundaryEventParser), BoundaryEvent),
        full_tag("exclusiveGateway"): (_with_properties(ConditionalGatewayParser), ExclusiveGateway),
        full_tag("inclusiveGateway"): (_with_properties(ConditionalGatewayParser), InclusiveGateway),
        full_tag("parallelGateway"): (_with_properties(GatewayParser), ParallelGateway),
    }
