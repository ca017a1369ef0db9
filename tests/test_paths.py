"""Every path through the shipped reference diagram, driven through the operations as people would."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from complaints_app.domain import tasks as task_ops
from complaints_app.domain.errors import Conflict, Forbidden
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, Compensation, HumanTask, Letter, User, WorkflowInstance


def statuses(complaint):
    return [e.data["to"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.complaint_id == complaint.id, AuditEvent.kind == "status_changed")
        .order_by(AuditEvent.id))]


def letters(complaint):
    return [letter.letter_type for letter in db.session.scalars(
        select(Letter).where(Letter.complaint_id == complaint.id).order_by(Letter.id))]


def finish_after_resolution(people, complaint, open_task, complete, payout=False):
    """Reply accepted (and payout) -> resolved -> follow-up timer -> satisfaction -> closed."""
    complete(people.staff, open_task(complaint, "Record customer reply"), customer_reply="accept",
             reply_channel="phone")
    db.session.refresh(complaint)
    assert complaint.status == "resolved"  # the customer has accepted: not awaiting them while we pay
    if payout:
        complete(people.staff, open_task(complaint, "Record payout"), payout_reference="TRX-1",
                 paid_on="2026-11-20")
    db.session.refresh(complaint)
    assert complaint.status == "resolved"
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))
    assert instance.next_timer_due_at is not None
    with time_machine.travel(instance.next_timer_due_at + timedelta(seconds=1), tick=False):
        assert task_ops.fire_timers(complaint.id)
        db.session.commit()
    complete(people.staff, open_task(complaint, "Satisfaction follow-up"), customer_reached=True,
             satisfaction_score=4, satisfaction_comment="Quick and fair")
    db.session.refresh(complaint)
    assert complaint.status == "closed"
    assert complaint.satisfaction_score == 4
    assert complaint.closed_at is not None


def render_drafts(complaint):
    """What the worker does after the commit: make the PDFs of the letters just written."""
    from complaints_app.domain.letters import render_letter

    for letter in db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                          Letter.status == "draft")):
        render_letter(letter.id)
    db.session.commit()


def send_letters(complaint):
    """What the worker does: make the PDFs of the letters just written and e-mail them."""
    from complaints_app.tasks.jobs import deliver_letter

    render_drafts(complaint)
    for letter in db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                          Letter.status == "rendered")):
        deliver_letter(letter.id)
    db.session.refresh(complaint)


def reviewed(complaint, open_task, complete, approved=True, **data):
    """The investigator reads the final response written from their decision and sends it (or sends it back)."""
    review = open_task(complaint, "Review the final response")
    assert review.assignee_id is not None  # it goes to whoever investigated
    render_drafts(complaint)
    reviewer = db.session.get(User, review.assignee_id)
    complete(reviewer, review, letter_approved=approved, **data)
    return reviewer


def escalate(people, complaint, open_task, complete):
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=False,
             fc_summary="Customer wants a refund; not possible at the desk")
    complete(people.supervisor, open_task(complaint, "Approve escalation"), escalation_approved=True, escalation_comment="Needs the customer centre")
    db.session.refresh(complaint)
    assert complaint.status == "escalated"
    assert "escalation_notice" in letters(complaint)  # the customer is told where the complaint went


def test_registration_acknowledges_and_triages(people, register, open_task):
    complaint = register(people.staff)
    assert complaint.reference.startswith(f"C-{datetime.now(timezone.utc).year}-")
    assert len(complaint.reference) == len("C-2026-000001")
    assert complaint.status == "open"
    assert (complaint.team, complaint.priority, complaint.statutory_rule) == ("front_office", "normal",
                                                                              "pl-consumer-14d")
    assert letters(complaint) == ["acknowledgement"]
    task = open_task(complaint, "First contact")
    assert task.role == "staff"
    assert task.due_at is not None  # the first-contact SLA drawn on the task (its count: tests/test_calendars.py)


def test_references_are_gap_free_per_year(people, register):
    first = register(people.staff)
    second = register(people.staff)
    assert second.number == first.number + 1


def test_a_rolled_back_registration_gives_its_number_back_and_each_year_starts_at_one(people, register):
    from complaints_app.domain.complaints import next_reference

    with db.session.begin_nested() as abandoned:
        taken, _ = next_reference(2031)
        abandoned.rollback()
    with time_machine.travel(datetime(2031, 1, 1, 0, 0, 5, tzinfo=timezone.utc), tick=False):
        first = register(people.staff)
        second = register(people.staff)
    assert (taken, first.reference, second.reference) == (1, "C-2031-000001", "C-2031-000002")


def test_first_contact_resolution(people, register, open_task, complete):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True,
             fc_summary="Replaced the kettle on the spot")
    assert complaint.status == "awaiting_customer"
    assert letters(complaint) == ["acknowledgement", "final_response"]
    finish_after_resolution(people, complaint, open_task, complete)
    assert statuses(complaint) == ["awaiting_customer", "resolved", "closed"]


def test_escalation_returned_then_resolved(people, register, open_task, complete):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=False, fc_summary="Tried")
    complete(people.supervisor, open_task(complaint, "Approve escalation"), escalation_approved=False,
             escalation_comment="Offer a replacement first")
    assert complaint.status == "open"
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True, fc_summary="Replacement")
    finish_after_resolution(people, complaint, open_task, complete)


def test_rejected_after_investigation(people, register, open_task, complete):
    complaint = register(people.staff)
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="policy", decision="rejected",
             decision_reasons="Wear and tear is not covered")
    assert complaint.status == "escalated"  # the answer waits for its review: nothing went out yet
    assert reviewed(complaint, open_task, complete) == people.investigator
    assert complaint.status == "awaiting_customer"
    assert db.session.scalar(select(Compensation).where(Compensation.complaint_id == complaint.id)) is None
    finish_after_resolution(people, complaint, open_task, complete)


def test_upheld_within_supervisor_limit_is_paid(people, register, open_task, complete):
    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="product_defect",
             decision="upheld", decision_reasons="Defective batch")
    adjust = open_task(complaint, "Adjust compensation")
    complete(people.investigator, adjust, compensation_amount="380.50", compensation_note="Minus shipping")
    approve = open_task(complaint, "Approve compensation")
    complete(people.supervisor, approve, compensation_approved=True, approval_comment="Within policy")
    reviewed(complaint, open_task, complete)
    compensation = db.session.scalar(select(Compensation).where(Compensation.complaint_id == complaint.id))
    assert (compensation.status, compensation.proposed_amount) == ("approved", Decimal("380.50"))
    assert compensation.proposed_by_id == people.investigator.id
    assert compensation.approved_by_id == people.supervisor.id
    finish_after_resolution(people, complaint, open_task, complete, payout=True)
    db.session.refresh(compensation)
    assert (compensation.status, compensation.payout_reference) == ("paid", "TRX-1")


def test_above_supervisor_limit_needs_a_manager(people, register, open_task, complete):
    complaint = register(people.staff, claimed_amount=Decimal("4800.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="product_defect",
             decision="upheld", decision_reasons="Defective")
    complete(people.investigator, open_task(complaint, "Adjust compensation"), compensation_amount=4800)
    approve = open_task(complaint, "Approve compensation")
    with pytest.raises(Forbidden, match="manager"):
        task_ops.complete_task(people.supervisor, approve.id, {"compensation_approved": True,
                                                               "approval_comment": "ok"})
    db.session.rollback()
    assert open_task(complaint, "Approve compensation").state == "open"
    complete(people.manager, approve, compensation_approved=True, approval_comment="Within policy")
    reviewed(complaint, open_task, complete)
    assert complaint.status == "awaiting_customer"


def test_authority_limit_is_personal(people, make_user, register, open_task, complete):
    junior = make_user("supervisor", limits={"PLN": 100})
    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="other", decision="upheld",
             decision_reasons="ok")
    complete(people.investigator, open_task(complaint, "Adjust compensation"), compensation_amount=400)
    approve = open_task(complaint, "Approve compensation")
    with pytest.raises(Forbidden, match="authority limit"):
        task_ops.complete_task(junior, approve.id, {"compensation_approved": True, "approval_comment": "ok"})
    db.session.rollback()
    complete(people.supervisor, approve, compensation_approved=True, approval_comment="Within policy")


def test_four_eyes_the_proposer_never_approves(people, make_user, register, open_task, complete):
    both = make_user("customer_centre", "manager", limits={"PLN": 100000})
    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(both, open_task(complaint, "Investigate"), root_cause="other", decision="upheld", decision_reasons="ok")
    complete(both, open_task(complaint, "Adjust compensation"), compensation_amount=400)
    approve = open_task(complaint, "Approve compensation")
    with pytest.raises(Forbidden, match="four eyes"):
        task_ops.complete_task(both, approve.id, {"compensation_approved": True, "approval_comment": "ok"})
    db.session.rollback()
    complete(people.supervisor, approve, compensation_approved=True, approval_comment="Within policy")


def test_refused_compensation_goes_back_to_the_investigator(people, register, open_task, complete):
    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="other", decision="partly_upheld",
             decision_reasons="Partly")
    complete(people.investigator, open_task(complaint, "Adjust compensation"), compensation_amount=900)
    complete(people.supervisor, open_task(complaint, "Approve compensation"), compensation_approved=False,
             approval_comment="Too much")
    complete(people.investigator, open_task(complaint, "Adjust compensation"), compensation_amount=150)
    complete(people.supervisor2, open_task(complaint, "Approve compensation"), compensation_approved=True, approval_comment="Within policy")
    amounts = [(c.status, c.proposed_amount) for c in db.session.scalars(
        select(Compensation).where(Compensation.complaint_id == complaint.id).order_by(Compensation.id))]
    assert amounts == [("rejected", Decimal("900.00")), ("approved", Decimal("150.00"))]


def test_prefill_comes_from_the_compensation_table(people, register, open_task, complete, app):
    from complaints_app.domain.driver import load

    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="other", decision="partly_upheld",
             decision_reasons="Partly")
    task = open_task(complaint, "Adjust compensation")
    _, run = load(complaint, None, lock=False)
    assert run.task_data(task.id)["proposed_compensation"] == 200.0


def appeal_once(people, complaint, open_task, complete):
    complete(people.staff, open_task(complaint, "Record customer reply"), customer_reply="appeal",
             reply_channel="email", appeal_reason="I disagree")
    assert complaint.status == "escalated"
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="policy", decision="rejected",
             decision_reasons="Still not covered")
    reviewed(complaint, open_task, complete)


def test_three_appeals_then_accept(people, register, open_task, complete):
    complaint = register(people.staff)
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="policy", decision="rejected",
             decision_reasons="Not covered")
    reviewed(complaint, open_task, complete)
    for _ in range(3):
        appeal_once(people, complaint, open_task, complete)
    assert letters(complaint).count("final_response") == 4
    finish_after_resolution(people, complaint, open_task, complete)


def test_first_contact_sla_timer_escalates(people, register, open_task, complete):
    complaint = register(people.staff)
    task = open_task(complaint, "First contact")
    with time_machine.travel(task.due_at - timedelta(minutes=1), tick=False):
        assert not task_ops.fire_timers(complaint.id)
    with time_machine.travel(task.due_at + timedelta(seconds=1), tick=False):
        assert task_ops.fire_timers(complaint.id)
        db.session.commit()
    db.session.refresh(task)
    assert task.state == "cancelled"
    escalation = open_task(complaint, "Approve escalation")
    assert escalation.role == "supervisor"
    with pytest.raises(Conflict):
        task_ops.complete_task(people.staff, task.id, {"fc_resolved": True, "fc_summary": "late"})


def test_no_reply_counts_as_accepted(people, register, open_task, complete):
    complaint = register(people.staff, extra_data={"customer_reply_window": "P14D"})
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True, fc_summary="Fixed")
    reply = open_task(complaint, "Record customer reply")
    with time_machine.travel(reply.due_at + timedelta(seconds=1), tick=False):
        assert task_ops.fire_timers(complaint.id)
        db.session.commit()
    assert complaint.status == "resolved"
    entered = [e.element_name for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.complaint_id == complaint.id, AuditEvent.kind == "element_left"))]
    assert "Deemed accepted" in entered


def test_tasks_on_a_closed_complaint_are_refused(people, register, open_task, complete):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True, fc_summary="Fixed")
    reply = open_task(complaint, "Record customer reply")
    complaint.status = "closed"
    db.session.commit()
    with pytest.raises(Conflict, match="closed"):
        task_ops.complete_task(people.staff, reply.id, {"customer_reply": "accept", "reply_channel": "phone"})


def test_every_element_entered_and_left_is_audited_with_its_version(people, register, open_task, complete):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True, fc_summary="Fixed")
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.complaint_id == complaint.id, AuditEvent.kind.in_(["element_entered", "element_left"]))
        .order_by(AuditEvent.id)))
    left = [e.element_id for e in events if e.kind == "element_left"]
    assert left[:4] == ["StartEvent_ComplaintReceived", "Task_SendAcknowledgement", "Task_Triage",
                        "Task_ApplyTriage"]
    assert "Task_FirstContact" in left
    entered_ids = {e.task_id for e in events if e.kind == "element_entered"}
    assert {e.task_id for e in events if e.kind == "element_left"} <= entered_ids
    assert all(e.definition_id is not None for e in events)


def test_human_tasks_project_the_engine(people, register, open_task, complete):
    complaint = register(people.staff)
    first = open_task(complaint)
    complete(people.staff, first, fc_resolved=False, fc_summary="no")
    rows = {t.name: t.state for t in db.session.scalars(select(HumanTask).where(
        HumanTask.complaint_id == complaint.id))}
    assert rows == {"First contact": "completed", "Approve escalation": "open"}


def test_a_payout_cannot_be_dated_in_the_future_and_a_paid_complaint_cannot_be_withdrawn(people, register, open_task,
                                                                                        complete):
    from complaints_app.domain.errors import InvalidInput
    from complaints_app.domain.messages import available_messages, send_message

    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    assert [m.name for m in available_messages(people.staff, complaint)] == ["complaint_withdrawn"]
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="product_defect",
             decision="upheld", decision_reasons="Defective batch")
    complete(people.investigator, open_task(complaint, "Adjust compensation"), compensation_amount="380.50")
    complete(people.supervisor, open_task(complaint, "Approve compensation"), compensation_approved=True,
             approval_comment="Within policy")
    reviewed(complaint, open_task, complete)
    complete(people.staff, open_task(complaint, "Record customer reply"), customer_reply="accept",
             reply_channel="phone")
    payout = open_task(complaint, "Record payout")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=2)).date().isoformat()
    with pytest.raises(InvalidInput) as refused:
        task_ops.complete_task(people.staff, payout.id, {"payout_reference": "TRX-9", "paid_on": tomorrow})
    assert "paid_on" in refused.value.details["fields"]
    db.session.rollback()
    db.session.refresh(complaint)
    assert complaint.status == "resolved" and available_messages(people.staff, complaint) == []
    with pytest.raises(Conflict):
        send_message(people.staff, complaint, "complaint_withdrawn", "Changed their mind after the refund")
