"""A task's page: what the decision needs (the diagram's ``show`` property), why someone cannot complete
it (instead of a form that would be refused), what was typed when a completion is refused, and on a
completed task what was entered."""

from __future__ import annotations

import html
import re
from decimal import Decimal

from complaints_app.domain import tasks as task_ops
from complaints_app.domain.users import create_token
from complaints_app.extensions import db
from complaints_app.models import Complaint
from tests.test_paths import escalate, reviewed


def facts_of(page: str) -> str:
    """The text of the page's "For this step" box, tags and spacing removed."""
    box = page.split('class="task-facts"', 1)[1].split("</section>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", box)).split())


def to_approval(people, register, open_task, complete):
    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="product_defect",
             decision="partly_upheld", decision_reasons="Only the lid was defective", remedy="A new lid")
    complete(people.investigator, open_task(complaint, "Adjust compensation"), compensation_amount="150.00",
             compensation_note="Lid plus postage")
    return complaint, open_task(complaint, "Approve compensation")


def test_the_approver_sees_the_decision_and_both_amounts(login, people, register, open_task, complete, client):
    complaint, approve = to_approval(people, register, open_task, complete)
    token = create_token(people.supervisor, "test")
    db.session.commit()
    item = client.get(f"/api/v1/tasks/{approve.id}", headers={"Authorization": f"Bearer {token}"}).json
    assert item["context"]["decision"] == "partly_upheld" and item["context"]["proposed_compensation"] == 200.0
    client = login(people.supervisor)
    box = facts_of(client.get(f"/tasks/{approve.id}").data.decode())
    for expected in ("Decision Partly upheld", "The investigator's reasons Only the lid was defective",
                     "Remedy offered A new lid", "Compensation the decision table proposed PLN200.00",
                     "Compensation amount PLN150.00", "Note on the compensation Lid plus postage"):
        assert expected in box, box
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    box = facts_of(client.get(f"/tasks/{approve.id}").data.decode())
    assert "Rekompensata zaproponowana przez tabelę decyzyjną 200,00" in box, box
    client.post("/language", data={"language": "en", "next": "/inbox"})


def test_the_supervisor_approving_an_escalation_sees_what_first_contact_did(login, people, register, open_task,
                                                                            complete):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=False,
             fc_summary="Customer <b>wants</b> a refund")
    page = login(people.supervisor).get(f"/tasks/{open_task(complaint, 'Approve escalation').id}").data.decode()
    assert "What was done (internal) Customer <b>wants</b> a refund" in facts_of(page)
    assert "<b>wants</b>" not in page  # escaped, never markup


def test_an_appeal_reaches_the_investigator_with_its_reason(login, people, register, open_task, complete):
    complaint, approve = to_approval(people, register, open_task, complete)
    complete(people.supervisor, approve, compensation_approved=True, approval_comment="Fine")
    reviewed(complaint, open_task, complete)
    reply = open_task(complaint, "Record customer reply")
    box = facts_of(login(people.staff).get(f"/tasks/{reply.id}").data.decode())
    assert "Compensation amount PLN150.00" in box and "Approve the compensation? Yes" in box
    complete(people.staff, reply, customer_reply="appeal", reply_channel="phone", appeal_reason="The base cracked too")
    investigate = open_task(complaint, "Investigate")
    box = facts_of(login(people.investigator).get(f"/tasks/{investigate.id}").data.decode())
    assert "Reason for the appeal The base cracked too" in box
    assert "Why the supervisor escalated it Needs the customer centre" in box  # the task's own name for it


def test_a_completed_task_shows_who_answered_what(login, people, register, open_task, complete):
    complaint = register(people.staff)
    task = open_task(complaint, "First contact")
    complete(people.staff, task, fc_resolved=True, fc_summary="Replaced at the desk")
    page = " ".join(html.unescape(login(people.supervisor).get(f"/tasks/{task.id}").data.decode()).split())
    assert "This task is completed. Completed by" in page
    assert "Resolved with the customer?</dt><dd>Yes" in page and "What was done (internal)</dt><dd>Replaced at the desk" in page


def test_someone_who_cannot_complete_a_task_is_told_why_instead_of_given_the_form(login, people, register,
                                                                                open_task, complete, make_user):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=False, fc_summary="Needs a refund")
    approve = open_task(complaint, "Approve escalation")
    page = login(people.staff).get(f"/tasks/{approve.id}").data.decode()
    assert "You cannot complete this task: this task needs the role supervisor." in page
    assert 'class="task-form"' not in page and "What was done" in page  # the facts, no form

    complaint, approve = to_approval(people, register, open_task, complete)
    small = make_user("supervisor", limits={"PLN": 100})
    page = html.unescape(login(small).get(f"/tasks/{approve.id}").data.decode())
    assert "You cannot complete this task: 150.00 PLN is above your authority limit (100.00 PLN)." in page
    assert 'class="task-form"' not in page
    page = login(people.supervisor).get(f"/tasks/{approve.id}").data.decode()
    assert "You cannot complete this task" not in page and 'class="task-form"' in page


def test_a_refused_completion_keeps_what_was_typed(login, people, register, open_task, complete):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=False, fc_summary="Needs a refund")
    approve = open_task(complaint, "Approve escalation")
    mine = login(people.supervisor)
    assert 'class="task-form"' in mine.get(f"/tasks/{approve.id}").data.decode()
    task_ops.claim(people.supervisor2, approve.id)  # meanwhile, a colleague takes it
    db.session.commit()
    answer = {"escalation_approved": "true", "escalation_comment": "A long, careful reason I would hate to retype"}
    refused = mine.post(f"/tasks/{approve.id}", data=answer)
    page = refused.data.decode()
    assert refused.status_code == 403 and "this task is assigned to someone else" in page
    assert "A long, careful reason I would hate to retype" in page
    assert open_task(complaint, "Approve escalation").state == "open"


def test_a_money_field_names_its_currency_and_starts_with_two_decimals(login, people, register, open_task, complete):
    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="other", decision="partly_upheld",
             decision_reasons="Partly")
    page = login(people.investigator).get(f"/tasks/{open_task(complaint, 'Adjust compensation').id}").data.decode()
    assert "Compensation amount (PLN)" in page and 'value="200.00"' in page
    adjust = open_task(complaint, "Adjust compensation")
    done = login(people.investigator).post(f"/tasks/{adjust.id}", data={"compensation_amount": "1 250,5",
                                                                         "compensation_note": ""})
    assert done.status_code == 302
    assert open_task(complaint, "Approve compensation").context["compensation_amount"] == 1250.5


def test_a_required_yes_no_question_is_announced_as_required_and_as_wrong(login, people, register, open_task):
    import re

    task = open_task(register(people.staff))
    client = login(people.staff)
    radios = re.findall(r'<input type="radio"[^>]*name="fc_resolved"[^>]*>', client.get(f"/tasks/{task.id}").data.decode())
    assert len(radios) == 2 and all("required" in r and "aria-invalid" not in r for r in radios)
    sent_back = client.post(f"/tasks/{task.id}", data={"fc_summary": "Called"})
    assert sent_back.status_code == 400
    radios = re.findall(r'<input type="radio"[^>]*name="fc_resolved"[^>]*>', sent_back.data.decode())
    assert all('aria-invalid="true"' in r for r in radios)


def test_a_task_is_claimed_and_released_from_its_own_page(login, people, register, open_task):
    task = open_task(register(people.staff))
    claim, release = f'action="/tasks/{task.id}/claim"', f'action="/tasks/{task.id}/release"'
    assert claim not in login(people.supervisor).get(f"/tasks/{task.id}").data.decode()  # not theirs to work
    mine = login(people.staff2)
    reference = db.session.get(Complaint, task.complaint_id).reference
    queue = mine.get("/inbox?scope=available").data.decode()  # each button says which task it takes
    assert f'aria-label="Claim: First contact, {reference}"' in queue
    page = mine.get(f"/tasks/{task.id}").data.decode()
    assert claim in page and "Nobody has taken this task yet" in page
    taken = mine.post(f"/tasks/{task.id}/claim", follow_redirects=True).data.decode()
    assert "The task is yours." in taken and f"assigned to {people.staff2.display_name}" in taken
    assert claim not in taken and release in taken
    db.session.expire_all()
    assert db.session.get(type(task), task.id).assignee_id == people.staff2.id
    colleague = login(people.staff).get(f"/tasks/{task.id}").data.decode()
    assert claim not in colleague and release not in colleague
    login(people.staff2).post(f"/tasks/{task.id}/release")
    db.session.expire_all()
    assert db.session.get(type(task), task.id).assignee_id is None
    assert claim in login(people.staff).get(f"/tasks/{task.id}").data.decode()
