"""Process owners see the versions, read any version's diagram and deploy new ones from files."""

from __future__ import annotations

import gc
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from complaints_app.extensions import db
from complaints_app.models import ProcessDefinition

VARIANT = Path(__file__).resolve().parents[1] / "data" / "variant"
BOMB = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>')


def versions() -> int:
    return db.session.scalar(select(func.count(ProcessDefinition.id)))


def test_deploy_a_new_version_from_files(login, people):
    client = login(people.owner)
    page = client.get("/processes").data.decode()
    assert "Deploy a new version" in page and "complaint" in page
    before = versions()
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(VARIANT.iterdir())]
    response = client.post("/processes/deploy", data={"files": files, "comment": "quality review added"},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and versions() == before + 1
    shown = client.get(response.headers["Location"]).data.decode()
    assert "quality review added" in shown and "variant_complaint.bpmn" in shown
    assert f"<h1>Complaint handling (variant 2) · version {before + 1}</h1>" in shown  # the pool's own name
    assert "Complaint handling (variant 2) <code>complaint</code>" in client.get("/processes").data.decode()
    definition_id = int(response.headers["Location"].rsplit("/", 1)[1])
    diagram = client.get(f"/processes/{definition_id}/diagram").json
    assert "V2_User_QualityReview" in diagram["xml"]


def test_a_hostile_or_broken_upload_deploys_nothing_and_says_why(login, people):
    client = login(people.owner)
    before = versions()
    response = client.post("/processes/deploy", data={"files": [(io.BytesIO(BOMB), "bomb.bpmn")]},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "DTDs and entity declarations are not accepted" in response.data.decode()
    other = client.post("/processes/deploy", data={"files": [(io.BytesIO(b"x"), "notes.txt")]},
                        content_type="multipart/form-data")
    assert other.status_code == 302
    assert versions() == before


# Werkzeug's test client spools a large request body to a temporary file it never closes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_external_entities_script_escapes_and_huge_files_are_refused(login, people):
    from tests.diagrams import script_process

    client = login(people.owner)
    before = versions()
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
           b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;</bpmn:definitions>')
    escape = script_process("x = ().__class__.__base__.__subclasses__()")
    for name, data, expected in [("xxe.bpmn", xxe, "DTDs and entity declarations are not accepted"),
                                 ("escape.bpmn", escape, "the script is refused"),
                                 ("big.bpmn", b"<" * (8 * 1024 * 1024), "larger than 5 MB")]:
        response = client.post("/processes/deploy", data={"files": [(io.BytesIO(data), name)]},
                               content_type="multipart/form-data")
        page = response.data.decode()
        assert response.status_code == 400 and expected in page, (name, page[-800:])
        assert "root:" not in page
    huge = client.post("/processes/deploy", data={"files": [(io.BytesIO(b"<" * (51 * 1024 * 1024)), "huge.bpmn")]},
                       content_type="multipart/form-data")
    assert huge.status_code == 413
    assert versions() == before
    del response, huge
    gc.collect()  # let the spooled bodies go here, where their warning is expected


def test_the_version_page_names_its_waiting_tasks_in_the_readers_language(login, people, register):
    from sqlalchemy import select

    from complaints_app.extensions import db
    from complaints_app.models import WorkflowInstance

    complaint = register(people.staff)
    definition_id = db.session.scalar(select(WorkflowInstance.definition_id)
                                      .where(WorkflowInstance.complaint_id == complaint.id))
    client = login(people.owner)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    page = client.get(f"/processes/{definition_id}").data.decode()
    assert "Pierwszy kontakt <code>Task_FirstContact</code>" in page
    version = db.session.get(ProcessDefinition, definition_id).version
    assert f"<h1>Obsługa reklamacji · wersja {version}</h1>" in page  # the pool's label:pl, not the id
    assert "Obsługa reklamacji <code>complaint</code>" in client.get("/processes").data.decode()
    assert 'data-text-waiting="czeka teraz"' in page
    client.post("/language", data={"language": "en", "next": "/inbox"})
    assert f"<h1>Complaint handling · version {version}</h1>" in client.get(f"/processes/{definition_id}").data.decode()
