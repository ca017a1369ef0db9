"""The ``complaints`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from complaints_app.extensions import db
from complaints_app.models import ApiToken, ProcessDefinition, User
from tests.diagrams import script_process

ROOT = Path(__file__).resolve().parent.parent


def test_init_is_idempotent_and_never_replaces_a_deployed_version(app):
    before = db.session.scalar(select(func.count(ProcessDefinition.id)))
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "deployed" not in result.output
    assert db.session.scalar(select(func.count(ProcessDefinition.id))) == before


def test_deploy_adds_a_version(app, tmp_path):
    runner = app.test_cli_runner()
    before = db.session.scalar(select(func.max(ProcessDefinition.version)))
    result = runner.invoke(args=["deploy", str(ROOT / "bpmn"), "--comment", "same again"])
    assert result.exit_code == 0, result.output
    assert f"version {before + 1}" in result.output


def test_deploy_refuses_unknown_topics_and_unmapped_lanes(app, tmp_path):
    text = script_process("y = 1").decode()
    text = text.replace('<bpmn:task id="other" name="Other">',
                        '<bpmn:serviceTask id="other" name="Other" camunda:type="external" camunda:topic="launch_rocket">')
    text = text.replace("</bpmn:task>", "</bpmn:serviceTask>").replace('name="Staff"', 'name="Nobody"')
    path = tmp_path / "bad.bpmn"
    path.write_text(text)
    before = db.session.scalar(select(func.count(ProcessDefinition.id)))
    result = app.test_cli_runner().invoke(args=["deploy", str(path)])
    assert result.exit_code == 1
    assert "other: unknown service topic 'launch_rocket'" in result.output
    assert "check: lane 'Nobody' is not mapped to a role" in result.output
    assert db.session.scalar(select(func.count(ProcessDefinition.id))) == before


def test_create_user_and_token(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "carol", "--role", "supervisor", "--password", "long enough pw",
                                 "--limit", "PLN=1500", "--team", "front_office"])
    assert result.exit_code == 0, result.output
    carol = db.session.scalar(select(User).where(User.username == "carol"))
    assert carol.roles == {"supervisor"} and str(carol.limit_for("PLN")) == "1500.00"
    assert carol.password_hash != "long enough pw"
    result = runner.invoke(args=["create-token", "carol"])
    token = result.output.strip()
    assert token.startswith("cpt_")
    assert db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == carol.id)) == 1
    stored = db.session.scalar(select(ApiToken.token_hash).where(ApiToken.user_id == carol.id))
    assert token not in stored
    bad = runner.invoke(args=["create-user", "dave", "--role", "wizard", "--password", "long enough pw"])
    assert bad.exit_code == 1 and "unknown roles: wizard" in bad.output


@pytest.mark.parametrize("limit, message", [("PLN=-500", "from 0 to"), ("PLN=NaN", "from 0 to"),
                                            ("PLN=1e20", "from 0 to"), ("ZZZ=5", "unknown currencies: ZZZ"),
                                            ("PLN=lots", "CURRENCY=AMOUNT")])
def test_create_user_refuses_limits_the_database_cannot_hold(app, limit, message):
    result = app.test_cli_runner().invoke(args=["create-user", "erin", "--role", "supervisor", "--password",
                                                "long enough pw", "--limit", limit])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(select(User).where(User.username == "erin")) is None


def test_simulate_prints_json(app):
    result = app.test_cli_runner().invoke(args=["simulate", "--complaints", "3", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["completed"] == 3
    assert body["complaints_per_s"] > 0 and body["task_completions_per_s"] > 0
    assert sum(body["paths"].values()) == 3
    assert 0 < body["cpu_s"] <= body["elapsed_s"] + 0.05  # one thread: its CPU time fits in the time it took


def test_init_demo_seeds_every_role_and_complaints_in_several_states_that_forms_take_again(tmp_path):
    from complaints_app.models import Complaint, Customer
    from tests.conftest import build_app, drop_database, fresh_database_url

    url = fresh_database_url(tmp_path)
    app = build_app(tmp_path, url)
    app.config["WTF_CSRF_ENABLED"] = False  # the forms' own checks are under test here, not CSRF
    try:
        result = app.test_cli_runner().invoke(args=["init", "--demo"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            states = dict(db.session.execute(select(Complaint.status, func.count()).group_by(Complaint.status)).all())
            assert {"open", "escalated", "awaiting_customer", "closed", "withdrawn"} <= set(states)
            anna = db.session.scalar(select(Customer).where(Customer.name == "Anna Nowak"))
            client = app.test_client()
            assert client.post("/login", data={"username": "staff", "password": "demo-password"}).status_code == 302
            again = client.post("/complaints/new", data={
                "customer_id": anna.id, "customer_name": anna.name, "customer_email": anna.email, "language": "pl",
                "channel": "phone", "category": "product", "description": "Znowu przecieka", "currency": "PLN",
                "jurisdiction": "PL", "regime": "consumer"})
            assert again.status_code == 302, again.data[:2000]
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(url)
