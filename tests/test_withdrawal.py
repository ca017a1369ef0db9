"""A customer withdraws a complaint: the diagram's event subprocess ends whatever the complaint waits for."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from complaints_app.domain import tasks as task_ops
from complaints_app.domain.errors import Conflict, Forbidden, InvalidInput
from complaints_app.domain.messages import available_messages, send_message
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, HumanTask, Letter, WorkflowInstance

from .test_paths import escalate, letters, statuses


def withdraw(actor, complaint, reason="Customer sorted it out with the shop"):
    send_message(actor, complaint, "complaint_withdrawn", reason)
    db.session.commit()
    db.session.refresh(complaint)


def test_staff_see_the_withdrawal_the_diagram_offers(people, register):
    complaint = register(people.staff)
    offered = available_messages(people.staff, complaint)
    assert [(m.name, m.element_id, m.interrupting) for m in offered] == [
        ("complaint_withdrawn", "StartEvent_Withdrawn", True)]
    assert offered[0].properties["label:pl"] == "Wycofanie reklamacji przez klienta"
    assert available_messages(people.investigator, complaint) == []  # the diagram asks for staff


def test_withdrawal_at_first_contact_ends_the_task_and_its_timer(people, register, open_task):
    complaint = register(people.staff)
    task = open_task(complaint, "First contact")
    withdraw(people.staff, complaint)
    assert complaint.status == "withdrawn"
    assert complaint.closed_at is not None
    assert statuses(complaint)[-1] == "withdrawn"
    db.session.refresh(task)
    assert task.state == "cancelled"
    assert db.session.scalar(select(HumanTask).where(HumanTask.complaint_id == complaint.id,
                                                     HumanTask.state == "open")) is None
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))
    assert instance.is_completed and instance.next_timer_due_at is None  # the SLA timer no longer fires
    assert letters(complaint) == ["acknowledgement", "withdrawal_confirmation"]
    recorded = db.session.scalar(select(AuditEvent).where(AuditEvent.complaint_id == complaint.id,
                                                          AuditEvent.kind == "message_received"))
    assert recorded.actor_id == people.staff.id
    assert recorded.data == {"message": "complaint_withdrawn", "reason": "Customer sorted it out with the shop"}
    with pytest.raises(Conflict):  # the task the customer no longer needs cannot be completed
        task_ops.complete_task(people.staff, task.id, {"fc_resolved": True, "fc_summary": "x"})


def test_withdrawal_during_investigation_cancels_the_investigators_work(people, register, open_task, complete):
    complaint = register(people.staff)
    escalate(people, complaint, open_task, complete)
    investigation = open_task(complaint, "Investigate")
    task_ops.claim(people.investigator, investigation.id)
    db.session.commit()
    withdraw(people.staff, complaint, "Customer withdrew by e-mail")
    assert complaint.status == "withdrawn"
    db.session.refresh(investigation)
    assert investigation.state == "cancelled"
    left = db.session.scalars(select(AuditEvent.element_id).where(
        AuditEvent.complaint_id == complaint.id, AuditEvent.kind == "element_cancelled")).all()
    assert "Task_Investigate" in left


def test_a_withdrawn_complaint_takes_no_second_withdrawal(people, register):
    complaint = register(people.staff)
    withdraw(people.staff, complaint)
    before = db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.complaint_id == complaint.id))
    with pytest.raises(Conflict):
        send_message(people.staff, complaint, "complaint_withdrawn", "again")
    db.session.rollback()
    assert available_messages(people.staff, complaint) == []
    after = db.session.scalar(select(db.func.count(AuditEvent.id)).where(AuditEvent.complaint_id == complaint.id))
    assert after == before


@pytest.mark.parametrize("reason, message, error", [
    ("   ", "complaint_withdrawn", InvalidInput),
    ("x" * 2001, "complaint_withdrawn", InvalidInput),
    ("fine", "no_such_message", Conflict),
])
def test_bad_withdrawals_change_nothing(people, register, open_task, reason, message, error):
    complaint = register(people.staff)
    with pytest.raises(error):
        send_message(people.staff, complaint, message, reason)
    db.session.rollback()
    db.session.refresh(complaint)
    assert complaint.status == "open"
    assert open_task(complaint, "First contact").state == "open"


def test_only_the_role_the_diagram_names_may_record_a_withdrawal(people, register, open_task):
    complaint = register(people.staff)
    with pytest.raises(Forbidden):
        send_message(people.supervisor, complaint, "complaint_withdrawn", "I heard so")
    db.session.rollback()
    assert open_task(complaint).state == "open"
    assert db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id,
                                                  Letter.letter_type == "withdrawal_confirmation")) is None

