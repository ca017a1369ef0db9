"""A generic driver: push complaints through whatever diagram is deployed, as simulated people.

It knows no element ids. It reads each open task's form and fills it from the field definitions
(types, options, constraints, prefill), steered only by a scenario of preferred values per data key
(documented in bpmn/README.md); a field it has never seen gets a valid value all the same. Like the
API, each operation is one unit of work.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import bindparam, inspect, select

from .domain import tasks as task_ops
from .domain.driver import lane_role, load
from .domain.this_transaction import last_saved_run
from .domain.complaints import find_or_create_customer, register_complaint
from .domain.errors import DomainError, Forbidden
from .domain.messages import available_messages, send_message
from .domain.users import create_user
from .extensions import db
from .models import Complaint, HumanTask, User, WorkflowInstance
from .unit_of_work import replayable, unit_of_work

# Scenario values may be lists: one value per visit of the field (then the last one repeats).
PATHS: dict[str, dict] = {
    "first_contact_resolution": {"claimed_amount": 120, "fc_resolved": True, "customer_reply": "accept"},
    "escalation_returned": {"claimed_amount": 150, "fc_resolved": [False, True],
                            "escalation_approved": [False], "customer_reply": "accept"},
    "rejected": {"claimed_amount": 300, "fc_resolved": False, "escalation_approved": True,
                 "decision": "rejected", "customer_reply": "accept"},
    "upheld_within_supervisor_limit": {"claimed_amount": 400, "fc_resolved": False, "escalation_approved": True,
                                       "decision": "upheld", "compensation_approved": True,
                                       "customer_reply": "accept"},
    "upheld_above_supervisor_limit": {"claimed_amount": 4800, "fc_resolved": False, "escalation_approved": True,
                                      "decision": "upheld", "compensation_approved": True,
                                      "customer_reply": "accept"},
    "appeal": {"claimed_amount": 250, "fc_resolved": False, "escalation_approved": True,
               "decision": ["rejected", "partly_upheld"], "compensation_approved": True,
               "customer_reply": ["appeal", "accept"]},
    # After two task completions the customer withdraws: the first message the diagram offers people.
    "withdrawn": {"claimed_amount": 200, "fc_resolved": False, "escalation_approved": True, "decision": "rejected",
                  "customer_reply": "accept", "withdraw_after": 2},
}
WEIGHTS = {"first_contact_resolution": 3, "escalation_returned": 1, "rejected": 2,
           "upheld_within_supervisor_limit": 2, "upheld_above_supervisor_limit": 1, "appeal": 1, "withdrawn": 1}
WITHDRAWAL_REASON = "Simulated: the customer withdrew the complaint"
SIM_USERS = [
    ("sim-staff-1", ["staff"], {}), ("sim-staff-2", ["staff"], {}),
    ("sim-supervisor-1", ["supervisor"], {"PLN": 1000, "EUR": 250, "GBP": 200, "UAH": 10000}),
    ("sim-supervisor-2", ["supervisor"], {"PLN": 1000, "EUR": 250, "GBP": 200, "UAH": 10000}),
    ("sim-manager-1", ["manager"], {"PLN": 50000, "EUR": 12000, "GBP": 10000, "UAH": 500000}),
    ("sim-cc-1", ["customer_centre"], {}), ("sim-cc-2", ["customer_centre"], {}),
]
SIM_PASSWORD = "simulated-user-password"
# The kinds of complaint the simulator registers, with their weights: a company answering Polish, British and
# Ukrainian customers under each one's rules, so that every benchmark meets every kind.
KINDS = (  # jurisdiction, regime, language, currency, weight
    ("PL", "consumer", "pl", "PLN", 8), ("PL", "financial", "pl", "PLN", 2), ("PL", "payment_services", "pl", "PLN", 1),
    ("GB", "consumer", "en", "GBP", 3), ("GB", "financial", "en", "GBP", 2), ("GB", "payment_services", "en", "GBP", 1),
    ("UA", "consumer", "uk", "UAH", 3), ("UA", "financial", "uk", "UAH", 1),
)
# The scenarios' amounts are in złoty; another currency's are scaled so that every path meets the same
# authority limits (a supervisor's: 1000 PLN, 200 GBP, 10000 UAH).
PER_PLN = {"PLN": Decimal(1), "GBP": Decimal("0.2"), "UAH": Decimal(10)}
NAMES = {"pl": "Klient symulowany", "en": "Simulated customer", "uk": "Симульований клієнт"}


@dataclass(frozen=True)
class Kind:
    jurisdiction: str
    regime: str
    language: str
    currency: str

    def amount(self, zloty) -> Decimal:
        return (Decimal(str(zloty)) * PER_PLN[self.currency]).quantize(Decimal("0.01"))


KIND_CYCLE = [Kind(*kind[:4]) for kind in KINDS for _ in range(kind[4])]
random.Random(20).shuffle(KIND_CYCLE)


def kind_of(index: int) -> Kind:
    """The kind of the ``index``-th simulated complaint: every kind in its share, the same for the same index."""
    return KIND_CYCLE[index % len(KIND_CYCLE)]
# Data the simulator hands to its complaints: the follow-up timer fires at once, replies never time out.
SIM_PROCESS_DATA = {"followup_delay": "PT0S", "customer_reply_window": "P365D"}


@dataclass
class Outcome:
    completed: int = 0
    stuck: int = 0
    task_completions: int = 0
    paths: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)  # "PL consumer": how many were registered
    elapsed_s: float = 0.0
    cpu_s: float = 0.0  # this process's CPU time over the same span (the database server's is not in it)

    def as_dict(self) -> dict:
        return {
            "completed": self.completed, "stuck": self.stuck, "task_completions": self.task_completions,
            "elapsed_s": round(self.elapsed_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "complaints_per_s": round(self.completed / self.elapsed_s, 2) if self.elapsed_s else 0.0,
            "task_completions_per_s": round(self.task_completions / self.elapsed_s, 2) if self.elapsed_s else 0.0,
            "paths": self.paths, "kinds": self.kinds,
        }


def ensure_users() -> list[User]:
    """The simulated people, loaded with their roles and limits and detached (they do not change)."""
    with unit_of_work():
        for username, roles, limits in SIM_USERS:
            if db.session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(username, SIM_PASSWORD, roles, display_name=username, limits=limits)
    users = list(db.session.scalars(select(User).where(User.username.in_([u[0] for u in SIM_USERS]))
                                    .order_by(User.id)))
    for user in users:
        _ = (user.roles, user.limits)
        db.session.expunge(user)
    return users


def path_plan(count: int, seed: int) -> list[str]:
    cycle = [name for name, weight in WEIGHTS.items() for _ in range(weight)]
    rng = random.Random(seed)
    plan = []
    while len(plan) < count:
        block = cycle[:]
        rng.shuffle(block)
        plan.extend(block)
    return plan[:count]


def fill_form(form: list[dict], scenario: dict, visits: dict, current: dict) -> dict:
    """A valid value for every field, preferring the scenario's."""
    values = {}
    for f in form:
        rules = f.get("validation") or {}
        if "readonly" in rules:
            continue
        fid = f["id"]
        if fid in scenario:
            wanted = scenario[fid]
            if isinstance(wanted, list):
                wanted = wanted[min(visits.get(fid, 0), len(wanted) - 1)]
            values[fid] = wanted
            continue
        values[fid] = _generic_value(f, rules, current)
    for fid in values:
        visits[fid] = visits.get(fid, 0) + 1
    return values


def _generic_value(f: dict, rules: dict, current: dict):
    kind = f["type"]
    prefill = (f.get("properties") or {}).get("prefill")
    if prefill and current.get(prefill) is not None:
        return current[prefill]
    if f.get("default") not in (None, ""):
        return f["default"]
    if kind == "boolean":
        return True
    if kind == "enum":
        return f["options"][0]["id"]
    if kind == "date":
        return date.today().isoformat()
    if kind in ("long", "decimal"):
        low = Decimal(rules["min"]) if rules.get("min") not in (None, "") else Decimal(1)
        return int(low) if kind == "long" else float(low)
    text = "Simulated answer"
    minimum = int(rules.get("minlength") or 0)
    maximum = int(rules.get("maxlength") or 1000)
    return (text + " x" * minimum)[:maximum]


def _candidates(task, users: list[User], rng: random.Random) -> list[User]:
    able = [u for u in users if task.role and u.has_role(task.role)]
    rng.shuffle(able)
    # Try the least powerful first, as a real queue would.
    able.sort(key=lambda u: "manager" in u.roles)
    return able


_NEXT_TASK = select(HumanTask.id, HumanTask.role, HumanTask.form).where(
    HumanTask.complaint_id == bindparam("complaint_id"), HumanTask.state == "open").order_by(
    HumanTask.created_at).limit(1)


@dataclass
class Next:
    """What a complaint waits for after a move: a person's task (with the data its form starts from), a
    timer, or nothing more."""

    task: SimpleNamespace | None
    data: dict
    completed: bool
    next_timer_due_at: datetime | None
    has_incident: bool


def what_the_move_left(complaint_id: int) -> Next | None:
    """``Next``, from the process as this transaction saved it (no reading back): the simulated person sees
    the task the move opened as their task list would show it. None if no move was saved."""
    saved = last_saved_run(complaint_id)
    if saved is None:
        return None
    instance, run = saved
    waiting = run.open_tasks()
    if not waiting:
        return Next(None, {}, instance.is_completed, instance.next_timer_due_at, instance.has_incident)
    first = waiting[0]
    task = SimpleNamespace(id=first.task_id, role=lane_role(first.lane), form=first.form)
    prefilled = any((f.get("properties") or {}).get("prefill") for f in first.form)
    return Next(task, run.task_data(first.task_id) if prefilled else {}, False, None, False)


def _read_next(complaint: Complaint) -> Next:
    """``Next`` read from the database (what a person's task list shows)."""
    task = db.session.execute(_NEXT_TASK, {"complaint_id": complaint.id}).first()
    if task is not None:
        return Next(task, _task_data(complaint, task), False, None, False)
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))
    return Next(None, {}, instance.is_completed, instance.next_timer_due_at, instance.has_incident)


def _moved(operation) -> Next | None:
    """Run an operation as the edges do (one unit of work) and take what it left before the commit."""
    def work():
        complaint_id = operation()
        return what_the_move_left(complaint_id)
    return replayable(work)


def drive(complaint: Complaint, scenario: dict, users: list[User], rng: random.Random,
          max_operations: int | None = None, first: Next | None = None) -> tuple[int, bool]:
    """Work the complaint's open tasks until its process ends; returns (task completions, finished).
    ``first``: what the registration left (else it is read)."""
    visits: dict[str, int] = {}
    done = 0
    complaint_id = inspect(complaint).identity[0]  # the object expires at every commit; its identity does not
    state = first
    for _ in range(10_000):
        if max_operations is not None and done >= max_operations:
            return done, False
        if scenario.get("withdraw_after") == done and not visits.get("_withdrawn"):
            visits["_withdrawn"] = 1
            if _withdraw(complaint, users):
                state = None
                continue
        if state is None:
            state = _read_next(complaint)
        task = state.task
        if task is None:
            if state.completed:
                return done, True
            if state.next_timer_due_at is None or state.has_incident:
                return done, False
            due = state.next_timer_due_at
            state = _moved(lambda: (task_ops.fire_timers(complaint_id, now=due), complaint_id)[1])
            continue
        current = state.data
        for user in _candidates(task, users, rng):
            values = fill_form(task.form, scenario, dict(visits), current)
            try:
                state = _moved(lambda: (task_ops.complete_task(user, task.id, values), complaint_id)[1])
            except Forbidden:
                continue
            fill_form(task.form, scenario, visits, current)  # count the visit
            done += 1
            break
        else:
            return done, False
    return done, False


def _withdraw(complaint: Complaint, users: list[User]) -> bool:
    """Record the first message the diagram offers people now (a withdrawal in the shipped one)."""
    with unit_of_work():
        for user in users:
            offered = available_messages(user, complaint)
            if offered:
                send_message(user, complaint, offered[0].name, WITHDRAWAL_REASON)
                return True
    return False


def _task_data(complaint: Complaint, task) -> dict:
    if not any((f.get("properties") or {}).get("prefill") for f in task.form):
        return {}
    _, run = load(complaint, None, lock=False)
    return run.task_data(task.id)


# What the demo's complaints are about (the simulation's own are plainly "Simulated ..."): real-looking
# customers, with addresses that can be typed into the registration form again (example.com).
DEMO_CASES = [
    ("Anna Nowak", "Ekspres do kawy EM-200", "Ekspres przecieka po dwóch tygodniach używania."),
    ("Piotr Wiśniewski", "Czajnik K1", "Czajnik wyłącza się, zanim woda się zagotuje."),
    ("Katarzyna Wójcik", "Odkurzacz V8", "Akumulator odkurzacza trzyma tylko pięć minut."),
    ("Tomasz Kamiński", "Pralka WM-7", "Pralka nie odpompowuje wody; serwis nie przyjechał."),
    ("Magdalena Lewandowska", "Toster T2", "Toster przypala jedną stronę pieczywa."),
    ("Jan Zieliński", "Lodówka F300", "Lodówka dostarczona z wgniecionymi drzwiami."),
    ("Ewa Szymańska", "Mikser M5", "Mikser przestał działać po miesiącu."),
    ("Michał Woźniak", "Żelazko S9", "Żelazko zostawia brązowe plamy na ubraniach."),
]


def register_simulated(actor: User, scenario: dict, index: int, received_at: datetime | None = None,
                       demo: bool = False) -> Complaint:
    if demo:
        name, product, description = DEMO_CASES[index % len(DEMO_CASES)]
        email = f"{name.split()[0].lower()}.{index}@example.com".replace("ł", "l")
    kind = Kind("PL", "consumer", "pl", "PLN") if demo else kind_of(index)
    if not demo:
        name, product, description = f"{NAMES[kind.language]} {index}", "Simulated product", "Simulated complaint"
        email = f"customer{index}@example.test"
    customer = find_or_create_customer(name, email, None, kind.language)
    if demo and customer.street is None:  # what their letters need: a salutation, an address for paper
        given, family = name.split(" ", 1)
        customer.title = "ms" if given.endswith("a") else "mr"
        customer.given_name, customer.family_name = given, family
        customer.street, customer.postcode = f"ul. Długa {index + 1}", f"00-{238 + index:03d}"
        customer.city, customer.country = "Warszawa", "PL"
    complaint = register_complaint(
        actor, customer=customer, channel="phone", category="product", product=product,
        description=description, claimed_amount=kind.amount(scenario.get("claimed_amount", 100)),
        currency=kind.currency, language=kind.language, jurisdiction=kind.jurisdiction, regime=kind.regime,
        extra_data=SIM_PROCESS_DATA, received_at=received_at)
    return complaint


def _registered(actor: User, scenario: dict, index: int) -> tuple[Complaint, Next | None]:
    complaint = register_simulated(actor, scenario, index)
    return complaint, what_the_move_left(complaint.id)


def simulate(count: int, seed: int = 1, progress=None) -> Outcome:
    users = ensure_users()
    registrar = users[0]
    rng = random.Random(seed)
    outcome = Outcome()
    started, cpu_started = time.perf_counter(), time.process_time()
    for index, path in enumerate(path_plan(count, seed)):
        scenario = PATHS[path]
        try:
            complaint, first = replayable(lambda: _registered(registrar, scenario, index))
            completions, finished = drive(complaint, scenario, users, rng, first=first)
        except DomainError:
            completions, finished = 0, False
        outcome.task_completions += completions
        kind = kind_of(index)
        key = f"{kind.jurisdiction} {kind.regime}"
        outcome.kinds[key] = outcome.kinds.get(key, 0) + 1
        if finished:
            outcome.completed += 1
            outcome.paths[path] = outcome.paths.get(path, 0) + 1
        else:
            outcome.stuck += 1
        if progress is not None:
            progress(1)
    outcome.elapsed_s = time.perf_counter() - started
    outcome.cpu_s = time.process_time() - cpu_started
    return outcome
