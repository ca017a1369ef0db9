"""Finding customers and the repeat-complaint hint: useful to staff, and no window on other teams' work."""

from __future__ import annotations

from decimal import Decimal

import pytest

from complaints_app.domain.complaints import find_customers, find_or_create_customer, register_complaint
from complaints_app.extensions import db


@pytest.fixture
def anna(people, make_user):
    """A customer with one complaint about a kettle, registered by a staff member of its own team."""
    customer = find_or_create_customer("Anna Nowak", "anna.nowak@example.com", "+48 600 100 200", "pl")
    first = register_complaint(people.staff, customer=customer, channel="phone", category="product",
                               description="The kettle leaks", product="Kettle K1", claimed_amount=Decimal("50"),
                               currency="PLN", language="pl", jurisdiction="PL", regime="consumer")
    db.session.commit()
    assert first.team
    same_team = make_user("staff", team=first.team)
    other_team = make_user("staff", team=f"not-{first.team}")
    return customer, first, same_team, other_team


def _register_again(client, customer):
    return client.post("/complaints/new", data={
        "customer_id": customer.id, "customer_name": customer.name, "customer_email": customer.email,
        "customer_phone": customer.phone, "language": "pl", "channel": "email", "category": "product",
        "product": " kettle k1 ", "description": "It leaks again", "claimed_amount": "50", "currency": "PLN",
        "jurisdiction": "PL", "regime": "consumer"}, follow_redirects=True)


def test_the_same_team_sees_which_complaints_came_before(login, anna):
    customer, first, same_team, _other = anna
    client = login(same_team)
    assert first.reference in client.get(f"/complaints/new?customer_id={customer.id}").data.decode()
    page = _register_again(client, customer).data.decode()
    assert "same product in the last 30 days: " + first.reference in page


def test_another_team_learns_only_that_there_are_more(login, anna):
    customer, first, _same, other_team = anna
    client = login(other_team)
    form = client.get(f"/complaints/new?customer_id={customer.id}").data.decode()
    assert first.reference not in form and "Kettle K1" not in form
    assert "1 more complaint in the last 30 days is handled by another team" in form
    page = _register_again(client, customer).data.decode()
    assert first.reference not in page
    assert "1 more complaint about the same product in the last 30 days, handled by another team" in page
    # ... and on the page of the complaint they just registered
    assert "1 more complaint in the last 30 days is handled by another team" in page


def test_the_customer_search_takes_its_text_literally(app, anna):
    assert [c.name for c in find_customers("%%")] == []
    assert [c.name for c in find_customers("_nna")] == []
    assert [c.name for c in find_customers("nna Now")] == ["Anna Nowak"]
    assert [c.name for c in find_customers("600 100")] == ["Anna Nowak"]


def test_decision_forms_start_blank_not_with_an_earlier_or_start_value(login, people, register, open_task,
                                                                        complete):
    import re

    from tests.test_paths import escalate

    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="product_defect",
             decision="rejected", decision_reasons="Not covered by the warranty")
    complete(people.staff, open_task(complaint, "Record customer reply"), customer_reply="appeal",
             reply_channel="email", appeal_reason="The photos show the defect")
    page = login(people.investigator).get(f"/tasks/{open_task(complaint, 'Investigate').id}").data.decode()
    assert "Not covered by the warranty" not in page  # the appealed decision is not offered again
    assert not re.search(r'<option value="rejected"\s+selected', page)
    complaint2 = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint2, open_task, complete)
    complete(people.investigator, open_task(complaint2, "Investigate"), root_cause="product_defect",
             decision="upheld", decision_reasons="Defective batch")
    complete(people.investigator, open_task(complaint2, "Adjust compensation"), compensation_amount="380.50",
             compensation_note="")
    page = login(people.supervisor).get(f"/tasks/{open_task(complaint2, 'Approve compensation').id}").data.decode()
    assert 'name="compensation_approved"' in page and "checked" not in page  # neither Yes nor No chosen
