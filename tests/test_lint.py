"""Validation before deploy: what the parser accepts but the engine would run wrong, each problem naming
the element and giving the equivalent that works here."""

from __future__ import annotations

import pytest

from complaints_app.domain import processes
from complaints_app.domain.errors import InvalidInput
from complaints_app.workflow.lint import lint_files, python_equivalent

from .diagrams import HEADER, script_process


def problems_of(files: dict[str, bytes]) -> list[dict]:
    with pytest.raises(InvalidInput) as err:
        processes.validate(files)
    return err.value.details["problems"]


def about(problems, element_id):
    return [p for p in problems if p.get("element_id") == element_id]


@pytest.mark.parametrize("condition, equivalent", [
    ("${!approved}", "not approved"),
    ("#{amount > 100 && approved}", "amount > 100 and approved"),
    ('= decision = "rejected"', 'decision == "rejected"'),
    ("${approved eq true}", "approved == True"),
])
def test_modeller_expressions_in_conditions_get_their_python_equivalent(app, condition, equivalent):
    found = about(problems_of({"c.bpmn": script_process("x = 1", condition)}), "f3")
    assert found and found[0]["equivalent"] == equivalent, found
    assert equivalent in found[0]["message"]


def test_translations_of_feel_and_juel():
    assert python_equivalent("${a != b || !c}") == "a != b or not c"
    assert python_equivalent("x = null") == "x == None"


def timer_process(expression: str, kind: str = "timeDuration") -> bytes:
    return (HEADER + f'''
  <bpmn:process id="complaint" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="Lane_Staff" name="Staff"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>wait</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td"><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>''').encode()


@pytest.mark.parametrize("expression, kind, equivalent", [
    ("PT2S", "timeDuration", '"PT2S"'),
    ("P14D", "timeDuration", '"P14D"'),
    ("2026-12-24T10:00:00Z", "timeDate", '"2026-12-24T10:00:00Z"'),
    ("${reply_window}", "timeDuration", "reply_window"),
])
def test_timers_written_as_modellers_write_them(app, expression, kind, equivalent):
    found = about(problems_of({"t.bpmn": timer_process(expression, kind)}), "wait")
    assert found[0]["equivalent"] == equivalent and found[0]["element_name"] == "Wait"


def test_a_quoted_duration_passes(app):
    assert lint_files({"t.bpmn": timer_process('"PT2S"')}) == []


@pytest.mark.parametrize("script", ["import os\nx = os.getcwd()", "x = ().__class__.__base__", "exec('1')"])
def test_scripts_the_restricted_environment_refuses_are_named(app, script):
    found = about(problems_of({"s.bpmn": script_process(script)}), "script")
    assert found and "refused" in found[0]["message"]


def test_user_tasks_without_a_form_unreachable_elements_and_dead_ends(app):
    text = script_process("x = 1").decode()
    text = text.replace('''      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="again" label="Again?" type="boolean"/>
      </camunda:formData></bpmn:extensionElements>
''', "")
    text = text.replace('<bpmn:endEvent id="end">', '<bpmn:task id="orphan" name="Forgotten"/>'
                        '<bpmn:task id="stop" name="Stops"><bpmn:incoming>f9</bpmn:incoming></bpmn:task>'
                        '<bpmn:sequenceFlow id="f9" sourceRef="orphan" targetRef="stop"/><bpmn:endEvent id="end">')
    found = problems_of({"g.bpmn": text.encode()})
    assert "no form" in about(found, "check")[0]["message"]
    assert any("never be reached" in p["message"] for p in about(found, "orphan"))
    assert any("stop dead" in p["message"] for p in about(found, "stop"))


def dmn(policy: str, cell: str) -> bytes:
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="D" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="pick" name="Pick a team">
    <decisionTable id="t" hitPolicy="{policy}">
      <input id="i1" label="Amount"><inputExpression id="e1" typeRef="number"><text>claimed_amount</text></inputExpression></input>
      <output id="o1" label="Team" name="team" typeRef="string"/>
      <rule id="r1"><inputEntry id="c1"><text>{cell}</text></inputEntry><outputEntry id="c2"><text>"billing"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>'''.encode()


@pytest.mark.parametrize("cell, equivalent", [
    ("[0..50]", "0 <= ? <= 50"),
    ("]0..50[", "0 < ? < 50"),
    ('"a","b"', '? in ("a", "b")'),
    ('not("x")', '? != "x"'),
    ('not("x", "y")', '? not in ("x", "y")'),
    ("-", "an empty cell"),
])
def test_dmn_cells_that_never_match_here(cell, equivalent):
    found = [p for p in lint_files({"d.dmn": dmn("FIRST", cell)}) if p["element_id"] == "r1"]
    assert found and found[0]["equivalent"] == equivalent


@pytest.mark.parametrize("cell", ["> 1000", '"PL"', "0 <= ? <= 50", '? in ("a", "b")', ""])
def test_python_cells_pass(cell):
    assert lint_files({"d.dmn": dmn("FIRST", cell)}) == []


@pytest.mark.parametrize("policy, flagged", [("FIRST", False), ("UNIQUE", False), ("COLLECT", False),
                                             ("ANY", True), ("PRIORITY", True), ("RULE ORDER", True)])
def test_hit_policies_the_engine_treats_as_first(policy, flagged):
    found = [p for p in lint_files({"d.dmn": dmn(policy, '"x"')}) if p["element_id"] == "pick"]
    assert bool(found) == flagged
    if flagged:
        assert found[0]["element_name"] == "Pick a team" and "FIRST" in found[0]["message"]


def test_a_file_in_another_declared_encoding_is_read_correctly(app):
    text = script_process("x = 1").decode().replace('name="Check"', 'name="Sprawdź zgłoszenie – żółć"')
    latin2 = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-2"').replace("–", "-").encode("iso-8859-2")
    compiled = processes.validate({"latin2.bpmn": latin2})
    assert compiled.elements["check"]["name"] == "Sprawdź zgłoszenie - żółć"


def test_the_shipped_diagram_is_clean(app):
    from pathlib import Path

    files = processes.read_files([Path(__file__).resolve().parent.parent / "bpmn"])
    assert lint_files(files) == []


def form_process(fields: str) -> dict[str, bytes]:
    text = script_process("x = 1").decode().replace(
        '<camunda:formField id="again" label="Again?" type="boolean"/>', fields)
    return {"f.bpmn": text.encode()}


def field(kind: str, *constraints: tuple[str, str | None], extra: str = "") -> str:
    rules = "".join(f'<camunda:constraint name="{n}"' + (f' config="{c}"' if c is not None else "") + "/>"
                    for n, c in constraints)
    return (f'<camunda:formField id="f" label="F" type="{kind}">{extra}'
            f'<camunda:validation>{rules}</camunda:validation></camunda:formField>')


@pytest.mark.parametrize("fields, expected", [
    (field("long", ("max", "ten")), "max must be a whole number, not 'ten'"),
    (field("long", ("min", "1.5")), "min must be a whole number, not '1.5'"),
    (field("decimal", ("min", "NaN")), "min must be a number, not 'NaN'"),
    (field("date", ("max", "2026-13-01")), "max must be a date as YYYY-MM-DD, not '2026-13-01'"),
    (field("decimal", ("min", "100"), ("max", "10")), "min is greater than max"),
    (field("string", ("maxlength", "2k")), "maxlength must be a whole number of characters, not '2k'"),
    (field("string", ("minlength", "10"), ("maxlength", "5")), "minlength is greater than maxlength"),
    (field("long", ("maxlength", "5")), "maxlength applies to string fields only"),
    (field("boolean", ("max", "1")), "max applies to long, decimal or date fields only"),
    (field("enum"), "is an enum without values"),
    (field("enum", extra='<camunda:value id="a" name="A"/><camunda:value id="a" name="B"/>'), "lists a value twice"),
    (field("string") + field("long"), "form field 'f' appears twice"),
])
def test_form_constraints_that_could_never_be_checked_are_refused_at_deploy(app, fields, expected):
    found = about(problems_of(form_process(fields)), "check")
    assert any(expected in p["message"] for p in found), found


def test_sound_form_constraints_deploy(app):
    fields = (field("long", ("min", "0"), ("max", "10")).replace('id="f"', 'id="n"')
              + field("decimal", ("min", "0.01"), ("max", "999.99")).replace('id="f"', 'id="d"')
              + field("date", ("min", "2026-01-01")).replace('id="f"', 'id="w"')
              + field("string", ("required", None), ("minlength", "2"), ("maxlength", "20")).replace('id="f"', 'id="s"'))
    assert processes.validate(form_process(fields))


@pytest.mark.parametrize("bound", ["20240101", "2024-W01-1", " 2030-01-01"])
def test_date_bounds_must_be_written_as_the_form_compares_them(app, bound):
    found = about(problems_of(form_process(field("date", ("min", bound)))), "check")
    assert any("min must be a date as YYYY-MM-DD" in p["message"] for p in found), found


def test_today_is_a_date_bound_and_statuses_must_be_known(app):
    assert processes.validate(form_process(field("date", ("max", "today"))))
    text = form_process("").popitem()[1].decode().replace(
        '<bpmn:startEvent id="start">', '<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="statuses" value="open, finished"/></camunda:properties></bpmn:extensionElements>')
    found = about(problems_of({"s.bpmn": text.encode()}), "start")
    assert any("statuses lists 'finished'" in p["message"] for p in found), found
