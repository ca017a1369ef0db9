"""A complaint a failed step stopped: found in the list, marked on its diagram and the version's heatmap, and
set going again from its page by those allowed to."""

from __future__ import annotations

from sqlalchemy import select

from complaints_app.domain import processes, services, versions
from complaints_app.domain.users import create_token
from complaints_app.extensions import db
from complaints_app.models import Incident


def open_incidents(complaint) -> list[Incident]:
    db.session.expire_all()
    return list(db.session.scalars(select(Incident).where(Incident.complaint_id == complaint.id,
                                                          Incident.resolved_at.is_(None))))


def test_a_stopped_complaint_is_found_marked_and_set_going_again_from_its_page(people, register, login, monkeypatch):
    def broken(context, call):
        raise services.ServiceFailed("the letter store is down")

    definition = processes.latest_definition()
    with monkeypatch.context() as patch:
        patch.setitem(services.SERVICES, "create_letter", broken)
        before = versions.heatmap(definition)
        stopped = register(people.staff)
    going = register(people.staff)
    [incident] = open_incidents(stopped)
    element = incident.element_id

    heat = versions.heatmap(definition)
    assert heat[element]["stuck"] == before.get(element, {}).get("stuck", 0) + 1
    owner = login(people.owner)
    version_page = owner.get(f"/processes/{definition.id}").data.decode()
    assert "Stopped by a fault" in version_page and "/complaints?stuck=1" in version_page
    assert owner.get(f"/processes/{definition.id}/diagram").json["heat"][element]["stuck"] == heat[element]["stuck"]

    staff = login(people.supervisor)
    listed = staff.get("/complaints?stuck=1").data.decode()
    assert stopped.reference in listed and going.reference not in listed and "stopped by a fault" in listed
    assert going.reference in staff.get("/complaints").data.decode()
    token = create_token(people.supervisor, "t")
    db.session.commit()
    api = staff.get("/api/v1/complaints?stuck=1", headers={"Authorization": f"Bearer {token}"}).json
    assert stopped.reference in {c["reference"] for c in api["complaints"]}
    assert going.reference not in {c["reference"] for c in api["complaints"]}
    assert staff.get("/api/v1/complaints?stuck=yes", headers={"Authorization": f"Bearer {token}"}).status_code == 400
    diagram = staff.get(f"/complaints/{stopped.reference}/diagram").json
    assert diagram["failed"] == [element]
    assert staff.get(f"/complaints/{going.reference}/diagram").json["failed"] == []

    # Staff read that it stopped, but may not run the step again: the button is not theirs, nor the route.
    clerk = login(people.staff)
    page = clerk.get(f"/complaints/{stopped.reference}").data.decode()
    assert "The process stopped at" in page and "Retry the step" not in page
    refused = clerk.post(f"/incidents/{incident.id}/retry", follow_redirects=True)
    assert refused.status_code == 200 and [i.id for i in open_incidents(stopped)] == [incident.id]

    supervisor = login(people.supervisor)
    assert "Retry the step" in supervisor.get(f"/complaints/{stopped.reference}").data.decode()
    with monkeypatch.context() as patch:
        patch.setitem(services.SERVICES, "create_letter", broken)
        again = supervisor.post(f"/incidents/{incident.id}/retry", follow_redirects=True).data.decode()
    assert "The step failed again: " in again and "the letter store is down" in again
    [second] = open_incidents(stopped)
    assert second.id != incident.id

    fixed = supervisor.post(f"/incidents/{second.id}/retry", follow_redirects=True).data.decode()
    assert "The step ran again; the complaint goes on." in fixed and "Retry the step" not in fixed
    assert open_incidents(stopped) == []
    assert stopped.reference not in supervisor.get("/complaints?stuck=1").data.decode()
    done_twice = supervisor.post(f"/incidents/{second.id}/retry", follow_redirects=True).data.decode()
    assert "already resolved" in done_twice
