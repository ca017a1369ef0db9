"""Finding customers and the repeat-complaint hint: useful to staff, and no window on other teams' work."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from complaints_app.domain.complaints import find_customers, find_or_create_customer, register_complaint
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, Complaint


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

    from tests.test_paths import escalate, reviewed

    complaint = register(people.staff, claimed_amount=Decimal("400.00"))
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="product_defect",
             decision="rejected", decision_reasons="Not covered by the warranty")
    reviewed(complaint, open_task, complete)
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


def _register(client, **customer):
    data = {"customer_name": "Anna Nowak", "customer_email": "anna.nowak@example.com", "customer_phone": "",
            "language": "pl", "channel": "email", "category": "delivery", "description": "Late parcel",
            "currency": "PLN", "jurisdiction": "PL", "regime": "consumer", **customer}
    return client.post("/complaints/new", data=data)


def _complaints_of(customer) -> int:
    return db.session.scalar(select(func.count(Complaint.id)).where(Complaint.customer_id == customer.id))


def test_an_email_of_a_stored_customer_with_another_name_asks_before_registering(login, anna):
    customer, _first, same_team, _other = anna
    client = login(same_team)
    asked = _register(client, customer_name="Jan Nowak")
    page = asked.data.decode()
    assert asked.status_code == 409 and "Is this the same customer?" in page
    assert "Anna Nowak" in page and "Jan Nowak" in page and _complaints_of(customer) == 1  # nothing registered
    assert 'value="Late parcel"' in page or "Late parcel" in page  # what was typed is still there

    assert _register(client, customer_name="Jan Nowak").status_code == 409  # plain Register: asked again
    asked = {"asked_email": "anna.nowak@example.com", "asked_phone": ""}
    same = _register(client, customer_name="Jan Nowak", customer_choice=f"same:{customer.id}", **asked)
    assert same.status_code == 302 and _complaints_of(customer) == 2
    db.session.refresh(customer)
    assert customer.name == "Anna Nowak"  # the stored details stay

    updated = _register(client, customer_name="Anna Nowak-Kowalska", customer_choice=f"update:{customer.id}",
                        **asked)
    assert updated.status_code == 302 and _complaints_of(customer) == 3
    db.session.refresh(customer)
    assert customer.name == "Anna Nowak-Kowalska"
    change = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "customer_updated")).all()[-1]
    assert change.data["changes"]["name"] == {"stored": "Anna Nowak", "given": "Anna Nowak-Kowalska"}


def test_only_someone_who_sees_all_the_customers_complaints_may_change_their_details(login, client, anna):
    from complaints_app.domain.users import create_token

    customer, _first, _same, other_team = anna
    web = login(other_team)
    asked = _register(web, customer_name="Jan Nowak")
    page = asked.data.decode()
    assert asked.status_code == 409 and "Is this the same customer?" in page
    assert f'value="update:{customer.id}"' not in page and f'value="same:{customer.id}"' in page
    assert "another team handles some of them" in page
    # The button is not there; a request made without it is refused and changes nothing.
    crafted = _register(web, customer_name="Jan Nowak", customer_choice=f"update:{customer.id}",
                        asked_email="anna.nowak@example.com", asked_phone="")
    assert crafted.status_code == 403 and "can be changed only by someone who may see all" in crafted.data.decode()
    assert 'value="Late parcel"' in crafted.data.decode() or "Late parcel" in crafted.data.decode()
    db.session.refresh(customer)
    assert customer.name == "Anna Nowak" and _complaints_of(customer) == 1

    token = create_token(other_team, "test")
    db.session.commit()
    body = {"customer": {"id": customer.id, "name": "Jan Nowak", "email": "evil@example.com",
                         "update_details": True}, "channel": "email", "category": "delivery",
            "description": "Late parcel", "currency": "PLN", "language": "pl", "jurisdiction": "PL",
            "regime": "consumer"}
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.post("/api/v1/complaints", json=body, headers=headers)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    db.session.refresh(customer)
    assert customer.email == "anna.nowak@example.com" and _complaints_of(customer) == 1
    del body["customer"]["id"], body["customer"]["update_details"]
    body["customer"]["email"] = "anna.nowak@example.com"
    asked = client.post("/api/v1/complaints", json=body, headers=headers)
    assert asked.status_code == 409 and asked.json["error"]["details"]["may_update"] is False
    # Filed for the customer as stored, the complaint is welcome.
    body["customer"]["id"] = customer.id
    assert client.post("/api/v1/complaints", json=body, headers=headers).status_code == 201


def test_an_answer_holds_only_for_the_contact_details_it_was_given_about(login, anna):
    customer, _first, same_team, _other = anna
    client = login(same_team)
    # Asked about Anna's e-mail, the person typed another e-mail but kept her phone: asked again.
    asked = {"asked_email": "anna.nowak@example.com", "asked_phone": "+48 600 100 200"}
    again = _register(client, customer_name="Maria Nowak", customer_email="maria@example.com",
                      customer_phone="+48 600 100 200", customer_choice=f"same:{customer.id}", **asked)
    assert again.status_code == 409 and _complaints_of(customer) == 1
    # Another person sharing the phone: a new customer, Anna untouched.
    new = _register(client, customer_name="Maria Nowak", customer_email="maria@example.com",
                    customer_phone="+48 600 100 200", customer_choice="new")
    assert new.status_code == 302 and _complaints_of(customer) == 1
    db.session.refresh(customer)
    assert (customer.name, customer.email) == ("Anna Nowak", "anna.nowak@example.com")


def test_spelling_the_same_details_differently_asks_nothing(login, anna):
    customer, _first, same_team, _other = anna
    assert _register(login(same_team), customer_name="  anna   NOWAK ", customer_email="anna.nowak@example.com",
                     customer_phone="+48600100200").status_code == 302
    assert _complaints_of(customer) == 2


def test_the_api_names_the_mismatch_and_takes_the_customers_id(client, people, anna):
    from complaints_app.domain.users import create_token

    customer, *_ = anna
    token = create_token(people.staff, "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"customer": {"name": "Jan Nowak", "email": "anna.nowak@example.com"}, "channel": "email",
            "category": "delivery", "description": "Late parcel", "currency": "PLN", "language": "pl",
            "jurisdiction": "PL", "regime": "consumer"}
    refused = client.post("/api/v1/complaints", json=body, headers=headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "customer_mismatch"
    assert refused.json["error"]["details"]["customer"]["id"] == customer.id
    assert refused.json["error"]["details"]["differences"]["name"] == {"stored": "Anna Nowak", "given": "Jan Nowak"}
    assert _complaints_of(customer) == 1
    body["customer"]["id"] = customer.id
    assert client.post("/api/v1/complaints", json=body, headers=headers).status_code == 201
    assert _complaints_of(customer) == 2
    body["customer"]["id"] = 10**6
    assert client.post("/api/v1/complaints", json=body, headers=headers).status_code == 404


def test_search_ignores_case_in_polish_letters_too(login, people, register):
    from complaints_app.domain.complaints import find_or_create_customer as customer_named

    customer = customer_named("Zofia Wiśniewska", "zofia.w@example.com", None, "pl")
    complaint = register_complaint(people.staff, customer=customer, channel="phone", category="product",
                                   description="Łańcuch spadł", currency="PLN", language="pl", jurisdiction="PL",
                                   regime="consumer")
    db.session.commit()
    client = login(people.staff)
    assert complaint.reference in client.get("/complaints?q=WIŚNIEWSKA").data.decode()
    assert complaint.reference in client.get("/complaints?q=łańcuch").data.decode()
    assert customer in find_customers("ŚNIEW")


def test_the_same_registration_form_sent_twice_registers_once(login, people):
    client = login(people.staff)
    import re

    form = client.get("/complaints/new").data.decode()
    (field,) = re.findall(r'<input[^>]*name="intake_key"[^>]*>', form)
    key = re.search(r'value="([^"]+)"', field).group(1)
    first = _register(client, intake_key=key)
    assert first.status_code == 302
    reference = first.headers["Location"].rsplit("/", 1)[-1]
    again = _register(client, intake_key=key)  # a double click, a reload after a timeout
    assert again.status_code == 302 and again.headers["Location"].endswith(reference)
    assert "is registered once" in client.get(again.headers["Location"]).data.decode()
    count = db.session.scalar(select(func.count(Complaint.id)).where(Complaint.description == "Late parcel"))
    assert count == 1
    assert key not in client.get("/complaints/new").data.decode()  # a new form, a new key
