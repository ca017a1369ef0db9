"""Diagrams are read from bytes by a hardened parser and compiled with precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaints_app.workflow import DefinitionError, ProcessRuntime
from tests.diagrams import HEADER, script_process

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"


def reference_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(BPMN_DIR.iterdir()) if p.suffix in (".bpmn", ".dmn")}


def test_reference_diagram_compiles_with_lanes_forms_and_topics():
    compiled = ProcessRuntime().compile(reference_files())
    assert compiled.lanes == {"Staff", "Supervisor", "CustomerCentre"}
    assert compiled.service_topics == {"create_letter", "apply_triage", "record_compensation_proposal",
                                       "record_compensation_decision", "record_payout", "record_satisfaction", "business_due",
                                       "summary_resolution_window", "extend_deadline"}
    approve = next(e for e in compiled.elements.values() if e["name"] == "Approve compensation")
    assert approve["properties"]["four_eyes_with"] == "Task_AdjustCompensation"
    adjust = next(e for e in compiled.elements.values() if e["name"] == "Adjust compensation")
    amount = next(f for f in adjust["form"] if f["id"] == "compensation_amount")
    assert (amount["type"], amount["properties"]["prefill"]) == ("decimal", "proposed_compensation")
    start = next(e for e in compiled.elements.values() if e["type"] == "StartEvent")
    assert start["properties"]["status"] == "open"


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="complaint" name="&lol3;"/></bpmn:definitions>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="complaint" name="&xxe;"/></bpmn:definitions>"""


@pytest.mark.parametrize("payload", [ENTITY_BOMB, EXTERNAL_ENTITY], ids=["entity bomb", "external entity"])
def test_dtds_and_entities_are_refused(payload):
    with pytest.raises(DefinitionError, match="DTDs and entity declarations are not accepted"):
        ProcessRuntime().compile({"hostile.bpmn": payload})


def test_a_huge_file_is_refused_before_parsing():
    with pytest.raises(DefinitionError, match="larger than"):
        ProcessRuntime().compile({"big.bpmn": b"<a>" + b" " * (6 * 1024 * 1024) + b"</a>"})


def test_broken_xml_is_named():
    with pytest.raises(DefinitionError) as err:
        ProcessRuntime().compile({"broken.bpmn": b"<bpmn:definitions"})
    assert err.value.problems[0]["file"] == "broken.bpmn"
    assert "not well-formed" in err.value.problems[0]["message"]


def test_declared_encoding_is_honoured():
    text = script_process("y = 1").decode().replace('encoding="UTF-8"', 'encoding="windows-1250"')
    text = text.replace('name="Check"', 'name="Sprawdź zgłoszenie"')
    runtime = ProcessRuntime()
    compiled = runtime.compile({"cp1250.bpmn": text.encode("cp1250")})
    assert compiled.elements["check"]["name"] == "Sprawdź zgłoszenie"


def test_service_task_without_topic_names_the_element():
    bad = HEADER.encode() + b"""<bpmn:process id="complaint" isExecutable="true">
      <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
      <bpmn:serviceTask id="Svc_NoTopic" name="Mystery"><bpmn:incoming>f</bpmn:incoming></bpmn:serviceTask>
      <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="Svc_NoTopic"/></bpmn:process></bpmn:definitions>"""
    with pytest.raises(DefinitionError) as err:
        ProcessRuntime().compile({"x.bpmn": bad})
    assert err.value.problems[0]["element_id"] == "Svc_NoTopic"
    assert "topic" in err.value.problems[0]["message"]


def test_missing_process_is_a_clear_error():
    with pytest.raises(DefinitionError, match="complaint"):
        ProcessRuntime().compile({"p.bpmn": script_process("y = 1", process_id="other")})
