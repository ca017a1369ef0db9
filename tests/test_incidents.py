"""A failing script or service becomes an incident on the complaint; retrying runs the step again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from complaints_app.domain import processes
from complaints_app.domain.users import create_token
from complaints_app.extensions import db
from complaints_app.models import Compensation, DefinitionFile, Incident, ProcessDefinition, WorkflowInstance
from tests.diagrams import script_process


def deploy_variant(owner, script: str, service_topic: str | None = None) -> None:
    text = script_process(script).decode()
    if service_topic:
        text = text.replace('<bpmn:scriptTask id="script" name="Run script" scriptFormat="python">',
                            f'<bpmn:serviceTask id="script" name="Pay out" camunda:type="external" '
                            f'camunda:topic="{service_topic}">')
        text = text.replace(f"<bpmn:script>{script}</bpmn:script>\n    </bpmn:scriptTask>",
                            "</bpmn:serviceTask>")
    files = {"variant.bpmn": text.encode()}
    if service_topic:
        processes.deploy(files, owner, "incident test")
    else:  # a hostile script no deploy accepts now: as if deployed before the check, or written in the database
        compiled = processes.runtime().compile(files)
        latest = processes.latest_definition()
        db.session.add(ProcessDefinition(process_id="complaint", version=latest.version + 1, content_hash="x",
                                         spec_json=compiled.spec_json, elements=compiled.elements,
                                         deployed_by_id=owner.id,
                                         files=[DefinitionFile(filename="variant.bpmn", content=files["variant.bpmn"])]))
    db.session.commit()


def test_hostile_script_is_an_incident_on_the_complaint(client, people, register):
    deploy_variant(people.owner, "y = ().__class__.__base__.__subclasses__()")
    complaint = register(people.staff)
    incident = db.session.scalar(select(Incident).where(Incident.complaint_id == complaint.id))
    assert incident.element_id == "script" and incident.kind == "rejected_script"
    assert "__class__" in incident.message
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))
    assert instance.has_incident
    token = create_token(people.staff, "t")
    db.session.commit()
    body = client.get(f"/api/v1/complaints/{complaint.reference}",
                      headers={"Authorization": f"Bearer {token}"}).json
    assert body["incidents"][0]["kind"] == "rejected_script"
    assert body["tasks"] == []


def test_retry_runs_the_failed_service_again(client, people, register):
    deploy_variant(people.owner, "", service_topic="record_payout")
    complaint = register(people.staff)
    incident = db.session.scalar(select(Incident).where(Incident.complaint_id == complaint.id))
    assert incident.kind == "service" and "no approved compensation" in incident.message
    staff_token, admin_token = create_token(people.staff, "t"), create_token(people.admin, "t")
    db.session.commit()
    refused = client.post(f"/api/v1/incidents/{incident.id}/retry", headers={"Authorization": f"Bearer {staff_token}"})
    assert refused.status_code == 403
    db.session.add(Compensation(complaint_id=complaint.id, currency="PLN", proposed_amount=Decimal("10"),
                                status="approved", proposed_by_id=people.investigator.id,
                                approved_by_id=people.supervisor.id))
    db.session.commit()
    response = client.post(f"/api/v1/incidents/{incident.id}/retry", headers={"Authorization": f"Bearer {admin_token}"})
    assert response.status_code == 200, response.json
    assert response.json["resolved_at"] is not None
    body = client.get(f"/api/v1/complaints/{complaint.reference}",
                      headers={"Authorization": f"Bearer {admin_token}"}).json
    assert [t["name"] for t in body["tasks"]] == ["Check"]
    assert body["compensations"][0]["status"] == "paid"
    again = client.post(f"/api/v1/incidents/{incident.id}/retry", headers={"Authorization": f"Bearer {admin_token}"})
    assert again.status_code == 409


def test_a_failed_retry_opens_a_new_incident(people, register):
    from complaints_app.domain.tasks import retry_incident

    deploy_variant(people.owner, "", service_topic="record_payout")
    complaint = register(people.staff)
    first = db.session.scalar(select(Incident).where(Incident.complaint_id == complaint.id))
    retry_incident(people.admin, first.id)
    db.session.commit()
    incidents = list(db.session.scalars(select(Incident).where(Incident.complaint_id == complaint.id)
                                        .order_by(Incident.id)))
    assert len(incidents) == 2 and incidents[0].resolved_at is not None and incidents[1].resolved_at is None


def test_an_incident_ends_with_its_process_and_cannot_restart_it(people, register, monkeypatch):
    from complaints_app.domain import services
    from complaints_app.domain.errors import Conflict
    from complaints_app.domain.messages import send_message
    from complaints_app.domain.tasks import retry_incident
    from complaints_app.models import HumanTask

    def broken(context, call):
        raise services.ServiceFailed("the letter store is down")

    with monkeypatch.context() as patch:
        patch.setitem(services.SERVICES, "create_letter", broken)
        complaint = register(people.staff)
    incident = db.session.scalar(select(Incident).where(Incident.complaint_id == complaint.id))
    assert incident is not None and incident.resolved_at is None
    send_message(people.staff, complaint, "complaint_withdrawn", "Customer sorted it out with the shop")
    db.session.commit()
    db.session.refresh(incident)
    assert complaint.status == "withdrawn" and incident.resolved_at is not None
    with pytest.raises(Conflict):
        retry_incident(people.admin, incident.id)
    db.session.rollback()
    incident.resolved_at = None  # even an incident left open by older code: the ended process is not re-run
    db.session.commit()
    with pytest.raises(Conflict, match="has ended"):
        retry_incident(people.admin, incident.id)
    db.session.rollback()
    assert db.session.scalars(select(HumanTask).where(HumanTask.complaint_id == complaint.id,
                                                      HumanTask.state == "open")).all() == []


def test_staff_are_told_the_process_stopped_and_process_owners_see_why(login, people, register):
    deploy_variant(people.owner, "y = ().__class__.__base__.__subclasses__()")
    complaint = register(people.staff)
    staff_page = login(people.staff).get(f"/complaints/{complaint.reference}").data.decode()
    assert "The process stopped at “Run script” and waits until it is fixed" in staff_page
    assert "__class__" not in staff_page
    owner_page = login(people.owner).get(f"/complaints/{complaint.reference}").data.decode()
    assert "Problem at “Run script”" in owner_page and "__class__" in owner_page


@pytest.fixture
def write_then_fail():
    """A service that writes (a note) and then fails: its write must not outlive its failure."""
    from complaints_app.domain.notes import add_note
    from complaints_app.domain.services import SERVICES, ServiceFailed, service

    @service("test_write_then_fail")
    def fail(ctx, call):
        add_note(ctx.actor, ctx.complaint, "written by a step that then failed")
        raise ServiceFailed("the step failed after writing")
    yield
    SERVICES.pop("test_write_then_fail")


def test_a_step_that_fails_after_writing_leaves_only_its_incident_and_the_request_answers(
        client, people, write_then_fail):
    from complaints_app.models import AuditEvent, Complaint, Note
    from tests.test_api import COMPLAINT

    deploy_variant(people.owner, "", service_topic="test_write_then_fail")
    token = create_token(people.staff, "t")
    db.session.commit()
    response = client.post("/api/v1/complaints", json=COMPLAINT, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.json
    assert [i["kind"] for i in response.json["incidents"]] == ["service"]
    assert "failed after writing" in response.json["incidents"][0]["message"]
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == response.json["reference"]))
    assert db.session.scalars(select(Note).where(Note.complaint_id == complaint.id)).all() == []
    kinds = db.session.scalars(select(AuditEvent.kind).where(AuditEvent.complaint_id == complaint.id)).all()
    assert kinds.count("complaint_registered") == 1 and "incident_opened" in kinds
