"""Drafts edited in the browser: saved on the server, validated, deployed as a new version."""

from __future__ import annotations

from sqlalchemy import select

from complaints_app.domain import processes
from complaints_app.extensions import db
from complaints_app.models import ProcessDefinition, ProcessDraft


def start(client, definition) -> int:
    response = client.post(f"/processes/{definition.id}/drafts")
    assert response.status_code == 302
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_a_draft_is_saved_validated_and_deployed(login, people):
    client = login(people.owner)
    latest = processes.latest_definition()
    draft_id = start(client, latest)
    page = client.get(f"/processes/drafts/{draft_id}").data.decode()
    assert 'id="modeller"' in page and "build/modeller.js" in page
    assert '<option value="create_letter">' in page and '<option value="business_due">' in page  # topics offered
    files = client.get(f"/processes/drafts/{draft_id}.json").json["files"]
    assert set(files) == {"complaint.bpmn", "triage.dmn", "compensation.dmn", "approval_level.dmn"}
    redrawn = files["complaint.bpmn"].replace('name="First contact">', 'name="First call">')
    assert client.post(f"/processes/drafts/{draft_id}", json={"files": {"complaint.bpmn": redrawn}}).json == {
        "saved": True}
    assert "First call" in db.session.get(ProcessDraft, draft_id).files["complaint.bpmn"]
    broken = redrawn.replace("fc_resolved == True", "${fc_resolved}")
    problems = client.post(f"/processes/drafts/{draft_id}/validate", json={"files": {"complaint.bpmn": broken}}).json[
        "problems"]
    assert problems and problems[0]["element_id"] == "Flow_Resolved_Yes" and problems[0]["equivalent"] == "fc_resolved"
    refused = client.post(f"/processes/drafts/{draft_id}/deploy", json={"files": {"complaint.bpmn": broken}})
    assert refused.status_code == 400 and refused.json["problems"]
    assert processes.latest_definition().id == latest.id
    done = client.post(f"/processes/drafts/{draft_id}/deploy", json={"files": {"complaint.bpmn": redrawn},
                                                                    "comment": "first contact is a call"})
    assert done.status_code == 200, done.json
    newest = processes.latest_definition()
    assert newest.version == latest.version + 1 and newest.comment == "first contact is a call"
    assert done.json["url"].endswith(f"/processes/{newest.id}")
    assert newest.elements["Task_FirstContact"]["name"] == "First call"
    again = client.post(f"/processes/drafts/{draft_id}/deploy", json={})
    assert again.status_code == 409


def test_drafts_refuse_foreign_files_and_other_roles(login, people):
    client = login(people.owner)
    draft_id = start(client, processes.latest_definition())
    bad = client.post(f"/processes/drafts/{draft_id}", json={"files": {"../evil.bpmn": "<x/>"}})
    assert bad.status_code == 400
    huge = client.post(f"/processes/drafts/{draft_id}", json={"files": {"complaint.bpmn": "<" * (6 * 1024 * 1024)}})
    assert huge.status_code == 400 and "larger than 5 MB" in huge.json["message"]
    assert client.post(f"/processes/drafts/{draft_id}", data="nope").status_code == 400
    staff = login(people.staff)
    assert staff.get(f"/processes/drafts/{draft_id}.json").status_code == 403
    before = dict(db.session.get(ProcessDraft, draft_id).files)
    assert staff.post(f"/processes/drafts/{draft_id}", json={"files": {"complaint.bpmn": "<x/>"}}).status_code in (302,
                                                                                                              403)
    db.session.expire_all()
    assert db.session.get(ProcessDraft, draft_id).files == before
    assert db.session.scalar(select(ProcessDefinition.id).order_by(ProcessDefinition.id.desc()).limit(1)) == \
        processes.latest_definition().id
