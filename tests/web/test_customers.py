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
