"""The JSON API: token auth, every operation, JSON errors, and an OpenAPI document that matches."""

from __future__ import annotations

import pytest

from complaints_app.domain.users import create_token
from complaints_app.extensions import db

COMPLAINT = {
    "customer": {"name": "Anna Nowak", "email": "anna.nowak@example.com"},
    "channel": "email", "category": "delivery", "description": "Parcel arrived broken",
    "product": "Vase", "claimed_amount": "89.99", "currency": "PLN", "language": "pl",
    "jurisdiction": "PL", "regime": "consumer",
}


@pytest.fixture
def auth(people):
    def header(user):
        token = create_token(user, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return header


def create(client, headers, **overrides):
    response = client.post("/api/v1/complaints", json={**COMPLAINT, **overrides}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_no_token_is_401_with_a_json_error(client):
    response = client.get("/api/v1/tasks")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    response = client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_register_and_read_a_complaint(client, auth, people):
    staff = auth(people.staff)
    body = create(client, staff)
    assert body["status"] == "open"
    assert body["reference"].startswith("C-")
    assert [t["name"] for t in body["tasks"]] == ["First contact"]
    assert body["letters"][0]["letter_type"] == "acknowledgement"
    assert body["process_version"] >= 1
    kinds = [e["kind"] for e in body["history"]]
    assert kinds[0] == "complaint_registered" and "element_left" in kinds
    again = client.get(f"/api/v1/complaints/{body['reference']}", headers=staff)
    assert again.status_code == 200 and again.json["reference"] == body["reference"]


def test_invalid_complaint_names_each_field_and_changes_nothing(client, auth, people):
    staff = auth(people.staff)
    bad = {**COMPLAINT, "channel": "pigeon", "claimed_amount": "-5", "customer": {"name": "X"}}
    response = client.post("/api/v1/complaints", json=bad, headers=staff)
    assert response.status_code == 400
    fields = response.json["error"]["details"]["fields"]
    assert {"channel", "claimed_amount", "customer"} <= set(fields)
    assert client.get("/api/v1/tasks?scope=available", headers=staff).json["tasks"] == []
    response = client.post("/api/v1/complaints", data="not json", headers=staff)
    assert response.status_code == 400


def test_work_a_task_through_the_api(client, auth, people):
    staff, supervisor = auth(people.staff), auth(people.supervisor)
    body = create(client, staff)
    task_id = body["tasks"][0]["id"]
    available = client.get("/api/v1/tasks?scope=available", headers=staff).json["tasks"]
    assert task_id in [t["id"] for t in available]
    task = client.get(f"/api/v1/tasks/{task_id}", headers=staff).json
    assert {f["id"] for f in task["form"]} == {"fc_resolved", "fc_summary", "fc_answer"}
    answer = next(f for f in task["form"] if f["id"] == "fc_answer")
    assert answer["properties"]["customer_facing"] == "true"  # the one the letter quotes
    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers=staff)
    assert claimed.status_code == 200 and claimed.json["assignee"] == people.staff.username
    mine = client.get("/api/v1/tasks", headers=staff).json["tasks"]
    assert [t["id"] for t in mine] == [task_id]
    done = client.post(f"/api/v1/tasks/{task_id}/complete",
                       json={"data": {"fc_resolved": "false", "fc_summary": "Needs a refund"}}, headers=staff)
    assert done.status_code == 200 and done.json["state"] == "completed"
    response = client.get("/api/v1/tasks?scope=team", headers=supervisor)
    assert response.status_code == 200, response.json
    team = response.json["tasks"]
    assert "Approve escalation" in [t["name"] for t in team if t["complaint"] == body["reference"]]


def test_invalid_form_data_is_400_per_field_and_changes_nothing(client, auth, people):
    staff = auth(people.staff)
    body = create(client, staff)
    task_id = body["tasks"][0]["id"]
    response = client.post(f"/api/v1/tasks/{task_id}/complete",
                           json={"data": {"fc_resolved": "maybe", "fc_summary": "x" * 3000, "hack": 1}},
                           headers=staff)
    assert response.status_code == 400
    fields = response.json["error"]["details"]["fields"]
    assert set(fields) == {"fc_resolved", "fc_summary", "hack"}
    missing = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}, headers=staff)
    assert set(missing.json["error"]["details"]["fields"]) == {"fc_resolved", "fc_summary"}
    assert client.get(f"/api/v1/tasks/{task_id}", headers=staff).json["state"] == "open"


def test_wrong_role_is_403(client, auth, people):
    body = create(client, auth(people.staff))
    task_id = body["tasks"][0]["id"]
    response = client.post(f"/api/v1/tasks/{task_id}/complete",
                           json={"data": {"fc_resolved": True, "fc_summary": "x"}},
                           headers=auth(people.investigator2))
    assert response.status_code in (403, 404)
    response = client.post(f"/api/v1/tasks/{task_id}/claim", headers=auth(people.supervisor))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_someone_elses_claimed_task_is_refused(client, auth, people):
    staff, staff2 = auth(people.staff), auth(people.staff2)
    task_id = create(client, staff)["tasks"][0]["id"]
    client.post(f"/api/v1/tasks/{task_id}/claim", headers=staff)
    response = client.post(f"/api/v1/tasks/{task_id}/complete",
                           json={"data": {"fc_resolved": True, "fc_summary": "x"}}, headers=staff2)
    assert response.status_code == 403
    assert "assigned to someone else" in response.json["error"]["message"]


def test_completing_twice_is_409(client, auth, people):
    staff = auth(people.staff)
    task_id = create(client, staff)["tasks"][0]["id"]
    payload = {"data": {"fc_resolved": True, "fc_summary": "Fixed"}}
    assert client.post(f"/api/v1/tasks/{task_id}/complete", json=payload, headers=staff).status_code == 200
    again = client.post(f"/api/v1/tasks/{task_id}/complete", json=payload, headers=staff)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"


def test_unknown_things_are_404(client, auth, people):
    staff = auth(people.staff)
    assert client.get("/api/v1/tasks/nope", headers=staff).status_code == 404
    assert client.get("/api/v1/complaints/C-1999-000001", headers=staff).status_code == 404
    assert client.post("/api/v1/incidents/999999/retry", headers=auth(people.admin)).status_code == 404
    assert client.get("/api/v1/tasks?scope=everything", headers=staff).status_code == 404


def test_staff_of_another_team_cannot_see_the_complaint(client, auth, people, make_user):
    outsider = make_user("staff", team="billing_team")
    reference = create(client, auth(people.staff))["reference"]  # triaged to front_office
    response = client.get(f"/api/v1/complaints/{reference}", headers=auth(outsider))
    assert response.status_code == 404


def test_openapi_documents_every_api_route(client, app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int:{arg}>", "{" + arg + "}").replace(f"<{arg}>", "{" + arg + "}")
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes
    create_op = doc["paths"]["/api/v1/complaints"]["post"]
    schema_ref = create_op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.rsplit("/", 1)[1] in doc["components"]["schemas"]
    for ops in doc["paths"].values():
        for op in ops.values():
            assert {"400", "401", "403", "404", "409"} <= set(op["responses"])


@pytest.mark.parametrize("path", ["/api/v1/complaints/%C2%B2", "/api/v1/complaints/99999999999999999999999",
                                  "/api/v1/complaints/999999999999999999", "/api/v1/complaints/2147483648",
                                  "/api/v1/tasks?limit=-1", "/api/v1/tasks?offset=99999999999999999999999",
                                  "/api/v1/tasks?limit=abc"])
def test_odd_identifiers_and_paging_are_clear_errors(client, auth, people, path):
    response = client.get(path, headers=auth(people.staff))
    assert response.status_code in (400, 404)
    assert response.json["error"]["code"] in ("invalid", "not_found")


@pytest.mark.parametrize("received_at", ["2026-01-01T10:00:00", "2999-01-01T10:00:00+00:00",
                                         "0001-01-01T00:00:00+14:00", "1850-06-01T10:00:00+00:00"])
def test_received_at_needs_a_zone_and_a_past(client, auth, people, received_at):
    response = client.post("/api/v1/complaints", json={**COMPLAINT, "received_at": received_at},
                           headers=auth(people.staff))
    assert response.status_code == 400
    assert "received_at" in response.json["error"]["details"]["fields"]


def test_process_owners_read_but_do_not_register(client, auth, people):
    response = client.post("/api/v1/complaints", json=COMPLAINT, headers=auth(people.owner))
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_withdraw_a_complaint_through_the_api(client, auth, people):
    staff, supervisor = auth(people.staff), auth(people.supervisor)
    body = create(client, staff)
    assert [m["name"] for m in body["messages"]] == ["complaint_withdrawn"]
    url = f"/api/v1/complaints/{body['reference']}/messages"
    refused = client.post(url, json={"name": "complaint_withdrawn", "reason": "x"}, headers=supervisor)
    assert refused.status_code == 403
    blank = client.post(url, json={"name": "complaint_withdrawn", "reason": " "}, headers=staff)
    assert blank.status_code == 400
    unknown = client.post(url, json={"name": "payment_received", "reason": "x"}, headers=staff)
    assert unknown.status_code == 409
    done = client.post(url, json={"name": "complaint_withdrawn", "reason": "Customer called back"}, headers=staff)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "withdrawn"
    assert done.json["tasks"] == [] and done.json["messages"] == []
    assert "withdrawal_confirmation" in [letter["letter_type"] for letter in done.json["letters"]]
    again = client.post(url, json={"name": "complaint_withdrawn", "reason": "again"}, headers=staff)
    assert again.status_code == 409


@pytest.mark.parametrize("text", ["Replaced \ud800 kettle", "Null\x00byte"])
def test_text_no_database_or_letter_can_hold_is_refused(client, auth, people, text):
    from complaints_app.domain.forms import clean_form

    staff = auth(people.staff)
    refused = client.post("/api/v1/complaints", json={**COMPLAINT, "description": text}, headers=staff)
    assert refused.status_code == 400 and "cannot be stored" in str(refused.json["error"])
    task_id = create(client, staff)["tasks"][0]["id"]
    response = client.post(f"/api/v1/tasks/{task_id}/complete",
                           json={"data": {"fc_resolved": "false", "fc_summary": text}}, headers=staff)
    assert response.status_code == 400 and "cannot be stored" in str(response.json["error"])
    assert client.get(f"/api/v1/tasks/{task_id}", headers=staff).json["state"] == "open"
    with pytest.raises(Exception, match="form has errors"):  # the web form's path: per field
        clean_form([{"id": "fc_summary", "type": "string"}], {"fc_summary": text})


def test_urls_under_the_api_that_match_no_route_answer_in_json(client, auth, people):
    staff = auth(people.staff)
    for path in ("/api/v1/incidents/abc/retry", "/api/v1/incidents/99999999999999999999999/retry"):
        response = client.post(path, headers=staff)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    response = client.delete("/api/v1/tasks", headers=staff)
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


@pytest.mark.sqlite
def test_a_database_that_cannot_take_the_write_is_a_json_503_and_changes_nothing(client, auth, people):
    from sqlalchemy import text

    staff = auth(people.staff)
    task_id = create(client, staff)["tasks"][0]["id"]
    db.session.execute(text("PRAGMA query_only = 1"))  # the next write fails inside the operation
    try:
        response = client.post(f"/api/v1/tasks/{task_id}/claim", headers=staff)
    finally:
        db.session.execute(text("PRAGMA query_only = 0"))
    assert response.status_code == 503 and response.json["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "1"
    assert client.get(f"/api/v1/tasks/{task_id}", headers=staff).json["assignee"] is None


def test_a_registration_sent_again_with_its_idempotency_key_gives_the_same_complaint(client, auth, people):
    from sqlalchemy import func, select

    from complaints_app.models import Complaint

    def count():
        return db.session.scalar(select(func.count(Complaint.id)))

    staff = {**auth(people.staff), "Idempotency-Key": "mail-4711"}
    first = client.post("/api/v1/complaints", json=COMPLAINT, headers=staff)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = count()
    again = client.post("/api/v1/complaints", json=COMPLAINT, headers=staff)  # the client's retry
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["reference"] == first.json["reference"] and count() == before
    other = client.post("/api/v1/complaints", json={**COMPLAINT, "description": "Another one"}, headers=staff)
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"
    assert other.json["error"]["details"]["reference"] == first.json["reference"] and count() == before
    # A key is the registering user's own: another user's same key is another registration.
    theirs = client.post("/api/v1/complaints", json=COMPLAINT,
                         headers={**auth(people.staff2), "Idempotency-Key": "mail-4711"})
    assert theirs.status_code == 201 and theirs.json["reference"] != first.json["reference"]
    for bad in ("", "x" * 101, "zażółć"):
        refused = client.post("/api/v1/complaints", json=COMPLAINT, headers={**staff, "Idempotency-Key": bad})
        assert refused.status_code == 400, bad
    assert count() == before + 1
    document = client.get("/api/v1/openapi.json").json
    create = document["paths"]["/api/v1/complaints"]["post"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= create["parameters"][0].items()
    assert "200" in create["responses"] and "201" in create["responses"]


def test_the_complaint_list_pages_filters_and_shows_only_what_the_caller_may_see(client, auth, people, make_user):
    staff = auth(people.staff)
    mine = [create(client, staff, description=f"Broken vase {i}")["reference"] for i in range(3)]
    create(client, staff, category="billing", description="Charged twice")
    page = client.get("/api/v1/complaints?category=delivery&limit=2", headers=staff)
    assert page.status_code == 200
    listed = [c["reference"] for c in page.json["complaints"]]
    assert listed == mine[::-1][:2] and page.json["next_offset"] == 2  # newest first
    rest = client.get("/api/v1/complaints?category=delivery&limit=2&offset=2", headers=staff).json
    assert mine[0] in [c["reference"] for c in rest["complaints"]]
    by_cursor = client.get("/api/v1/complaints", query_string={"category": "delivery", "limit": 2,
                                                               "after": page.json["next_after"]}, headers=staff).json
    assert [c["reference"] for c in by_cursor["complaints"]][0] == mine[0]
    assert by_cursor["next_offset"] is None
    damaged = client.get("/api/v1/complaints?after=nowhere", headers=staff)
    assert damaged.status_code == 400 and damaged.json["error"]["code"] == "invalid"
    found = client.get("/api/v1/complaints?q=charged+TWICE", headers=staff).json["complaints"]
    assert [c["category"] for c in found] == ["billing"] and found[0]["customer"] == "Anna Nowak"
    # Another team's staff member sees none of them.
    stranger = auth(make_user("staff", team="somewhere-else"))
    seen = {c["reference"] for c in client.get("/api/v1/complaints?limit=200", headers=stranger).json["complaints"]}
    assert not seen & set(mine)
    for bad in ("status=lost", "from=yesterday", "limit=0", "limit=201", "overdue=yes", "offset=-1"):
        refused = client.get(f"/api/v1/complaints?{bad}", headers=staff)
        assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid", bad
    assert "get" in client.get("/api/v1/openapi.json").json["paths"]["/api/v1/complaints"]
