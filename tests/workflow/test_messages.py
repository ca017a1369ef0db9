"""Messages from outside: a waiting message event is offered and delivered like an event subprocess start."""

from __future__ import annotations

import pytest

from complaints_app.workflow import MessageNotExpected, ProcessRuntime
from tests.diagrams import HEADER


def waiting_for_documents() -> bytes:
    """start -> catch message 'documents_received' -> user task 'Check documents' -> end."""
    return (HEADER + '''
  <bpmn:process id="complaint" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="docs" name="Documents received">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="md" messageRef="m"/>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="check" name="Check documents">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="complete" label="Complete?" type="boolean"/>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="docs"/>
    <bpmn:sequenceFlow id="f2" sourceRef="docs" targetRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
  </bpmn:process>
  <bpmn:message id="m" name="documents_received"/>
</bpmn:definitions>''').encode()


def test_a_waiting_message_event_is_offered_and_moves_the_process_on():
    runtime = ProcessRuntime()
    compiled = runtime.compile({"p.bpmn": waiting_for_documents()})
    run = runtime.start("docs", compiled.spec_json, {})
    run.advance()
    run = runtime.load("docs", compiled.spec_json, run.dump())  # as after a save
    offered = run.messages()
    assert [(m.name, m.element_id, m.interrupting) for m in offered] == [("documents_received", "docs", False)]
    with pytest.raises(MessageNotExpected):
        run.send_message("something_else", {})
    result = run.send_message("documents_received", {"reason": "Scans arrived by e-mail"})
    assert result.incident is None
    assert [t.element_id for t in run.open_tasks()] == ["check"]
    assert run.task_data(run.open_tasks()[0].task_id)["documents_received"] == {"reason": "Scans arrived by e-mail"}
    assert run.messages() == []  # caught once
