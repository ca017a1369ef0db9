"""Diagrams drawn by other tools (../shared/bpmn-corpus): each gets a verdict naming elements, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from complaints_app.domain import processes

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "bpmn-corpus"
EXPECTED = json.loads((Path(__file__).parent / "data" / "corpus_verdicts.json").read_text())


def test_the_corpus_is_there():
    assert CORPUS.is_dir(), f"the shared BPMN corpus is missing at {CORPUS}"
    assert sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.bpmn")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file_gets_its_committed_verdict(app, name):
    path = CORPUS / name
    verdict = processes.verdict({path.name: path.read_bytes()}, path.name)
    elements = sorted({p.get("element_id") or p.get("process") or p.get("file") for p in verdict["problems"]})
    assert (verdict["accepted"], elements) == (EXPECTED[name]["accepted"], EXPECTED[name]["elements"])
    assert all(p["message"].strip() for p in verdict["problems"])


def test_validate_exit_codes(app):
    runner = app.test_cli_runner()
    accepted = runner.invoke(args=["validate", str(ROOT / "bpmn")])
    assert accepted.exit_code == 0 and "accepted: complaint.bpmn" in accepted.output
    rejected = runner.invoke(args=["validate", "--json", str(CORPUS / "reference" / "C.9.1.bpmn"),
                                   str(CORPUS / "bpmn-io" / "C.1.0-export.bpmn")])
    assert rejected.exit_code == 1
    lines = [json.loads(line) for line in rejected.output.splitlines()]
    assert [item["accepted"] for item in lines] == [False, False]
    assert any(p.get("element_id") == "Event_1m6mn1s" for p in lines[0]["problems"] + lines[1]["problems"])
