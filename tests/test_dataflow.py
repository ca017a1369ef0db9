"""The deploy check refuses a diagram that reads data nothing sets: the complaint would otherwise stop at
that step with a NameError, long after the deploy."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from complaints_app.domain import processes
from complaints_app.domain.errors import InvalidInput

from .diagrams import script_process

ROOT = Path(__file__).resolve().parent.parent
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def problems_of(files: dict[str, bytes]) -> list[dict]:
    with pytest.raises(InvalidInput) as err:
        processes.validate(files)
    return err.value.details["problems"]


def unset(problems, name):
    return [p for p in problems if f"reads '{name}', which nothing sets" in p["message"]]


def shipped() -> dict[str, bytes]:
    return processes.read_files([ROOT / "bpmn"])


def without_first_contact(text: bytes) -> bytes:
    """What a process owner gets by deleting "First contact" (and its timer) in the modeller and drawing
    the flow from the step before it straight to the gateway after it."""
    root = etree.fromstring(text)
    by_id = {n.get("id"): n for n in root.iter() if n.get("id")}
    for element_id in ("Task_FirstContact", "Event_FirstContactSla", "Flow_FirstContact_Resolved"):
        by_id[element_id].getparent().remove(by_id[element_id])
    for flow in root.iter(f"{BPMN}sequenceFlow"):
        if flow.get("sourceRef") == "Event_FirstContactSla":
            flow.getparent().remove(flow)
    by_id["Flow_FirstContactDue_FirstContact"].set("targetRef", "Gateway_Resolved")
    for node in list(root.iter()):
        if node.get("bpmnElement") in ("Task_FirstContact", "Event_FirstContactSla", "Flow_FirstContact_Resolved") \
                or (node.tag == f"{BPMN}flowNodeRef" and node.text in ("Task_FirstContact", "Event_FirstContactSla")):
            node.getparent().remove(node)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_the_shipped_diagrams_read_only_what_something_sets(app):
    assert processes.validate(shipped())
    assert processes.validate(processes.read_files([ROOT / "tests" / "data" / "variant"]))


def test_deleting_the_task_whose_form_a_gateway_reads_is_refused(app):
    files = shipped()
    files["complaint.bpmn"] = without_first_contact(files["complaint.bpmn"])
    found = unset(problems_of(files), "fc_resolved")
    assert [p["element_id"] for p in found] == ["Flow_Resolved_Yes"]
    assert found[0]["message"].startswith("the condition reads 'fc_resolved'")


def test_a_misspelt_key_is_named_with_the_key_meant(app):
    files = shipped()
    files["complaint.bpmn"] = files["complaint.bpmn"].replace(b"fc_resolved == True", b"fc_resolvd == True")
    found = unset(problems_of(files), "fc_resolvd")
    assert [p["element_id"] for p in found] == ["Flow_Resolved_Yes"]
    assert "did you mean 'fc_resolved'?" in found[0]["message"]


def test_a_decision_table_nothing_calls_sets_nothing(app):
    """Triage's outputs (team, SLA durations) come only from the business rule task calling it."""
    files = shipped()
    files["complaint.bpmn"] = files["complaint.bpmn"].replace(b'camunda:decisionRef="triage"',
                                                              b'camunda:decisionRef="compensation"')
    problems = problems_of(files)
    assert unset(problems, "sla_first_contact")  # read by the business_due service's duration_var
    assert not unset(problems, "proposed_compensation")


@pytest.mark.parametrize("script, condition, name", [
    ("x = 1", "again == True and y > 1", "y"),
    ("x = count + 1", "True", "count"),
    ("x = 1", "true", "true"),
])
def test_conditions_and_scripts_reading_unset_names(app, script, condition, name):
    found = unset(problems_of({"p.bpmn": script_process(script, condition)}), name)
    assert found, f"{name} not reported"
    if name == "true":
        assert "did you mean 'True'?" in found[0]["message"]


@pytest.mark.parametrize("script, condition", [
    ("total = 1\nfor i in range(3):\n    total = total + i", "total > 2 and again"),
    ("x = [n * 2 for n in range(3)]", "len([v for v in x if v]) > 1 and reference != ''"),
    ("x = 1", "any(map(lambda v: v > 0, [x, claimed_amount]))"),
])
def test_names_the_script_the_form_the_app_or_the_expression_itself_sets_pass(app, script, condition):
    assert processes.validate({"p.bpmn": script_process(script, condition)})


def test_every_key_a_process_holds_is_one_the_check_knows(app):
    """The services declare what they return, honestly: a key a service adds undeclared would make the
    check refuse a sound diagram reading it."""
    from complaints_app.domain.driver import load
    from complaints_app.domain.services import service_writes
    from complaints_app.extensions import db
    from complaints_app.models import Complaint
    from complaints_app.simulation import WEIGHTS, simulate
    from complaints_app.workflow.dataflow import written_names

    assert simulate(sum(WEIGHTS.values()), seed=3).as_dict()["stuck"] == 0
    held = set()
    for complaint in db.session.scalars(db.select(Complaint)):
        held |= set(load(complaint, None, lock=False)[1].current_data())
    known = written_names(shipped(), processes.start_keys(), service_writes)
    assert held and held - known == set()
