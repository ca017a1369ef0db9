"""The generic driver completes complaints on any deployed diagram, element ids unseen."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from complaints_app.domain import processes
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, Complaint, Letter
from complaints_app.simulation import KIND_CYCLE, KINDS, WEIGHTS, simulate


VARIANT = Path(__file__).resolve().parent / "data" / "variant"


def test_simulation_takes_every_branch_of_the_reference_diagram(app):
    count = sum(WEIGHTS.values())
    outcome = simulate(count, seed=7)
    result = outcome.as_dict()
    assert result["completed"] == count and result["stuck"] == 0
    assert result["paths"] == WEIGHTS
    assert result["task_completions"] > count * 4
    withdrawn = db.session.scalars(select(Complaint).where(Complaint.status == "withdrawn")).all()
    assert len(withdrawn) >= WEIGHTS["withdrawn"]


def test_variant_diagram_runs_with_no_code_change(app, people):
    definition = processes.deploy(processes.read_files([VARIANT]), people.owner, "variant")
    db.session.commit()
    assert definition.version >= 2
    outcome = simulate(10, seed=3)
    assert outcome.completed == 10, outcome.as_dict()
    newest = list(db.session.scalars(select(Complaint).order_by(Complaint.id.desc()).limit(10)))
    ids = {e.element_id for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.complaint_id.in_([c.id for c in newest]), AuditEvent.kind == "element_left"))}
    assert "V2_User_QualityReview" in ids
    assert not any(i.startswith("Task_") for i in ids if i)
    # The rerouted gateway: resolved at first contact goes straight to "resolved", no final letter.
    first_contact = [c for c in newest if not db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.complaint_id == c.id, AuditEvent.element_id == "V2_User_EscalationApproval").limit(1))]
    assert first_contact
    for complaint in first_contact:
        types = list(db.session.scalars(select(Letter.letter_type).where(Letter.complaint_id == complaint.id)))
        assert types == ["acknowledgement"]
        assert complaint.status == "closed"


def test_running_complaints_keep_their_version(app, people, register, open_task, complete):
    old = register(people.staff)
    processes.deploy(processes.read_files([VARIANT]), people.owner, "variant")
    db.session.commit()
    new = register(people.staff)
    assert open_task(old).element_id == "Task_FirstContact"
    assert open_task(new).element_id.startswith("V2_")
    complete(people.staff, open_task(old), fc_resolved=True, fc_summary="Fixed")
    assert open_task(old).element_id == "Task_RecordCustomerReply"


def test_simulation_registers_every_kind_of_complaint_and_each_goes_through(app):
    """Polish, British and Ukrainian complaints under each one's regimes, in their language and currency:
    every benchmark meets every kind, and each completes its path."""
    count = len(KIND_CYCLE)
    outcome = simulate(count, seed=11).as_dict()
    assert outcome["stuck"] == 0
    assert outcome["kinds"] == {f"{j} {r}": weight for j, r, _language, _currency, weight in KINDS}
    rows = db.session.execute(select(Complaint.jurisdiction, Complaint.language, Complaint.currency)).all()
    assert {(j, language, currency) for j, language, currency in rows} >= {
        ("PL", "pl", "PLN"), ("GB", "en", "GBP"), ("UA", "uk", "UAH")}
