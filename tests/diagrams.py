"""Small diagrams built in tests (the shipped ones live in bpmn/)."""

from __future__ import annotations

from xml.sax.saxutils import escape

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" '
          'targetNamespace="http://bpmn.io/schema/bpmn">\n')


def script_process(script: str, condition: str = "True", process_id: str = "complaint") -> bytes:
    """start -> script task -> gateway(condition) -> user task 'Check' (lane Staff) -> end."""
    return (HEADER + f'''
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="Lane_Staff" name="Staff">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>script</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>gw</bpmn:flowNodeRef><bpmn:flowNodeRef>check</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>other</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="script" name="Run script" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" name="Condition"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f5</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="check" name="Check">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="again" label="Again?" type="boolean"/>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:task id="other" name="Other"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:task>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="check">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="gw" targetRef="other">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">not ({escape(condition)})</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="check" targetRef="end"/>
    <bpmn:sequenceFlow id="f6" sourceRef="other" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
''').encode()


def loop_process() -> bytes:
    """start -> user task 'Again' -> gateway: again -> back to 'Again'; else end (for loop depth)."""
    return (HEADER + '''
  <bpmn:process id="loop" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="merge"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="again_task" name="Again">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="again" label="Again?" type="boolean"/>
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="count" name="Count" scriptFormat="python"><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f5</bpmn:outgoing><bpmn:script>loops = loops + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" default="f6"><bpmn:incoming>f5</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing><bpmn:outgoing>f6</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="again_task"/>
    <bpmn:sequenceFlow id="f3" sourceRef="again_task" targetRef="count"/>
    <bpmn:sequenceFlow id="f5" sourceRef="count" targetRef="gw"/>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="merge">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">again == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f6" sourceRef="gw" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
''').encode()


def decision_process(rows: list[tuple[str, str]]) -> dict[str, bytes]:
    """start -> business rule task (decision 'pick', input x, output choice) -> user task -> end."""
    rules = "".join(
        f'<rule id="r{i}"><inputEntry id="i{i}"><text>{escape(cell)}</text></inputEntry>'
        f'<outputEntry id="o{i}"><text>{escape(out)}</text></outputEntry></rule>'
        for i, (cell, out) in enumerate(rows))
    dmn = f'''<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="pick" name="Pick"><decisionTable id="t" hitPolicy="FIRST">
    <input id="in" label="x"><inputExpression id="ie" typeRef="number"><text>x</text></inputExpression></input>
    <output id="out" name="choice" typeRef="string"/>{rules}
  </decisionTable></decision>
</definitions>'''
    bpmn = HEADER + '''
  <bpmn:process id="complaint" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide" name="Decide" camunda:decisionRef="pick">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:userTask id="check" name="Check"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
'''
    return {"p.bpmn": bpmn.encode(), "pick.dmn": dmn.encode()}


def parallel_process() -> bytes:
    """start -> fork -> user tasks A and B -> join -> user task C -> end."""
    return (HEADER + '''
  <bpmn:process id="par" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="fork"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="A" name="A"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="B" name="B"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:parallelGateway id="join"><bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:userTask id="C" name="C"><bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="A"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="B"/>
    <bpmn:sequenceFlow id="f4" sourceRef="A" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="B" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="C"/>
    <bpmn:sequenceFlow id="f7" sourceRef="C" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
''').encode()
