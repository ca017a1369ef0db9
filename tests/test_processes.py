"""Committed data across threads and processes: real Celery worker and beat, a new app process, races.

Each test here uses its own database, since the work happens outside the test's transaction.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from complaints_app.domain.complaints import find_or_create_customer, register_complaint
from complaints_app.domain.errors import Conflict, Forbidden
from complaints_app.domain.tasks import claim, complete_task
from complaints_app.domain.users import create_user
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, Complaint, HumanTask, Letter, User
from tests.conftest import build_app, drop_database, fresh_database_url, init_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def own(tmp_path, request):
    """An app on a fresh database of the run's backend, with a staff member and a complaint."""
    url = fresh_database_url(tmp_path)
    broker = os.environ.get("COMPLAINTS_BROKER_URL") or f"sqlafast+sqlite:///{tmp_path / 'broker.sqlite'}"
    app = build_app(tmp_path, url, broker_url=broker, tasks_eager=False)
    init_database(app)
    with app.app_context():
        staff = create_user("staff", "correct horse battery", ["staff"])
        customer = find_or_create_customer("Ewa", "ewa@example.test", None, "pl")
        complaint = register_complaint(staff, customer=customer, channel="phone", category="product",
                                       description="Broken", claimed_amount=Decimal("10"), currency="PLN",
                                       language="pl", jurisdiction="PL", regime="consumer",
                                       extra_data={"customer_reply_window": "PT3S"})
        db.session.commit()
        ids = {"staff": staff.id, "complaint": complaint.id}
        db.session.remove()
    env = {**os.environ, "COMPLAINTS_INSTANCE_PATH": str(tmp_path / "instance"), "COMPLAINTS_DATABASE_URL": url,
           "COMPLAINTS_BROKER_URL": broker, "COMPLAINTS_SECRET_KEY": "test-secret",
           "COMPLAINTS_TIMER_SWEEP_SECONDS": "0.5"}
    yield app, ids, env
    with app.app_context():
        db.engine.dispose()
    drop_database(url)


def _all_rendered(app, complaint_id: int) -> bool:
    with app.app_context():
        statuses = set(db.session.scalars(select(Letter.status).where(Letter.complaint_id == complaint_id)))
        db.session.remove()
    return statuses == {"sent"}


def _open_task(complaint_id: int) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.complaint_id == complaint_id,
                                                     HumanTask.state == "open"))


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([str(BIN / "complaints"), *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.broker
def test_a_real_worker_and_beat_fire_a_timer(own, tmp_path):
    app, ids, env = own
    with app.app_context():
        staff = db.session.get(User, ids["staff"])
        complete_task(staff, _open_task(ids["complaint"]).id, {"fc_resolved": True, "fc_summary": "Fixed"})
        db.session.commit()
        assert _open_task(ids["complaint"]).name == "Record customer reply"
        db.session.remove()
    worker = _start(["worker", "--concurrency", "1"], env, tmp_path / "worker.log")
    beat = _start(["beat"], env, tmp_path / "beat.log")
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session.get(Complaint, ids["complaint"]).status
                db.session.remove()
            if status == "resolved" and _all_rendered(app, ids["complaint"]):
                break
            time.sleep(0.3)
    finally:
        _stop(beat)
        _stop(worker)
    logs = (tmp_path / "worker.log").read_text()[-3000:]
    assert status == "resolved", logs
    with app.app_context():
        fired = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.complaint_id == ids["complaint"], AuditEvent.kind == "timers_fired"))
        assert fired == 1
        # The letters the steps created were rendered and e-mailed by the worker (to the outbox folder here).
        letters = dict(db.session.execute(select(Letter.letter_type, Letter.status).where(
            Letter.complaint_id == ids["complaint"])).all())
        assert letters == {"acknowledgement": "sent", "final_response": "sent"}, logs


def test_a_new_app_process_continues_the_complaint(own):
    app, ids, env = own
    script = f"""
from complaints_app import create_app
from complaints_app.extensions import db
from complaints_app.models import HumanTask, User
from complaints_app.domain.tasks import complete_task
from sqlalchemy import select
app = create_app()
with app.app_context():
    task = db.session.scalar(select(HumanTask).where(HumanTask.complaint_id == {ids['complaint']},
                                                     HumanTask.state == "open"))
    complete_task(db.session.get(User, {ids['staff']}), task.id, {{"fc_resolved": False, "fc_summary": "No"}})
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    with app.app_context():
        assert _open_task(ids["complaint"]).name == "Approve escalation"


def race(app, user_ids: list[int], operation) -> list[str]:
    """Run ``operation(user)`` for each user in its own thread, released together; "won" or "refused"."""
    barrier = threading.Barrier(len(user_ids))
    outcomes: list[str] = []

    def attempt(user_id: int):
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                operation(user)
                db.session.commit()
                outcomes.append("won")
            except (Conflict, Forbidden):
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(outcomes)


@pytest.mark.postgresql
def test_a_task_completed_twice_at_once_has_exactly_one_winner(own):
    app, ids, env = own
    with app.app_context():
        task_id = _open_task(ids["complaint"]).id
        db.session.remove()
    outcomes = race(app, [ids["staff"], ids["staff"]],
                    lambda user: complete_task(user, task_id, {"fc_resolved": False, "fc_summary": "done"}))
    assert outcomes == ["refused", "won"]
    with app.app_context():
        completed = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.complaint_id == ids["complaint"], AuditEvent.kind == "task_completed"))
        escalations = db.session.scalar(select(func.count(HumanTask.id)).where(
            HumanTask.complaint_id == ids["complaint"], HumanTask.name == "Approve escalation"))
        assert (completed, escalations) == (1, 1)


@pytest.mark.postgresql
def test_two_people_claiming_at_once_one_gets_the_task(own):
    app, ids, env = own
    with app.app_context():
        other = create_user("staff2", "correct horse battery", ["staff"])
        db.session.commit()
        people_ids = [ids["staff"], other.id]
        task_id = _open_task(ids["complaint"]).id
        db.session.remove()
    assert race(app, people_ids, lambda user: claim(user, task_id)) == ["refused", "won"]
    with app.app_context():
        claims = db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.complaint_id == ids["complaint"], AuditEvent.kind == "task_claimed"))
        assert claims == 1


@pytest.mark.broker
def test_a_worker_killed_mid_render_yields_the_letter_exactly_once(tmp_path):
    url = fresh_database_url(tmp_path)
    broker = os.environ.get("COMPLAINTS_BROKER_URL") or f"sqlafast+sqlite:///{tmp_path / 'broker.sqlite'}"
    app = build_app(tmp_path, url, broker_url=broker, tasks_eager=True)  # eager: nothing is sent from here
    init_database(app)
    with app.app_context():
        staff = create_user("staff", "correct horse battery", ["staff"])
        customer = find_or_create_customer("Ewa", "ewa@example.test", None, "pl")
        long_text = ("Opis usterki, który zajmuje wiele stron. " * 80 + "\n") * 120  # about 100 pages of PDF
        complaint = register_complaint(staff, customer=customer, channel="letter", category="product",
                                       description=long_text, claimed_amount=Decimal("10"), currency="PLN",
                                       language="pl", jurisdiction="PL", regime="consumer",
                                       quote_description=True)  # the acknowledgement quotes it: long
        db.session.commit()
        letter_id = db.session.scalar(select(Letter.id).where(Letter.complaint_id == complaint.id))
        db.session.remove()
    env = {**os.environ, "COMPLAINTS_INSTANCE_PATH": str(tmp_path / "instance"), "COMPLAINTS_DATABASE_URL": url,
           "COMPLAINTS_BROKER_URL": broker, "COMPLAINTS_SECRET_KEY": "test-secret",
           "COMPLAINTS_TIMER_SWEEP_SECONDS": "0.5"}
    beat = _start(["beat"], env, tmp_path / "beat.log")
    worker = _start(["worker", "--concurrency", "1"], env, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while "complaints.render_letter" not in (tmp_path / "worker.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # well inside a render of some hundred pages
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        with app.app_context():
            assert db.session.get(Letter, letter_id).status == "draft", "the render finished before the kill"
            db.session.remove()
        worker = _start(["worker", "--concurrency", "1"], env, tmp_path / "worker2.log")
        status = None
        while time.monotonic() < deadline + 60:
            with app.app_context():
                status = db.session.get(Letter, letter_id).status
                db.session.remove()
            if status == "sent":
                break
            time.sleep(0.3)
    finally:
        _stop(beat)
        _stop(worker)
    assert status == "sent", ((tmp_path / "worker2.log").read_text()[-2000:] + "\n--- beat ---\n"
                              + (tmp_path / "beat.log").read_text()[-1500:])
    with app.app_context():
        rendered = db.session.scalars(select(AuditEvent.data).where(
            AuditEvent.complaint_id == complaint.id, AuditEvent.kind == "letter_rendered")).all()
        assert [r["letter"] for r in rendered] == [letter_id]
        sha = db.session.get(Letter, letter_id).pdf_sha256
    store = tmp_path / "instance" / "letters"
    assert [p.name for p in store.rglob("*.pdf")] == [f"{sha}.pdf"]
    with app.app_context():
        db.engine.dispose()
    drop_database(url)


@pytest.mark.postgresql
def test_one_registration_sent_twice_at_once_with_its_key_registers_once(own):
    app, ids, env = own
    from complaints_app.domain.users import create_token

    with app.app_context():
        token = create_token(db.session.get(User, ids["staff"]), "race")
        db.session.commit()
        before = db.session.scalar(select(func.count(Complaint.id)))
        db.session.remove()
    body = {"customer": {"name": "Ola", "email": "ola@example.com"}, "channel": "email", "category": "delivery",
            "description": "Late", "currency": "PLN", "language": "pl", "jurisdiction": "PL", "regime": "consumer"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "web-form-7"}
    barrier = threading.Barrier(2)
    answers = []

    def send():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/complaints", json=body, headers=headers)
        answers.append((response.status_code, response.json.get("reference") or response.json))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(code for code, _ref in answers) == [200, 201], answers
    assert answers[0][1] == answers[1][1]
    with app.app_context():
        assert db.session.scalar(select(func.count(Complaint.id))) == before + 1
        # The loser's reference number went back: the next complaint takes the one after the winner's.
        numbers = sorted(db.session.scalars(select(Complaint.number)))
        assert numbers == list(range(1, len(numbers) + 1))
