"""The ``complaints`` command: set-up, deploys, users, tokens, simulation, worker and beat."""

from __future__ import annotations

import json
import os
import random
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from .config import current_settings
from .domain import migration, processes, versions
from .domain import tasks as task_ops
from .domain.calendars import seed_calendars
from .domain.clock_tick import tick
from .domain.complaints import register_complaint
from .domain.customers import customer_for
from .domain.deadlines import compute, parse_received
from .domain.errors import DomainError, NotFound
from .domain.letterheads import seed_example_letterheads
from .domain.messages import send_message
from .domain.standards import seed_standards
from .domain.tasks import retry_incident
from .domain.users import TOKEN_DAYS, TOKEN_MAX_DAYS, create_token, create_user, get_user, seed_lane_roles
from .extensions import db
from .models import Complaint, ProcessDefinition, User, WorkflowInstance
from .models.base import utcnow
from .simulation import PATHS, drive, register_simulated
from .simulation import simulate as run_simulation
from .unit_of_work import unit_of_work

DEMO_PASSWORD = "demo-password"
DEMO_USERS = [
    ("staff", ["staff"], {}, "Sara Staff"),
    ("staff2", ["staff"], {}, "Stefan Staff"),
    ("supervisor", ["supervisor"], {"PLN": 1000, "EUR": 250, "GBP": 200, "UAH": 10000}, "Sophie Supervisor"),
    ("manager", ["manager"], {"PLN": 50000, "EUR": 12000, "GBP": 10000, "UAH": 500000}, "Marek Manager"),
    ("investigator", ["customer_centre"], {}, "Ivan Investigator"),
    ("owner", ["process_owner"], {}, "Olga Owner"),
    ("admin", ["admin"], {}, "Adam Admin"),
]
# The job titles letters name under each demo person (Polish financial-market answers must).
DEMO_POSITIONS = {
    "staff": {"pl": "Specjalistka ds. obsługi klienta", "en": "Customer service adviser", "uk": "Фахівчиня з обслуговування"},
    "staff2": {"pl": "Specjalista ds. obsługi klienta", "en": "Customer service adviser", "uk": "Фахівець з обслуговування"},
    "supervisor": {"pl": "Kierowniczka zespołu", "en": "Team leader", "uk": "Керівниця команди"},
    "manager": {"pl": "Kierownik Działu Reklamacji", "en": "Head of Complaints", "uk": "Керівник відділу скарг"},
    "investigator": {"pl": "Ekspert Centrum Obsługi Klienta", "en": "Customer Service Centre specialist",
                     "uk": "Експерт Центру обслуговування клієнтів"},
}


def register_commands(app) -> None:
    for command in (init, deploy, create_user_cmd, create_token_cmd, simulate, worker, beat,
                    fire_due_timers, retry_incident_cmd, deadline, validate, migrate):
        app.cli.add_command(command)


def _fail(err: DomainError):
    click.echo(f"error: {err.message}", err=True)
    for problem in err.details.get("problems", []):
        where = problem.get("element_id") or problem.get("file") or ""
        click.echo(f"  {where}: {problem['message']}", err=True)
    for name, message in err.details.get("fields", {}).items():
        click.echo(f"  {name}: {message}", err=True)
    sys.exit(1)


@click.command()
@click.option("--demo", is_flag=True, help="Also create demo users of every role and demo complaints.")
@with_appcontext
def init(demo: bool):
    """Create or upgrade the database, map lanes, deploy bpmn/ into an empty database (idempotent)."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    deployed = None
    try:
        with unit_of_work():
            seed_lane_roles()
            seed_calendars()
            examples = seed_example_letterheads()
            seed_standards()
            if db.session.scalar(select(func.count(ProcessDefinition.id))) == 0:
                files = processes.read_files([Path(current_settings().bpmn_path)])
                definition = processes.deploy(files, None, "initial deploy of bpmn/")
                deployed = f"{definition.process_id} version {definition.version}"
        if examples:
            click.echo(f"letterheads with example data for {', '.join(examples)}: set the real ones under "
                       "Admin → Letterheads before letters go to customers")
        if deployed:
            click.echo(f"deployed {deployed}")
        if demo:
            _seed_demo()
    except DomainError as err:
        _fail(err)
    click.echo("database ready")


def _seed_demo() -> None:
    tokens = []
    with unit_of_work():
        for username, roles, limits, name in DEMO_USERS:
            if db.session.scalar(select(User.id).where(User.username == username)) is None:
                user = create_user(username, DEMO_PASSWORD, roles, display_name=name, limits=limits,
                                   language="pl", position=DEMO_POSITIONS.get(username))
                tokens.append(f"{username} {create_token(user, 'demo')}")
    if tokens:
        path = Path(current_app.instance_path) / "demo-tokens.txt"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as fh:
            fh.write("\n".join(tokens) + "\n")
    if db.session.scalar(select(func.count(Complaint.id))):
        return
    users = list(db.session.scalars(select(User).where(User.username.in_([u[0] for u in DEMO_USERS]))))
    staff = next(u for u in users if u.username == "staff")
    # (path, operations to perform): complaints left in several states.
    for index, (path, steps) in enumerate([
        ("first_contact_resolution", 0), ("rejected", 1), ("upheld_above_supervisor_limit", 2),
        ("upheld_above_supervisor_limit", 4), ("rejected", 4), ("first_contact_resolution", None),
    ]):
        with unit_of_work():
            complaint = register_simulated(staff, PATHS[path], index, demo=True)
        drive(complaint, PATHS[path], users, random.Random(index), max_operations=steps)
    # One the customer withdrew, and one whose statutory deadline is near (a holding letter, alerts).
    with unit_of_work():
        withdrawn = register_simulated(staff, PATHS["rejected"], 6, demo=True)
    with unit_of_work():
        send_message(staff, withdrawn, "complaint_withdrawn", "Klient zadzwonił: sklep wymienił produkt.")
    with unit_of_work():
        near = register_simulated(staff, PATHS["rejected"], 7, received_at=utcnow() - timedelta(days=12),
                                  demo=True)
    with unit_of_work():
        tick(near.id, near.clock_next_at)
    with unit_of_work():
        _seed_demo_abroad(staff)


def _seed_demo_abroad(staff: User) -> None:
    """A UK customer writing in English, a Ukrainian one, and a Polish financial-market complaint answered on
    paper (its letters wait on the Post page once the worker has made them)."""
    for name, email, language, jurisdiction, regime, currency, details, description in (
        ("Sarah Jones", "sarah.jones@example.com", "en", "GB", "financial", "GBP",
         {"title": "ms", "given_name": "Sarah", "family_name": "Jones", "street": "12 High Street",
          "postcode": "M1 1AE", "city": "Manchester", "country": "GB"}, "A card payment was taken twice."),
        ("Олена Петренко", "olena.petrenko@example.com", "uk", "UA", "consumer", "UAH",
         {"title": "ms", "given_name": "Олена", "family_name": "Петренко", "street": "вул. Січових Стрільців, 10",
          "postcode": "04053", "city": "Київ", "country": "UA"}, "Пральна машина не відкачує воду."),
        ("Jan Wiśniewski", "jan.wisniewski@example.com", "pl", "PL", "financial", "PLN",
         {"title": "mr", "given_name": "Jan", "family_name": "Wiśniewski", "street": "ul. Miodowa 3 m. 7",
          "postcode": "31-055", "city": "Kraków", "country": "PL"}, "Bank pobrał prowizję za przelew wbrew umowie."),
    ):
        customer, _ = customer_for(staff, name, email, None, language, details=details)
        register_complaint(staff, customer=customer, channel="phone", category="billing", description=description,
                           claimed_amount=Decimal("120"), currency=currency, language=language,
                           jurisdiction=jurisdiction, regime=regime, quote_description=True)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--comment", default=None, help="What changed, for the version history.")
@click.option("--process", "process_id", default="complaint", show_default=True)
@click.option("--user", "username", default=None, help="Record this user as the deployer.")
@with_appcontext
def deploy(files, comment, process_id, username):
    """Deploy BPMN/DMN FILES (or folders) as a new version of a process."""
    try:
        with unit_of_work():
            actor = get_user(username) if username else None
            definition = processes.deploy(processes.read_files(list(files)), actor, comment, process_id)
            deployed = f"{definition.process_id} version {definition.version}"
            changes = versions.change_summary(definition)
    except DomainError as err:
        _fail(err)
    click.echo(f"deployed {deployed}")
    if changes["against"] is not None:
        click.echo(f"changes against version {changes['against']}: {len(changes['added'])} added, "
                   f"{len(changes['removed'])} removed, {len(changes['changed'])} changed")
        for kind in ("added", "removed"):
            for element in changes[kind]:
                click.echo(f"  {kind}: {element['id']} ({element['name'] or element['type']})")
        for element in changes["changed"]:
            click.echo(f"  changed: {element['id']} ({', '.join(element['changed'])})")


@click.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default=None)
@click.option("--email", default=None)
@click.option("--team", default=None)
@click.option("--limit", "limits", multiple=True, help="Authority limit as CURRENCY=AMOUNT, e.g. PLN=1000.")
@with_appcontext
def create_user_cmd(username, roles, password, name, email, team, limits):
    """Create a user with roles and authority limits."""
    try:
        parsed = {}
        for item in limits:
            currency, _, amount = item.partition("=")
            parsed[currency.strip().upper()] = Decimal(amount)
        with unit_of_work():
            create_user(username, password, list(roles), display_name=name, email=email, team=team,
                        limits=parsed)
    except DomainError as err:
        _fail(err)
    except ArithmeticError:
        click.echo("error: --limit takes CURRENCY=AMOUNT", err=True)
        sys.exit(1)
    click.echo(f"created {username}")


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
@click.option("--days", type=click.IntRange(1, TOKEN_MAX_DAYS), default=TOKEN_DAYS, show_default=True,
              help="How long the token works.")
@with_appcontext
def create_token_cmd(username, name, days):
    """Create an API token acting as USERNAME, valid for --days; printed once."""
    try:
        with unit_of_work():
            token = create_token(get_user(username), name, days)
    except DomainError as err:
        _fail(err)
    click.echo(token)


@click.command()
@click.option("--complaints", "count", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def simulate(count, seed, as_json):
    """Push COUNT complaints through the newest process with simulated users."""
    if as_json:
        outcome = run_simulation(count, seed)
        click.echo(json.dumps(outcome.as_dict()))
        return
    with click.progressbar(length=count, label="complaints", file=sys.stderr) as bar:
        outcome = run_simulation(count, seed, progress=bar.update)
    result = outcome.as_dict()
    click.echo(f"completed {result['completed']} of {count} ({result['stuck']} stuck) in {result['elapsed_s']} s")
    click.echo(f"{result['complaints_per_s']} complaints/s, {result['task_completions_per_s']} task completions/s")
    for path, number in sorted(result["paths"].items()):
        click.echo(f"  {path}: {number}")


@click.command()
@click.option("--concurrency", type=int, default=2, show_default=True)
@with_appcontext
def worker(concurrency):
    """Run a Celery worker (threads on the embedded broker, prefork otherwise)."""
    settings = current_settings()
    pool = "threads" if settings.broker_url.startswith("sqlafast") else "prefork"
    current_app.extensions["celery"].worker_main(
        ["worker", f"--pool={pool}", f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip",
         "--without-mingle"])


@click.command()
@with_appcontext
def beat():
    """Run Celery beat: the timer sweep."""
    current_app.extensions["celery"].start(["beat", "--loglevel=INFO"])


@click.command("fire-due-timers")
@with_appcontext
def fire_due_timers():
    """Fire every due timer now, in this process (what the sweep does through the broker)."""
    fired = 0
    with unit_of_work():
        due = task_ops.due_timer_complaints()
    for complaint_id in due:
        with unit_of_work():
            fired += task_ops.fire_timers(complaint_id)
    click.echo(f"fired timers of {fired} complaints")


@click.command("retry-incident")
@click.argument("incident_id", type=int)
@click.option("--user", "username", required=True, help="Who retries (needs supervisor, process owner or admin).")
@with_appcontext
def retry_incident_cmd(incident_id, username):
    """Retry the failed step of an incident."""
    try:
        with unit_of_work():
            retry_incident(get_user(username), incident_id)
    except DomainError as err:
        _fail(err)
    click.echo(f"retried incident {incident_id}")


@click.command()
@click.option("--rule", required=True, help="A statutory rule id, e.g. pl-consumer-14d.")
@click.option("--received", required=True, help="The day of receipt, YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def deadline(rule, received, as_json):
    """Show a statutory deadline and how it was counted."""
    try:
        result = compute(rule, parse_received(received))
    except DomainError as err:
        _fail(err)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    click.echo(f"{result.rule.id}: due {result.due.isoformat()}")
    for line in result.explanation:
        click.echo(f"  {line}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file, one per line.")
@with_appcontext
def validate(files, as_json):
    """Check BPMN FILES (DMN files given with them are used) without deploying: exit 0 when all are
    accepted, 1 when any is rejected, 2 on an internal error."""
    try:
        contents = processes.read_files(list(files))
        verdicts = [processes.verdict(contents, name) for name in sorted(contents) if not name.endswith(".dmn")]
    except Exception as err:  # noqa: BLE001 - the contract: exit 2 only for our own failure
        click.echo(f"internal error: {type(err).__name__}: {err}", err=True)
        sys.exit(2)
    for item in verdicts:
        if as_json:
            click.echo(json.dumps(item, ensure_ascii=False))
            continue
        click.echo(f"{'accepted' if item['accepted'] else 'rejected'}: {item['file']}")
        for problem in item["problems"]:
            where = problem.get("element_id") or problem.get("process") or problem.get("file") or ""
            click.echo(f"  {where}: {problem['message']}")
    sys.exit(0 if all(item["accepted"] for item in verdicts) else 1)


@click.command()
@click.option("--to", "version", type=int, required=True, help="The version to move running complaints to.")
@click.option("--process", "process_id", default="complaint", show_default=True)
@click.option("--complaint", "references", multiple=True, help="Only this complaint (repeatable); default: all.")
@click.option("--dry-run", is_flag=True, help="Only say which complaints can move, and why not.")
@click.option("--user", "username", required=True, help="Who moves them (process owner or admin).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per complaint, one per line.")
@with_appcontext
def migrate(version, process_id, references, dry_run, username, as_json):
    """Move running complaints to another version of their process (each audited; exit 1 if any could not)."""
    try:
        actor = get_user(username)
        target_id = db.session.scalar(select(ProcessDefinition.id).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.version == version))
        if target_id is None:
            raise NotFound(f"no version {version} of process {process_id}")
        running = db.session.scalar(select(func.count(WorkflowInstance.id)).join(ProcessDefinition).where(
            ProcessDefinition.process_id == process_id, WorkflowInstance.is_completed.is_(False)))
        with click.progressbar(length=running, label="checking", file=sys.stderr) as bar:
            candidates = migration.dry_run(actor, target_id, limit=100_000, progress=bar.update)
    except DomainError as err:
        _fail(err)
    if references:
        candidates = [c for c in candidates if c.reference in set(references)]
    failed = 0
    for candidate in candidates:
        outcome = "movable" if candidate.movable else "stays"
        if candidate.movable and not dry_run:
            try:
                with unit_of_work():
                    migration.migrate(actor, target_id, candidate.complaint_id)
                outcome = "moved"
            except DomainError as err:
                candidate.problems, outcome = [err.message], "stays"
        failed += outcome == "stays"
        if as_json:
            click.echo(json.dumps({"reference": candidate.reference, "from_version": candidate.version,
                                   "outcome": outcome, "problems": candidate.problems}, ensure_ascii=False))
        else:
            reasons = f": {'; '.join(candidate.problems)}" if candidate.problems else ""
            click.echo(f"{candidate.reference} (v{candidate.version}) {outcome}{reasons}")
    sys.exit(1 if failed else 0)
