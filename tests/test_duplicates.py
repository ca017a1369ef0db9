"""The same registration twice within minutes, without the client's own key: marked on both as a possible
duplicate, for staff to keep both or merge one into the other."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from complaints_app.extensions import db
from complaints_app.models import AuditEvent, Complaint
from complaints_app.models.base import utcnow
from tests.test_api import COMPLAINT, auth, create  # noqa: F401 (the auth fixture)


def _get(client, headers, reference: str) -> dict:
    response = client.get(f"/api/v1/complaints/{reference}", headers=headers)
    assert response.status_code == 200
    return response.json


def _kinds(reference: str) -> list[str]:
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
    return list(db.session.scalars(select(AuditEvent.kind).where(AuditEvent.complaint_id == complaint.id)))


def test_the_same_registration_twice_is_marked_on_both(client, auth, people):
    staff = auth(people.staff)
    first = create(client, staff)
    second = create(client, staff, description="  Parcel ARRIVED broken ")  # spacing and case do not count
    assert second["possible_duplicate_of"] == first["reference"]
    assert _get(client, staff, first["reference"])["possible_duplicate_of"] == second["reference"]
    assert "possible_duplicate" in _kinds(first["reference"]) and "possible_duplicate" in _kinds(second["reference"])
    third = create(client, staff, description="The parcel came late")
    assert third["possible_duplicate_of"] is None


def test_no_mark_with_keys_for_other_people_or_after_ten_minutes(client, auth, people):
    staff, staff2 = auth(people.staff), auth(people.staff2)
    keyed = [client.post("/api/v1/complaints", json=COMPLAINT, headers={**staff, "Idempotency-Key": key}).json
             for key in ("k-1", "k-2")]
    assert [c["possible_duplicate_of"] for c in keyed] == [None, None]  # the client says they are two
    first = create(client, staff, product="Lamp")
    assert create(client, staff2, product="Lamp")["possible_duplicate_of"] is None
    db.session.execute(update(Complaint).where(Complaint.reference == first["reference"])
                       .values(created_at=utcnow() - timedelta(minutes=11)))
    db.session.commit()
    assert create(client, staff, product="Lamp")["possible_duplicate_of"] is None


def test_keep_both_takes_the_mark_from_both(client, auth, people):
    staff = auth(people.staff)
    first, second = create(client, staff), create(client, staff)
    response = client.post(f"/api/v1/complaints/{second['reference']}/duplicate/keep", headers=staff)
    assert response.status_code == 200 and response.json["possible_duplicate_of"] is None
    assert _get(client, staff, first["reference"])["possible_duplicate_of"] is None
    assert "duplicate_kept" in _kinds(first["reference"])
    again = client.post(f"/api/v1/complaints/{second['reference']}/duplicate/keep", headers=staff)
    assert again.status_code == 409


def test_merge_ends_the_duplicate_and_leaves_the_other_untouched(client, auth, people):
    staff, owner = auth(people.staff), auth(people.owner)
    first, second = create(client, staff), create(client, staff)
    refused = client.post(f"/api/v1/complaints/{second['reference']}/duplicate/merge", headers=owner)
    assert refused.status_code == 403
    response = client.post(f"/api/v1/complaints/{second['reference']}/duplicate/merge", headers=staff)
    assert response.status_code == 200, response.json
    merged = response.json
    assert merged["status"] == "merged" and merged["merged_into"] == first["reference"]
    assert merged["tasks"] == [] and merged["messages"] == []
    assert {letter["status"] for letter in merged["letters"]} == {"withdrawn"}  # the second acknowledgement
    assert "process_cancelled" in _kinds(second["reference"]) and "merged" in _kinds(second["reference"])
    kept = _get(client, staff, first["reference"])
    assert kept["status"] == "open" and [t["name"] for t in kept["tasks"]] == ["First contact"]
    assert kept["possible_duplicate_of"] is None
    assert "duplicate_merged_here" in _kinds(first["reference"])
    task = first["tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task}/claim", headers=staff).status_code == 200
    stale = second["tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{stale}/claim", headers=staff).status_code == 409


def test_the_complaint_page_offers_keep_and_merge_in_polish(login, people):
    web = login(people.staff)
    web.post("/language", data={"language": "pl"})
    from tests.test_api import COMPLAINT as body
    from complaints_app.domain.complaints import find_or_create_customer, register_complaint

    customer = find_or_create_customer("Anna Nowak", "anna.nowak.dup@example.com", None, "pl")
    made = [register_complaint(people.staff, customer=customer, channel="email", category="delivery",
                               description=body["description"], currency="PLN", language="pl", jurisdiction="PL",
                               regime="consumer", check_duplicates=True) for _ in range(2)]
    db.session.commit()
    page = web.get(f"/complaints/{made[1].reference}").get_data(as_text=True)
    assert made[0].reference in page and "duplicate/merge" in page and "duplicate/keep" in page
    response = web.post(f"/complaints/{made[1].reference}/duplicate/merge")
    assert response.status_code == 302 and made[0].reference in response.headers["Location"]
    page = web.get(f"/complaints/{made[1].reference}").get_data(as_text=True)
    assert f"/complaints/{made[0].reference}" in page and "duplicate/merge" not in page
