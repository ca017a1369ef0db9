"""New versions for process owners: the change summary, moving running complaints (dry run, one, all),
and the heatmap of where complaints wait."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from complaints_app.domain import migration, processes, versions
from complaints_app.domain.errors import Conflict, Forbidden
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, WorkflowInstance

from .test_paths import escalate

BPMN = Path(__file__).resolve().parent.parent / "bpmn"
FIELD = '''<camunda:formField id="fc_channel" label="How the customer was reached" type="enum">
              <camunda:value id="phone" name="Phone"/>
              <camunda:value id="email" name="E-mail"/>
              <camunda:validation><camunda:constraint name="required"/></camunda:validation>
            </camunda:formField>
            '''


def redrawn(**replacements) -> dict[str, bytes]:
    files = processes.read_files(sorted(BPMN.glob("*.*mn")))
    text = files["complaint.bpmn"].decode()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    files["complaint.bpmn"] = text.encode()
    return files


def first_contact_with_a_channel() -> dict[str, bytes]:
    """First contact renamed, with a new required field."""
    text = processes.read_files([BPMN / "complaint.bpmn"])["complaint.bpmn"].decode()
    start = text.index('<bpmn:userTask id="Task_FirstContact" name="First contact">')
    anchor = text.index("<camunda:formField", start)
    return redrawn(**{'<bpmn:userTask id="Task_FirstContact" name="First contact">':
                      '<bpmn:userTask id="Task_FirstContact" name="First contact with the customer">',
                      text[anchor:anchor + 40]: FIELD + text[anchor:anchor + 40]})


def investigation_renamed(owner):
    """A version whose investigation task has another id: complaints waiting there cannot move to it."""
    return processes.deploy(redrawn(**{'"Task_Investigate"': '"Task_Investigation"',
                                       '>Task_Investigate<': '>Task_Investigation<'}), owner)


def instance_of(complaint):
    return db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))


def test_a_deploy_summarises_its_changes_against_the_previous_version(people, login):
    before = processes.latest_definition()
    files = first_contact_with_a_channel()
    files["complaint.bpmn"] = files["complaint.bpmn"].replace(
        b'name="Honour the deemed acceptance"', b'name="Honour the acceptance"')
    definition = processes.deploy(files, people.owner, "first contact asks for the channel")
    changes = versions.change_summary(definition)
    assert changes["against"] == before.version
    assert changes["added"] == [] and changes["removed"] == []
    assert {c["id"]: c["changed"] for c in changes["changed"]} == {
        "Task_FirstContact": ["name", "form"], "Task_HonourDeemedAcceptance": ["name"]}
    client = login(people.owner)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    page = client.get(f"/processes/{definition.id}").data.decode()  # the owner reads it in words, not codes
    assert "Zmieniono: Pierwszy kontakt <code>Task_FirstContact</code>: nazwa, formularz" in page
    client.post("/language", data={"language": "en", "next": "/inbox"})
    assert "Changed: First contact with the customer <code>Task_FirstContact</code>: name, form" in client.get(
        f"/processes/{definition.id}").data.decode()
    rerouted = processes.deploy(redrawn(**{'escalation_approved == False</bpmn:conditionExpression>':
                                           'escalation_approved != True</bpmn:conditionExpression>'}), people.owner)
    assert [(c["id"], c["name"], c["changed"]) for c in versions.change_summary(rerouted, before)["changed"]] == [
        ("Gateway_EscalationApproved", "Escalation approved?", ["conditions"])]


def test_running_complaints_move_to_a_redrawn_task_and_get_its_new_form(people, register, open_task, complete):
    waiting = [register(people.staff), register(people.staff)]
    definition = processes.deploy(first_contact_with_a_channel(), people.owner, "channel")
    db.session.commit()
    plan = {c.reference: c for c in migration.dry_run(people.owner, definition.id)}
    assert all(plan[c.reference].movable for c in waiting)
    for complaint in waiting:
        migration.migrate(people.owner, definition.id, complaint.id)
        db.session.commit()
    task = open_task(waiting[0], "First contact with the customer")
    assert "fc_channel" in [f["id"] for f in task.form]
    assert instance_of(waiting[0]).definition_id == definition.id
    moved = db.session.scalar(select(AuditEvent).where(AuditEvent.complaint_id == waiting[0].id,
                                                       AuditEvent.kind == "process_migrated"))
    assert moved.actor_id == people.owner.id and moved.data["to_version"] == definition.version
    complete(people.staff, task, fc_resolved=True, fc_summary="Replaced", fc_channel="phone")
    db.session.refresh(waiting[0])
    assert waiting[0].status == "awaiting_customer"  # the moved complaint runs on in the new version


def test_a_complaint_waiting_at_a_removed_task_cannot_move_and_is_left_alone(people, register, open_task,
                                                                             complete):
    at_investigation = register(people.staff)
    escalate(people, at_investigation, open_task, complete)
    state_before = instance_of(at_investigation).state
    definition = investigation_renamed(people.owner)
    db.session.commit()
    plan = {c.reference: c for c in migration.dry_run(people.owner, definition.id)}
    reasons = plan[at_investigation.reference].problems
    assert not plan[at_investigation.reference].movable
    assert any("Task_Investigate" in reason for reason in reasons), reasons
    with pytest.raises(Conflict):
        migration.migrate(people.owner, definition.id, at_investigation.id)
    db.session.rollback()
    assert instance_of(at_investigation).state == state_before
    assert open_task(at_investigation, "Investigate").definition_id != definition.id


def test_only_process_owners_move_complaints(people, register):
    complaint = register(people.staff)
    definition = processes.deploy(first_contact_with_a_channel(), people.owner)
    with pytest.raises(Forbidden):
        migration.dry_run(people.supervisor, definition.id)
    with pytest.raises(Forbidden):
        migration.migrate(people.staff, definition.id, complaint.id)


def test_the_migration_page_lists_each_complaint_and_moves_the_movable_ones(login, people, register, open_task,
                                                                            complete):
    movable = register(people.staff)
    stuck = register(people.staff)
    escalate(people, stuck, open_task, complete)
    definition = investigation_renamed(people.owner)
    db.session.commit()
    owner = login(people.owner)
    page = owner.get(f"/processes/{definition.id}/migration").data.decode()
    assert movable.reference in page and stuck.reference in page and "Task_Investigate" in page
    done = owner.post(f"/processes/{definition.id}/migration", data={"all": "1"}, follow_redirects=True)
    assert done.status_code == 200
    assert instance_of(movable).definition_id == definition.id
    assert instance_of(stuck).definition_id != definition.id


def test_the_heatmap_counts_waiting_complaints_and_median_times(people, register, open_task, complete, login):
    for _ in range(3):
        register(people.staff)
    finished = register(people.staff)
    complete(people.staff, open_task(finished, "First contact"), fc_resolved=False, fc_summary="Refund asked")
    definition = processes.latest_definition()
    heat = versions.heatmap(definition)
    assert heat["Task_FirstContact"]["waiting"] >= 3
    assert heat["Task_FirstContact"]["finished"] >= 1 and heat["Task_FirstContact"]["median_seconds"] >= 0
    assert heat["Task_ApproveEscalation"]["waiting"] >= 1
    data = login(people.owner).get(f"/processes/{definition.id}/diagram").json
    assert data["heat"]["Task_FirstContact"]["waiting"] == heat["Task_FirstContact"]["waiting"]
    page = login(people.owner).get(f"/processes/{definition.id}").data.decode()
    assert "Where complaints wait" in page and "Task_ApproveEscalation" in page


def test_the_cli_dry_run_and_migration(app, people, register, open_task, complete):
    import json

    movable = register(people.staff)
    stuck = register(people.staff)
    escalate(people, stuck, open_task, complete)
    definition = investigation_renamed(people.owner)
    db.session.commit()
    runner = app.test_cli_runner()
    args = ["migrate", "--to", str(definition.version), "--user", people.owner.username, "--json"]
    dry = runner.invoke(args=args + ["--dry-run"])
    outcomes = {line["reference"]: line for line in map(json.loads, dry.stdout.splitlines())}
    assert outcomes[movable.reference]["outcome"] == "movable"
    assert outcomes[stuck.reference]["outcome"] == "stays" and outcomes[stuck.reference]["problems"]
    assert dry.exit_code == 1
    assert instance_of(movable).definition_id != definition.id  # a dry run moves nothing
    done = runner.invoke(args=args + ["--complaint", movable.reference])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["outcome"] == "moved"
    db.session.expire_all()
    assert instance_of(movable).definition_id == definition.id
    assert runner.invoke(args=["migrate", "--to", "999", "--user", people.owner.username]).exit_code == 1


def test_a_versions_decision_tables_can_be_read(login, people):
    definition = processes.latest_definition()
    tables = {t["id"]: t for t in versions.decision_tables(definition)}
    assert set(tables) == {"triage", "compensation", "approval_level"}
    assert tables["approval_level"]["hit_policy"] == "FIRST"
    assert tables["triage"]["outputs"][:2] == ["Team", "Priority"]
    assert any("pl-consumer-14d" in " ".join(rule["outputs"]) for rule in tables["triage"]["rules"])
    page = login(people.owner).get(f"/processes/{definition.id}").data.decode()
    assert "Decision tables" in page and "approval_level" in page and "pl-consumer-14d" in page


def test_why_a_complaint_cannot_move_is_said_in_the_readers_language(app, people, register, open_task, complete):
    from flask_babel import force_locale

    at_investigation = register(people.staff)
    escalate(people, at_investigation, open_task, complete)
    definition = investigation_renamed(people.owner)
    db.session.commit()
    with app.test_request_context(), force_locale("pl"):
        plan = {c.reference: c for c in migration.dry_run(people.owner, definition.id)}
    assert plan[at_investigation.reference].problems == [
        "czeka na kroku „Task_Investigate”, którego nowa wersja nie ma"]
