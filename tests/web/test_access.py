"""Who may open which page: every route, every role (anonymous people are sent to log in)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from complaints_app.domain import drafts
from complaints_app.domain.attachments import add_attachment, read_upload
from complaints_app.domain.letters import render_letter
from complaints_app.extensions import db
from complaints_app.models import Letter, WorkflowInstance
from tests.conftest import PEOPLE

ROLES = list(PEOPLE)
WRITERS = ["staff", "staff2", "supervisor", "supervisor2", "manager", "investigator", "investigator2", "admin"]


@pytest.fixture
def world(people, register, open_task, complete):
    """A complaint waiting for the customer centre's investigation, and one at first contact."""
    escalated = register(people.staff)
    complete(people.staff, open_task(escalated), fc_resolved=False, fc_summary="no")
    complete(people.supervisor, open_task(escalated), escalation_approved=True, escalation_comment="Go")
    fresh = register(people.staff)
    attachment = add_attachment(people.staff, escalated, read_upload("note.txt", io.BytesIO(b"hello")))
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == escalated.id).limit(1))
    render_letter(letter.id)
    definition = db.session.scalar(select(WorkflowInstance.definition_id).where(
        WorkflowInstance.complaint_id == escalated.id))
    draft = drafts.start_draft(people.owner, definition)
    db.session.commit()
    return {"draft": draft.id, "escalated": escalated, "investigate": open_task(escalated), "fresh": fresh,
            "first_contact": open_task(fresh), "admin_id": people.admin.id, "attachment": attachment.id,
            "letter": letter.id, "definition": db.session.scalar(select(WorkflowInstance.definition_id).where(
                WorkflowInstance.complaint_id == escalated.id))}


def routes(world):
    e, f = world["escalated"].reference, world["fresh"].reference
    investigate, first = world["investigate"].id, world["first_contact"].id
    # (method, path, roles allowed (200/302), status for the others)
    return [
        ("GET", "/inbox", ROLES, None),
        ("GET", "/approvals", ["supervisor", "supervisor2", "manager", "admin"], 403),
        ("GET", "/complaints", ROLES, None),
        ("GET", "/complaints.csv", ROLES, None),
        ("GET", "/complaints/new", ["staff", "staff2", "supervisor", "supervisor2", "manager", "investigator",
                                    "investigator2", "admin"], 403),
        ("GET", f"/complaints/{e}", ROLES, None),
        ("GET", f"/complaints/{e}/diagram", ROLES, None),
        ("GET", f"/complaints/{f}", ["staff", "staff2", "supervisor", "supervisor2", "manager", "owner", "admin"], 404),
        ("GET", f"/tasks/{investigate}", ROLES, None),
        ("GET", f"/tasks/{first}", ["staff", "staff2", "supervisor", "supervisor2", "manager", "owner", "admin"], 404),
        ("POST", f"/tasks/{first}/claim", ["staff", "staff2"], (302, 403, 404)),
        ("POST", f"/tasks/{investigate}/claim", ["investigator", "investigator2"], (302, 403, 404)),
        ("GET", f"/attachments/{world['attachment']}", ROLES, None),
        ("GET", f"/letters/{world['letter']}", ROLES, None),
        ("GET", f"/letters/{world['letter']}.pdf", ROLES, None),
        ("GET", f"/letters/{world['letter']}/view.pdf", ROLES, None),
        ("POST", f"/letters/{world['letter']}/resend", ["staff", "staff2", "supervisor", "supervisor2", "manager",
                                                       "investigator", "investigator2", "admin"], (302, 403)),
        ("GET", "/outbox", ["supervisor", "supervisor2", "manager", "admin"], 403),
        ("GET", "/at-risk", ["supervisor", "supervisor2", "manager", "owner", "admin"], 403),
        ("GET", "/reports", ["supervisor", "supervisor2", "manager", "owner", "admin"], 403),
        ("POST", f"/complaints/{e}/extend", [], (302, 403, 404)),
        ("POST", f"/complaints/{e}/messages", [], (302, 403, 404)),
        ("POST", "/notifications/read", ROLES, None),
        ("GET", "/processes", ["owner", "admin"], 403),
        ("GET", f"/processes/{world['definition']}", ["owner", "admin"], 403),
        ("GET", f"/processes/{world['definition']}/diagram", ["owner", "admin"], 403),
        ("POST", "/processes/deploy", [], (302, 403)),
        ("GET", f"/processes/{world['definition']}/migration", ["owner", "admin"], 403),
        ("POST", f"/processes/{world['definition']}/drafts", ["owner", "admin"], 403),
        ("POST", f"/processes/{world['definition']}/redeploy", ["owner", "admin"], 403),
        ("GET", f"/processes/drafts/{world['draft']}", ["owner", "admin"], 403),
        ("GET", f"/processes/drafts/{world['draft']}.json", ["owner", "admin"], 403),
        ("POST", f"/processes/drafts/{world['draft']}", [], (400, 403)),
        ("POST", f"/processes/drafts/{world['draft']}/validate", [], (400, 403)),
        ("POST", f"/processes/drafts/{world['draft']}/deploy", [], (400, 403)),
        ("POST", f"/processes/{world['definition']}/migration", ["owner", "admin"], 403),
        ("POST", f"/letters/{world['letter']}/render", [], (302, 403)),  # rendered already: refused, changes nothing
        ("POST", f"/letters/{world['letter']}/returned", [], (302, 403)),
        ("GET", f"/complaints/{e}/write", WRITERS, 403),
        ("GET", f"/complaints/{f}/write", [w for w in WRITERS if w not in ("investigator", "investigator2")], (403, 404)),
        ("POST", f"/complaints/{e}/write", [], (400, 403)),  # nothing written: the form comes back
        ("POST", f"/complaints/{e}/notes", [], (302, 403)),
        ("POST", f"/complaints/{e}/duplicate/keep", [], (302, 403)),  # not marked: refused, changes nothing
        ("POST", f"/complaints/{e}/duplicate/merge", [], (302, 403)),
        ("POST", f"/complaints/{e}/contact", [], (302, 403)),
        ("POST", f"/complaints/{e}/answer-channel", WRITERS, 403),
        ("GET", "/post", WRITERS, 403),
        ("POST", "/post/runs", [], (302, 403)),  # nothing waits to be printed
        ("GET", "/post/runs/999999.pdf", [], (403, 404)),
        ("POST", "/post/runs/999999/posted", [], (302, 403, 404)),
        ("POST", "/post/runs/999999/retry", [], (403, 404)),
        ("POST", "/incidents/999999/retry", [], (302, 403, 404)),  # supervisors and owners: no such incident
        ("POST", f"/letters/{world['letter']}/correct", [], (302, 403)),
        ("POST", f"/complaints/{e}/attachments", ROLES, None),
        ("POST", f"/complaints/{f}/attachments", ["staff", "staff2", "supervisor", "supervisor2", "manager", "owner",
                                                  "admin"], 404),
        ("POST", f"/tasks/{first}/reassign", ["supervisor", "supervisor2", "manager", "admin"], (302, 403, 404)),
        ("GET", "/admin/users", ["admin"], 403),
        ("GET", f"/admin/users/{world['admin_id']}", ["admin"], 403),
        ("GET", "/admin/lanes", ["admin"], 403),
        ("GET", "/admin/letters", ["admin"], 403),
        ("GET", "/admin/letters/final_response/uk?place=GB-financial", ["admin"], 403),
        ("GET", "/admin/letters/sample?letter_type=final_response&language=pl", ["admin"], 403),
        ("POST", "/admin/lanes", [], 403),
        ("GET", "/admin/calendars", ["admin"], 403),
        ("POST", "/admin/calendars", [], 403),
        ("POST", "/admin/calendars/1", [], 403),
        ("POST", "/admin/calendars/1/closures", [], 403),
        ("POST", "/admin/closures/999999/delete", [], (403, 404)),
        ("POST", f"/admin/users/{world['admin_id']}", [], 403),
        ("POST", f"/admin/users/{world['admin_id']}/tokens", [], 403),
        ("POST", "/admin/users", [], 403),
        ("POST", "/admin/tokens/999999/revoke", [], (403, 404)),
        ("GET", "/admin/letterheads", ["admin"], 403),
        ("POST", "/admin/letterheads/999999", [], 403),
        ("POST", "/admin/enclosures/999999", [], 403),
        ("GET", "/admin/procedure", ["admin"], 403),
        ("POST", "/admin/statutory-calendars/999999", [], 403),
        ("POST", "/admin/procedure", [], 403),
    ]


def test_anonymous_people_are_sent_to_log_in(world, web):
    for method, path, _, _ in routes(world):
        response = web.open(path, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(role, world, people, login):
    client = login(getattr(people, role))
    for method, path, allowed, refused in routes(world):
        response = client.open(path, method=method)
        response.close()  # file downloads hold their file open until closed
        if role in allowed or (role == "admin" and path.startswith("/admin") and method == "POST"):
            assert response.status_code in (200, 302, 404 if "999999" in path else 200), (path, role, response.status_code)
            if method == "POST" and "/claim" in path:
                assert "/login" not in response.headers.get("Location", "")
                client.post(path.replace("/claim", "/release"))
        else:
            expected = refused if isinstance(refused, tuple) else (refused,)
            refused_by_page = method == "POST" and response.status_code == 302 and "error" in _flashes(client)
            assert response.status_code in expected or refused_by_page, (path, role, response.status_code)


def _flashes(client) -> str:
    with client.session_transaction() as session:
        return str(session.get("_flashes", ""))


def test_routes_cover_the_app(app, world):
    listed = {path.split("?")[0] for _, path, _, _ in routes(world)}
    rules = {r.rule for r in app.url_map.iter_rules() if not r.rule.startswith(("/api/", "/static", "/vendor"))}
    generic = {"/", "/login", "/logout", "/password", "/language", "/tasks/<task_id>/release", "/standards"}
    shapes = {p.replace(world["escalated"].reference, "<reference>").replace(world["fresh"].reference, "<reference>")
              .replace(world["investigate"].id, "<task_id>").replace(world["first_contact"].id, "<task_id>")
              .replace(f"/users/{world['admin_id']}", "/users/<int:user_id>").replace("/999999/", "/<int:token_id>/")
              .replace(f"/attachments/{world['attachment']}", "/attachments/<int:attachment_id>")
              .replace(f"/letters/{world['letter']}", "/letters/<int:letter_id>")
              .replace("/admin/letters/final_response/uk", "/admin/letters/<letter_type>/<language>")
              .replace(f"/processes/{world['definition']}", "/processes/<int:definition_id>")
              .replace("/calendars/1", "/calendars/<int:calendar_id>")
              .replace(f"/drafts/{world['draft']}", "/drafts/<int:draft_id>")
              .replace("/closures/<int:token_id>/", "/closures/<int:closure_id>/")
              .replace("/incidents/<int:token_id>/", "/incidents/<int:incident_id>/")
              .replace("/post/runs/999999", "/post/runs/<int:batch_id>").replace("/runs/<int:token_id>/", "/runs/<int:batch_id>/")
              .replace("/letterheads/999999", "/letterheads/<country>")
              .replace("/statutory-calendars/999999", "/statutory-calendars/<country>").replace("/enclosures/999999", "/enclosures/<key>")
              for p in listed}
    assert rules - generic <= shapes, rules - generic - shapes


def test_the_published_procedure_is_open_to_everyone(world, client):
    for language, heading in (("pl", "Jak rozpatrujemy reklamacje"), ("en", "How we handle complaints"),
                              ("uk", "Як ми розглядаємо скарги")):
        page = client.get(f"/standards?lang={language}")
        assert page.status_code == 200 and heading in page.data.decode()
        assert page.headers["Content-Language"] == language


def api_routes(world):
    e, f = world["escalated"].reference, world["fresh"].reference
    investigate, first = world["investigate"].id, world["first_contact"].id
    everyone_but_cc = ["staff", "staff2", "supervisor", "supervisor2", "manager", "owner", "admin"]
    return [
        ("GET", "/api/v1/tasks", ROLES, None),
        ("GET", "/api/v1/deadlines?rule=pl-consumer-14d&received=2026-12-10", ROLES, None),
        ("GET", "/api/v1/tasks?scope=team", ["supervisor", "supervisor2", "manager", "owner", "admin"], 403),
        ("GET", f"/api/v1/complaints/{e}", ROLES, None),
        ("GET", f"/api/v1/complaints/{f}", everyone_but_cc, 404),
        ("GET", f"/api/v1/tasks/{investigate}", ROLES, None),
        ("GET", f"/api/v1/tasks/{first}", everyone_but_cc, 404),
        ("POST", f"/api/v1/tasks/{first}/claim", ["staff", "staff2"], (403, 404)),
        ("POST", f"/api/v1/tasks/{investigate}/claim", ["investigator", "investigator2"], (403, 404)),
        ("POST", f"/api/v1/tasks/{first}/complete", [], (400, 403, 404)),
        ("POST", "/api/v1/complaints", [], (400, 403)),
        ("POST", "/api/v1/incidents/999999/retry", [], (403, 404)),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_api_route_for_every_role(role, world, people, client):
    from complaints_app.domain.users import create_token

    token = create_token(getattr(people, role), "access test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for method, path, allowed, refused in api_routes(world):
        assert client.open(path, method=method).status_code == 401, path
        response = client.open(path, method=method, headers=headers, json={} if method == "POST" else None)
        if role in allowed:
            assert response.status_code == 200, (path, role, response.status_code, response.json)
            if path.endswith("/claim"):
                client.post(path.replace("/claim", "/unclaim"), headers=headers)
        else:
            expected = refused if isinstance(refused, tuple) else (refused,)
            assert response.status_code in expected, (path, role, response.status_code, response.json)
