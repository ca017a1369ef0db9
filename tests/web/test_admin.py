"""Administrators manage people, roles, authority limits, API tokens and the lane table."""

from __future__ import annotations

import re

from sqlalchemy import select

from complaints_app.extensions import db
from complaints_app.models import AuditEvent, LaneRole, User


def test_create_a_person_with_roles_and_limits(login, people):
    client = login(people.admin)
    response = client.post("/admin/users", data={"username": "newbie", "password": "long enough pw",
                                                 "display_name": "New Bie", "roles": ["supervisor"],
                                                 "limit_PLN": "750", "team": "front_office", "language": "pl"})
    assert response.status_code == 302
    newbie = db.session.scalar(select(User).where(User.username == "newbie"))
    assert newbie.roles == {"supervisor"} and str(newbie.limit_for("PLN")) == "750.00" and newbie.language == "pl"
    client.post("/logout")
    assert client.post("/login", data={"username": "newbie", "password": "long enough pw"}).status_code == 302


def test_change_roles_limits_and_deactivate(login, people, make_user):
    target = make_user("staff")
    client = login(people.admin)
    response = client.post(f"/admin/users/{target.id}", data={"roles": ["staff", "supervisor"], "limit_EUR": "300",
                                                              "language": "en", "active": ""})
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.roles == {"staff", "supervisor"} and not target.is_active and str(target.limit_for("EUR")) == "300.00"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "user_changed")
                             .order_by(AuditEvent.id.desc()).limit(1)).data["user"] == target.username
    client.post("/logout")
    assert client.post("/login", data={"username": target.username,
                                       "password": "correct horse battery"}).status_code == 400


def test_an_admin_cannot_lock_themselves_out(login, people):
    client = login(people.admin)
    response = client.post(f"/admin/users/{people.admin.id}", data={"roles": ["staff"], "language": "en",
                                                                    "active": "1"})
    assert response.status_code == 302
    db.session.refresh(people.admin)
    assert "admin" in people.admin.roles


def test_a_token_is_shown_once_works_and_can_be_revoked(login, people):
    client = login(people.admin)
    made = client.post(f"/admin/users/{people.staff.id}/tokens", data={"name": "crm", "days": "30"})
    assert made.status_code == 302 and made.headers["Location"].endswith(f"/admin/users/{people.staff.id}")
    page = client.get(made.headers["Location"]).data.decode()
    token = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    api = client.application.test_client()
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again = client.get(f"/admin/users/{people.staff.id}").data.decode()
    assert token not in again
    token_id = re.findall(r"/admin/tokens/(\d+)/revoke", again)[-1]
    client.post(f"/admin/tokens/{token_id}/revoke")
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_unknown_pages_and_wrong_methods_answer_in_the_readers_language(login, people):
    client = login(people.admin)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and "Nie ma takiej strony." in missing.data.decode()
    wrong = client.get(f"/admin/users/{people.staff.id}/tokens")
    assert wrong.status_code == 405 and "Tej strony nie można otworzyć w ten sposób" in wrong.data.decode()
    client.post("/language", data={"language": "en", "next": "/inbox"})
    assert client.get("/api/v1/nothing").json["error"]["code"] == "not_found"  # the API keeps JSON


def test_map_a_lane_to_a_role(login, people):
    client = login(people.admin)
    assert client.post("/admin/lanes", data={"lane": "Quality", "role": "supervisor"}).status_code == 302
    assert db.session.get(LaneRole, "Quality").role == "supervisor"
    bad = client.post("/admin/lanes", data={"lane": "Quality", "role": "wizard"})
    assert bad.status_code == 302 and db.session.get(LaneRole, "Quality").role == "supervisor"


def test_preview_every_template_with_sample_data(login, people):
    client = login(people.admin)
    page = client.get("/admin/letters").data.decode()
    for letter_type in ("acknowledgement", "escalation_notice", "final_response", "holding_letter",
                        "summary_resolution"):
        assert f"/admin/letters/{letter_type}/uk" in page
    html = client.get("/admin/letters/final_response/en?place=GB-financial").data.decode()
    assert "Financial Ombudsman Service" in html and "Sarah Jones" in html and "Dear Ms Jones," in html
    assert "Example Retail UK Ltd" in html and "Example Retail Sp. z o.o." not in html  # the UK letterhead
    assert '<p class="crumbs"><a href="/admin/letters">' in html  # in the site's frame, with the way back
    assert '<option value="GB-financial" selected>GB · financial</option>' in html
    assert '<article class="letter-sheet" lang="en">' in html
    switched = client.get("/admin/letters/sample?letter_type=acknowledgement&language=uk&place=UA-consumer")
    assert switched.status_code == 302
    assert switched.location.endswith("/admin/letters/acknowledgement/uk?place=UA-consumer")
    assert client.get("/admin/letters/final_response/pl?place=XX-nowhere").status_code == 400
    pdf = client.get("/admin/letters/final_response/pl?place=PL-financial&format=pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    refused = client.get("/admin/letters/nonsense/pl")
    assert refused.status_code == 400 and b"no letter template" in refused.data
