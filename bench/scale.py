"""How the pages hold up on a big PostgreSQL database: build one, then time the pages as real users.

    python bench/scale.py --complaints N [--json] [--keep] [--database-url URL] [--reuse] [--seed S]

    python bench/scale.py --complaints 20000                 # a quick look (about a minute)
    python bench/scale.py --complaints 1000000 --json        # the target size (see "Disk and time" below)
    python bench/scale.py --complaints 200000 --keep         # keep the database to look at it afterwards
    python bench/scale.py --complaints 200000 --reuse \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scale_1a2b3c4d   # time a kept one again

**The build.** A fresh database ``scale_<random>`` is created on the server of ``--database-url`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; its own database is only used to create and drop
the new one) and dropped at the end unless ``--keep``. ``--reuse`` takes the URL's database as one an earlier
``--keep`` run built and only times the pages. The build runs the app's own ``complaints init`` (migrations,
the deployed ``bpmn/``, lane roles, calendars, letterheads), creates the bench users, registers about 30
*template* complaints through the app itself (``register_complaint``, then the simulation's ``drive`` stopped
after 0..4 task completions, or run to the end, or withdrawn) in PL/GB/UA with their currencies, languages and
regimes, and then writes the bulk in a few big ``INSERT ... SELECT generate_series`` statements:

- customers (0.6 per complaint; every customer has one complaint, the remaining 40 % of complaints go to a
  skewed few, so some customers have dozens), names and e-mails per country;
- complaints received over the last 730 days (more recent = a bit more; ids and reference numbers in the
  order received), about 2 % still open (open / escalated / awaiting_customer: the status of the template
  stage they clone), the rest closed or withdrawn; jurisdiction, currency, language, regime, category, team,
  priority and statutory rule from the template, the statutory deadline and clock set so that about 2 % of
  the open ones are due within 3 working days or overdue (the At risk page);
- per complaint a copy of its template's engine state (``workflow_instances.state``, the reference replaced;
  completed for the closed ones), its open tasks with NEW task ids written into the copied state too (so the
  process still finds them), some assigned to bench users, some overdue, up to 3 completed tasks, 8-15 audit
  rows, its letters (sent, no PDFs), compensations (paid for closed complaints) and for 8 % an internal note;

then ``VACUUM ANALYZE`` (what autovacuum would have done on a live system: visibility map and statistics).
Each step prints its duration to stderr.

**The timing.** The app is built on that database with CSRF off; each bench user logs in through the login
form with a Flask test client; each page is requested 2 times to warm up and 20 times timed (the whole
request, the body read): ``inbox_mine``, ``inbox_roles``, ``inbox_team``, ``list_first``, ``list_filtered``,
``list_deep`` (page 200, reached by the cursor its Next links carry), ``search`` (``q=`` a product word), ``customer_search``
(the registration page's ``find=``), ``at_risk``, ``approvals``, ``reports``, ``heatmap`` (the process
version's heatmap: ``/processes/<id>/diagram``, a process owner's page, not a query argument of /reports),
``complaint`` (an open cloned complaint). Staff pages are read as ``bench-staff-1`` (a staff member in the
``front_office`` team), supervisor pages as ``bench-supervisor`` (same team), the heatmap as ``bench-admin``.
The CSV export (``/complaints.csv`` as ``bench-admin``) is streamed for 100,000 rows (or all it gives),
read in chunks; ``csv_rows_per_s`` and the peak growth of the resident set during it (sampled from
/proc/self/statm) are reported. For every page the SQL statements of one request are counted (BEGIN/COMMIT
not counted) and, when a page misses its target, the slowest statement of that request is run again under
``EXPLAIN (ANALYZE, BUFFERS)`` and printed to stderr.

Targets (for 1,000,000 complaints): inbox p95 <= 100 ms, list <= 150 ms, search <= 300 ms, at risk <= 200 ms,
reports (and heatmap) <= 1000 ms, complaint page <= 100 ms, approvals <= 100 ms (an inbox), CSV >= 20,000 rows/s.

**Disk and time.** Measured on 2 vCPUs with the server defaults below: 20,000 complaints 0.25 GB (build
1.5 min), 200,000 2.4 GB (build 2 min), 1,000,000 12.0 GB (build 11 min: audit rows 4.7 min, completed tasks
2 min, letters 1.4 min, engine states 1 min): about 12.3 kB per complaint, ~12 GB per million (14 audit rows,
3 task rows with their form JSON, 2.8 letters, the copied engine state TOASTed); allow as much again for the
WAL while it builds. Timing the pages at 1,000,000 takes another ~10 minutes (the slow pages x 22 requests).
The run prints ``pg_database_size`` at the end.

**Server settings assumed**: a stock PostgreSQL 15 (shared_buffers 128MB, work_mem 4MB,
effective_cache_size 4GB, max_parallel_workers_per_gather 2, jit on); the values in force are printed
(``SHOW shared_buffers, work_mem, effective_cache_size, max_parallel_workers_per_gather, jit``) and given in the
JSON under ``server``. The bulk session sets ``synchronous_commit = off`` and a larger
``maintenance_work_mem`` for itself only.

``--json`` prints one JSON object to stdout: {"complaints", "database_mb", "build_s", "pages": {name:
{"median_ms", "p95_ms", "statements", "target_ms", "met"}}, "csv_rows_per_s", "csv_peak_rss_mb", "server"};
without it a table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
# Not this script's folder (bench/http.py would shadow the standard library's ``http``): the project root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-scale-password"
RUNS, WARM_UPS = 20, 2
CSV_ROWS = 100_000
# Page -> (target of its p95 in ms, what kind of page it is).
TARGETS = {
    "inbox_mine": 100, "inbox_roles": 100, "inbox_team": 100, "approvals": 100,
    "list_first": 150, "list_filtered": 150, "list_deep": 150,
    "search": 300, "customer_search": 300,
    "at_risk": 200, "reports": 1000, "heatmap": 1000, "complaint": 100,
}
CSV_TARGET_ROWS_PER_S = 20_000
TEAM = "front_office"
SEARCH_WORD = "dishwasher"  # one of the English products below: in ~1/20 of the GB descriptions
CUSTOMER_FRAGMENT = "owalczy"  # Kowalczyk, Kowalczyk's e-mails: ~1/12 of the Polish customers


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def step(name: str):
    """A build step: its duration to stderr."""
    started = time.perf_counter()
    log(f"  {name} ...")
    yield
    log(f"  {name}: {time.perf_counter() - started:.1f} s")


# -- the database ----------------------------------------------------------------------------------

class ScaleDatabase:
    """A fresh ``scale_<random>`` database on the server of ``url`` (or, with ``reuse``, the URL's own)."""

    def __init__(self, url: str, keep: bool, reuse: bool):
        from sqlalchemy.engine import make_url
        import psycopg

        base = make_url(url)
        if not base.drivername.startswith("postgresql"):
            raise SystemExit("--database-url must be a PostgreSQL URL")
        self.keep = keep or reuse
        self.instance = tempfile.mkdtemp(prefix="complaints-scale-")
        self.admin_conninfo = base.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False)
        self.created = None
        if reuse:
            name = base.database
        else:
            name = f"scale_{secrets.token_hex(4)}"
            with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.created = name
        self.name = name
        self.url = base.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
        self.conninfo = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)

    def connect(self):
        import psycopg

        return psycopg.connect(self.conninfo, autocommit=True)

    def close(self, app=None) -> None:
        if app is not None:
            from complaints_app.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if self.created and not self.keep:
            import psycopg

            with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.created}" WITH (FORCE)')
            log(f"dropped database {self.created}")
        elif self.created:
            log(f"kept database {self.created}: {self.url}")
        shutil.rmtree(self.instance, ignore_errors=True)


def make_app(database: ScaleDatabase, init: bool = True):
    from complaints_app import create_app
    from complaints_app.config import Settings

    settings = Settings.from_env(instance_path=database.instance, database_url=database.url)
    app = create_app(settings)
    app.config["WTF_CSRF_ENABLED"] = False  # the bench logs in through the form without reading its token
    if init:
        result = app.test_cli_runner().invoke(args=["init"])
        if result.exit_code != 0:
            raise SystemExit(f"complaints init failed:\n{result.output}\n{result.exception!r}")
    return app


# -- users -----------------------------------------------------------------------------------------

LIMITS_SUPERVISOR = {"PLN": 1000, "EUR": 250, "GBP": 200, "UAH": 10000}
LIMITS_MANAGER = {"PLN": 50000, "EUR": 12000, "GBP": 10000, "UAH": 500000}
OTHER_TEAMS = ("billing_team", "logistics", "financial_desk")


def bench_users() -> list[tuple[str, list[str], str | None, dict]]:
    """(username, roles, team, limits): the people who log in, and colleagues who hold tasks."""
    users = [("bench-staff-1", ["staff"], TEAM, {}), ("bench-supervisor", ["supervisor"], TEAM, LIMITS_SUPERVISOR),
             ("bench-manager", ["manager"], None, LIMITS_MANAGER), ("bench-admin", ["admin"], None, {}),
             ("bench-owner", ["process_owner"], None, {})]
    teams = (TEAM,) + OTHER_TEAMS
    users += [(f"bench-staff-{i}", ["staff"], teams[i % 4], {}) for i in range(2, 25)]
    users += [(f"bench-supervisor-{i}", ["supervisor"], OTHER_TEAMS[i % 3], LIMITS_SUPERVISOR) for i in range(2, 5)]
    users += [(f"bench-cc-{i}", ["customer_centre"], None, {}) for i in range(1, 4)]
    return users


def create_bench_users() -> dict[str, list[int]]:
    """The bench users (known password); ids of those who may hold tasks, per role."""
    from sqlalchemy import select

    from complaints_app.domain.users import create_user
    from complaints_app.extensions import db
    from complaints_app.models import User
    from complaints_app.unit_of_work import unit_of_work

    ids: dict[str, list[int]] = {"staff": [], "supervisor": [], "customer_centre": []}
    with unit_of_work():
        for username, roles, team, limits in bench_users():
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                user = create_user(username, PASSWORD, roles, display_name=username.replace("-", " ").title(),
                                   email=f"{username}@example.test", team=team, limits=limits)
            for role in roles:
                role = "supervisor" if role == "manager" else role
                if role in ids:
                    ids[role].append(user.id)
    return ids


# -- templates: complaints made by the app itself ---------------------------------------------------

# (jurisdiction, regime, currency, language, category, path, task completions before stopping (None: to the end))
def template_plan() -> list[tuple]:
    money = {"PL": ("PLN", "pl"), "GB": ("GBP", "en"), "UA": ("UAH", "uk")}
    regimes = {"PL": ("consumer", "financial", "payment_services"), "GB": ("consumer", "financial", "payment_services"),
               "UA": ("consumer",)}
    categories = ("product", "service", "billing", "delivery", "staff", "other")
    open_stages = [("rejected", 0), ("rejected", 1), ("upheld_above_supervisor_limit", 2),
                   ("upheld_within_supervisor_limit", 3), ("appeal", 4), ("escalation_returned", 1),
                   ("upheld_above_supervisor_limit", 3)]
    finished = [("first_contact_resolution", None), ("rejected", None), ("upheld_within_supervisor_limit", None),
                ("appeal", None), ("upheld_above_supervisor_limit", None)]
    counts = {"PL": (7, 4), "GB": (6, 3), "UA": (5, 2)}
    plan, n = [], 0
    for country, (opened, closed) in counts.items():
        stages = open_stages[:opened] + finished[:closed] + [("withdrawn", None)]
        for path, steps in stages:
            currency, language = money[country]
            regime = regimes[country][n % len(regimes[country])]
            plan.append((country, regime, currency, language, categories[n % len(categories)], path, steps))
            n += 1
    return plan


TEMPLATE_DESCRIPTIONS = {"pl": "Ekspres do kawy przecieka po dwóch tygodniach.",
                         "en": "The kettle switches itself off before the water boils.",
                         "uk": "Пральна машина не відкачує воду."}


def make_templates(seed: int) -> list[int]:
    """Register and drive the template complaints through the app; their ids."""
    from complaints_app.domain.complaints import find_or_create_customer, register_complaint
    from complaints_app.domain.errors import DomainError
    from complaints_app.simulation import PATHS, SIM_PROCESS_DATA, drive, ensure_users
    from complaints_app.unit_of_work import unit_of_work

    users = ensure_users()  # teamless simulated people: they may see and work every template
    registrar = next(u for u in users if "staff" in u.roles)
    ids = []
    for index, (country, regime, currency, language, category, path, steps) in enumerate(template_plan()):
        scenario = PATHS[path]
        with unit_of_work():
            customer = find_or_create_customer(f"Template customer {index}", f"template{index}@example.test", None,
                                               language)
            complaint = register_complaint(
                registrar, customer=customer, channel="phone", category=category, product="Template product",
                description=TEMPLATE_DESCRIPTIONS[language], claimed_amount=Decimal(str(scenario["claimed_amount"])),
                currency=currency, language=language, jurisdiction=country, regime=regime,
                extra_data=SIM_PROCESS_DATA)
            complaint_id = complaint.id
        try:
            drive(complaint, scenario, users, random.Random(seed + index), max_operations=steps)
        except DomainError as err:
            log(f"  template {index} ({path}) stopped: {err}")
        ids.append(complaint_id)
    return ids


# -- the bulk ---------------------------------------------------------------------------------------

# Working-day rules approximated in calendar days (the bulk needs plausible dates, not the legal reasoning).
RULE_DAYS = {"pl-consumer-14d": 14, "pl-financial-30d": 30, "pl-financial-60d": 60, "pl-payment-15bd": 21,
             "pl-payment-35bd": 49, "uk-disp-summary-3bd": 5, "uk-disp-final-8w": 56, "uk-psd-15bd": 21,
             "uk-psd-35bd": 49, "ua-appeal-15d": 15, "ua-appeal-1m": 30, "ua-appeal-45d": 45}

NAMES = {
    "PL": (["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Jan", "Ewa", "Michał", "Agnieszka", "Paweł",
            "Joanna", "Krzysztof"],
           ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
            "Szymański", "Woźniak", "Dąbrowski", "Kozłowski"]),
    "GB": (["Sarah", "James", "Emma", "Oliver", "Amelia", "Harry", "Olivia", "George", "Jessica", "Thomas"],
           ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright"]),
    "UA": (["Олена", "Андрій", "Оксана", "Сергій", "Наталія", "Дмитро", "Ірина", "Богдан"],
           ["Петренко", "Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Мельник"]),
}
PRODUCTS = {
    "PL": ["ekspres do kawy", "czajnik", "odkurzacz", "pralka", "toster", "lodówka", "mikser", "żelazko", "zmywarka",
           "telewizor", "laptop", "telefon", "karta kredytowa", "przelew", "konto osobiste", "kredyt gotówkowy",
           "lokata", "ubezpieczenie", "rower", "sofa"],
    "GB": ["coffee machine", "kettle", "vacuum cleaner", "washing machine", "toaster", "fridge", "mixer", "iron",
           "dishwasher", "television", "laptop", "phone", "credit card", "bank transfer", "current account",
           "personal loan", "savings account", "insurance policy", "bicycle", "sofa"],
    "UA": ["кавоварка", "чайник", "пилосос", "пральна машина", "тостер", "холодильник", "міксер", "праска",
           "посудомийна машина", "телевізор", "ноутбук", "телефон", "кредитна картка", "переказ", "рахунок",
           "кредит", "депозит", "страховка", "велосипед", "диван"],
}
PROBLEMS = {
    "PL": ["przestał działać po miesiącu", "został dostarczony uszkodzony", "nie odpowiada opisowi",
           "naliczono opłatę wbrew umowie", "serwis nie przyjechał w umówionym terminie",
           "obsługa była nieuprzejma", "zwrot pieniędzy nie dotarł", "dostawa spóźniła się o dwa tygodnie"],
    "GB": ["stopped working after a month", "arrived damaged", "is not as described",
           "was charged twice", "the engineer never came", "staff were rude on the phone",
           "the refund never arrived", "the delivery was two weeks late"],
    "UA": ["перестав працювати через місяць", "доставлено пошкодженим", "не відповідає опису",
           "списали плату двічі", "майстер не приїхав", "персонал був неввічливий",
           "гроші не повернули", "доставка запізнилася на два тижні"],
}
CHANNELS = ["phone", "email", "web", "chat", "letter", "in_person"]


def sql_array(values) -> str:
    """A literal text[] (quotes doubled)."""
    return "(ARRAY[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]::text[])"


def int_array(values) -> str:
    return "(ARRAY[" + ", ".join(str(int(v)) for v in values) + "]::int[])"


def pick(array_sql: str, key_sql: str) -> str:
    """Element of a literal array chosen by an integer expression."""
    return f"({array_sql})[1 + (({key_sql})::bigint % cardinality({array_sql}))]"


def bulk(conn, count: int, template_ids: list[int], holders: dict[str, list[int]], staff_ids: list[int]) -> None:
    """Customers, complaints and everything hanging off them, in a few INSERT ... SELECT statements."""
    run = conn.execute
    run("SET synchronous_commit = off")
    run("SET maintenance_work_mem = '512MB'")
    run("SELECT setseed(0.4242)")
    customers = max(1, round(count * 0.6))

    with step("templates"):
        run("DROP TABLE IF EXISTS scale_templates")
        run(f"""
            CREATE UNLOGGED TABLE scale_templates AS
            SELECT c.id AS tid, c.reference AS tref, c.received_at AS treceived, c.jurisdiction, c.status,
                   c.currency, c.language, c.regime, c.category, c.team, c.priority, c.statutory_rule,
                   w.is_completed,
                   CASE WHEN w.is_completed AND c.status = 'withdrawn' THEN 'withdrawn'
                        WHEN w.is_completed THEN 'closed'
                        WHEN EXISTS (SELECT 1 FROM human_tasks h WHERE h.complaint_id = c.id AND h.state = 'open')
                             AND c.status IN ('open', 'escalated', 'awaiting_customer') THEN 'open'
                        ELSE 'unusable' END AS klass
            FROM complaints c JOIN workflow_instances w ON w.complaint_id = c.id
            WHERE c.id = ANY({int_array(template_ids)})""")
        # Every (jurisdiction, class) needs a template: borrow another country's where one is missing.
        run("DELETE FROM scale_templates WHERE klass = 'unusable'")
        for country in ("PL", "GB", "UA"):
            for klass in ("open", "closed", "withdrawn"):
                found = run("SELECT count(*) FROM scale_templates WHERE jurisdiction = %s AND klass = %s",
                            (country, klass)).fetchone()[0]
                if not found:
                    run("""INSERT INTO scale_templates SELECT tid, tref, treceived, %s, status, currency, language,
                           regime, category, team, priority, statutory_rule, is_completed, klass
                           FROM scale_templates WHERE klass = %s LIMIT 1""", (country, klass))
        run("""ALTER TABLE scale_templates ADD COLUMN k int, ADD COLUMN n int""")
        run("""UPDATE scale_templates t SET k = s.k, n = s.n FROM (
                 SELECT tid, jurisdiction, klass, row_number() OVER (PARTITION BY jurisdiction, klass ORDER BY tid) - 1 AS k,
                        count(*) OVER (PARTITION BY jurisdiction, klass) AS n FROM scale_templates) s
               WHERE s.tid = t.tid AND s.jurisdiction = t.jurisdiction AND s.klass = t.klass""")
        summary = run("SELECT jurisdiction, klass, count(*) FROM scale_templates GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        log("    templates: " + ", ".join(f"{j}/{k}={n}" for j, k, n in summary))

    with step(f"customers ({customers:,})"):
        parts = []
        for country, (given, family) in NAMES.items():
            parts.append((country, sql_array(given), sql_array(family)))
        country_of = "CASE WHEN g % 20 < 12 THEN 'PL' WHEN g % 20 < 17 THEN 'GB' ELSE 'UA' END"
        given_sql = ("CASE " + " ".join(f"WHEN {country_of} = '{c}' THEN {pick(gv, 'g / 7')}" for c, gv, _f in parts)
                     + " END")
        family_sql = ("CASE " + " ".join(f"WHEN {country_of} = '{c}' THEN {pick(fm, 'g / 3')}" for c, _g, fm in parts)
                      + " END")
        base = run("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0]
        run(f"""
            INSERT INTO customers (id, name, email, phone, language, title, given_name, family_name, street, postcode,
                                   city, country, created_at)
            SELECT {base} + g, given || ' ' || family,
                   CASE WHEN g % 10 = 0 THEN NULL
                        ELSE lower(translate(CASE WHEN country = 'UA' THEN 'client' ELSE given || '.' || family END,
                                             'łńśźżąęóćŁŃŚŹŻĄĘÓĆ', 'lnszzaeocLNSZZAEOC')) || '.' || g || '@example.com' END,
                   CASE WHEN g % 3 = 0 THEN NULL
                        ELSE CASE country WHEN 'PL' THEN '+48 5' WHEN 'GB' THEN '+44 7' ELSE '+380 6' END
                             || lpad((g::bigint * 7919 % 100000000)::text, 8, '0') END,
                   CASE country WHEN 'PL' THEN 'pl' WHEN 'GB' THEN 'en' ELSE 'uk' END,
                   CASE WHEN g % 5 = 0 THEN NULL WHEN g % 2 = 0 THEN 'ms' ELSE 'mr' END,
                   given, family,
                   CASE country WHEN 'PL' THEN 'ul. Długa ' || (g % 200 + 1) WHEN 'GB' THEN (g % 200 + 1) || ' High Street'
                        ELSE 'вул. Січових Стрільців, ' || (g % 200 + 1) END,
                   CASE country WHEN 'PL' THEN '00-' || lpad((g % 999)::text, 3, '0') WHEN 'GB' THEN 'M1 1AE'
                        ELSE lpad((g % 99999)::text, 5, '0') END,
                   CASE country WHEN 'PL' THEN 'Warszawa' WHEN 'GB' THEN 'Manchester' ELSE 'Київ' END,
                   country, now() - interval '731 days'
            FROM (SELECT g, {country_of} AS country, {given_sql} AS given, {family_sql} AS family
                  FROM generate_series(1, {customers}) g) s""")
        run("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))")

    with step(f"plan ({count:,} complaints)"):
        run("DROP TABLE IF EXISTS scale_plan")
        cbase = run("SELECT coalesce(max(id), 0) FROM customers").fetchone()[0] - customers
        # age in days: 730 * u^1.25 (more recent = a bit more); open: ~18 % of the last 45 days' and 0.1 % older.
        run(f"""
            CREATE UNLOGGED TABLE scale_plan0 AS
            WITH raw AS (
                SELECT g, 730 * power(random(), 1.25) AS age, random() AS r,
                       {cbase} + CASE WHEN g <= {customers} THEN g
                                      ELSE 1 + floor({customers} * power(random(), 3))::int END AS customer_id
                FROM generate_series(1, {count}) g),
            classed AS (
                SELECT raw.*, now() - age * interval '1 day' AS received_at,
                       CASE WHEN (age < 45 AND r < 0.18) OR r < 0.001 THEN 'open'
                            WHEN r > 0.97 THEN 'withdrawn' ELSE 'closed' END AS klass,
                       cu.country AS jurisdiction
                FROM raw JOIN customers cu ON cu.id = raw.customer_id)
            SELECT classed.*, t.tid, t.tref, t.treceived
            FROM classed JOIN scale_templates t
              ON t.jurisdiction = classed.jurisdiction AND t.klass = classed.klass
             AND t.k = (hashint8(classed.g) & 2147483647) % t.n""")
        # Ids and reference numbers in the order received (after those the app gave the templates).
        base = run("SELECT coalesce(max(id), 0) FROM complaints").fetchone()[0]
        run(f"""
            CREATE UNLOGGED TABLE scale_plan AS
            SELECT q.*, 'C-' || q.year || '-' || lpad(q.number::text, 6, '0') AS ref
            FROM (SELECT p.*, {base} + row_number() OVER (ORDER BY p.received_at, p.g) AS cid,
                         y.year, row_number() OVER (PARTITION BY y.year ORDER BY p.received_at, p.g)
                                 + coalesce((SELECT max(number) FROM complaints x WHERE x.year = y.year), 0) AS number,
                         CASE WHEN p.klass <> 'open' THEN least(p.received_at + (0.5 + random() * 40) * interval '1 day',
                                                               now() - interval '1 minute') END AS closed_at
                  FROM scale_plan0 p
                  CROSS JOIN LATERAL (SELECT extract(year FROM p.received_at AT TIME ZONE 'UTC')::int AS year) y) q""")
        run("DROP TABLE scale_plan0")
        run("CREATE INDEX ON scale_plan (tid)")
        run("CREATE INDEX ON scale_plan (cid)")
        run("ANALYZE scale_plan")
        run("ANALYZE scale_templates")

    with step("complaints"):
        rule_days = "CASE t.statutory_rule " + " ".join(f"WHEN '{r}' THEN {d}" for r, d in RULE_DAYS.items()) + " ELSE NULL END"
        descriptions = []
        for country, language in (("PL", "pl"), ("GB", "en"), ("UA", "uk")):
            products, problems = sql_array(PRODUCTS[country]), sql_array(PROBLEMS[country])
            descriptions.append(f"WHEN '{country}' THEN initcap({pick(products, 'p.g * 31 + 7')}) || ': ' || "
                                f"{pick(problems, 'p.g / 5')} || '. ' || {pick(problems, 'p.g / 13')} || '.'")
        product_sql = ("CASE p.jurisdiction " + " ".join(
            f"WHEN '{c}' THEN {pick(sql_array(PRODUCTS[c]), 'p.g * 31 + 7')}" for c in ("PL", "GB", "UA")) + " END")
        run(f"""
            INSERT INTO complaints (id, reference, year, number, customer_id, channel, category, product, description,
                claimed_amount, currency, language, jurisdiction, regime, status, team, priority, statutory_rule,
                statutory_due_on, resolution_due_at, clock_next_at, statutory_warned_at, statutory_breached_at,
                received_at, created_at, created_by_id, closed_at, satisfaction_score, answered_at, quote_description,
                content_hash)
            SELECT id, ref, year, number, customer_id, channel, category,
                   product, description, claimed_amount, currency, language, jurisdiction, regime, status, team,
                   priority, statutory_rule, due_on, received_at + interval '10 days',
                   CASE WHEN klass = 'open' AND due_on IS NOT NULL THEN (due_on - 3)::timestamp AT TIME ZONE 'UTC' + interval '8 hours' END,
                   CASE WHEN klass = 'open' AND due_on <= current_date + 5 THEN now() - interval '1 day' END,
                   CASE WHEN klass = 'open' AND due_on < current_date THEN now() - interval '2 hours'
                        WHEN klass <> 'open' AND due_on IS NOT NULL AND r < 0.0005 THEN due_on::timestamp AT TIME ZONE 'UTC' + interval '1 day' END,
                   received_at, received_at, created_by_id, closed_at,
                   CASE WHEN klass = 'closed' AND g % 5 < 2 THEN 1 + (g / 5) % 5 END,
                   CASE WHEN klass <> 'open' AND due_on IS NOT NULL THEN closed_at END,
                   g % 7 = 0, md5(g::text)
            FROM (
                SELECT p.*, p.cid AS id,
                       {pick(sql_array(CHANNELS), 'p.g / 11')} AS channel, t.category,
                       {product_sql} AS product,
                       CASE p.jurisdiction {' '.join(descriptions)} END AS description,
                       round((20 + power(random(), 3) * 5000)::numeric, 2) AS claimed_amount,
                       t.currency, t.language, t.regime, t.status AS status, t.team, t.priority, t.statutory_rule,
                       CASE WHEN {rule_days} IS NULL THEN NULL
                            WHEN p.klass <> 'open' THEN (p.received_at AT TIME ZONE 'UTC')::date + {rule_days}
                            WHEN p.g % 50 = 0 THEN current_date - 3 + (p.g / 50) % 7
                            ELSE greatest((p.received_at AT TIME ZONE 'UTC')::date + {rule_days},
                                          current_date + 8 + (p.g % 30)) END AS due_on,
                       ({int_array(staff_ids)})[1 + (p.g % {len(staff_ids)})] AS created_by_id
                FROM scale_plan p JOIN scale_templates t ON t.tid = p.tid AND t.jurisdiction = p.jurisdiction
                                                       AND t.klass = p.klass) s""")
        run("SELECT setval(pg_get_serial_sequence('complaints', 'id'), (SELECT max(id) FROM complaints))")
        run("""INSERT INTO reference_counters (year, last_number) SELECT year, max(number) FROM complaints GROUP BY year
               ON CONFLICT (year) DO UPDATE SET last_number = excluded.last_number""")

    with step("open tasks (new task ids)"):
        run("DROP TABLE IF EXISTS scale_task_map")
        run("""CREATE UNLOGGED TABLE scale_task_map AS
               SELECT p.cid, p.g, h.id AS old_id, gen_random_uuid()::text AS new_id,
                      row_number() OVER (PARTITION BY p.cid ORDER BY h.id) AS ord
               FROM scale_plan p JOIN human_tasks h ON h.complaint_id = p.tid AND h.state = 'open'
               WHERE p.klass = 'open'""")
        staff, sup, cc = (int_array(holders[r]) for r in ("staff", "supervisor", "customer_centre"))
        run(f"""
            INSERT INTO human_tasks (id, complaint_id, definition_id, element_id, name, lane, role, form, properties,
                                     context, state, assignee_id, created_at, due_at, next_reminder_at, reminders_sent)
            SELECT m.new_id, m.cid, h.definition_id, h.element_id, h.name, h.lane, h.role, h.form, h.properties,
                   h.context, 'open',
                   CASE WHEN h.role = 'staff' AND r < 0.40 THEN {staff}[1 + m.g % cardinality({staff})]
                        WHEN h.role = 'supervisor' AND r < 0.20 THEN {sup}[1 + m.g % cardinality({sup})]
                        WHEN h.role = 'customer_centre' AND r < 0.60 THEN {cc}[1 + m.g % cardinality({cc})] END,
                   created, due, CASE WHEN due IS NOT NULL AND due > now() THEN due - interval '1 day' END, 0
            FROM (SELECT m.*, random() AS r,
                         p.received_at + (now() - p.received_at) * (0.3 + 0.5 * random()) AS created,
                         CASE WHEN m.g % 8 = 0 THEN now() - random() * interval '5 days'
                              WHEN (SELECT due_at FROM human_tasks WHERE id = m.old_id) IS NOT NULL
                                   OR m.g % 3 = 0 THEN now() + random() * interval '10 days' END AS due
                  FROM scale_task_map m JOIN scale_plan p ON p.cid = m.cid) m
            JOIN human_tasks h ON h.id = m.old_id""")

    with step("completed tasks (up to 3 per complaint)"):
        staff, sup, cc = (int_array(holders[r]) for r in ("staff", "supervisor", "customer_centre"))
        run(f"""
            INSERT INTO human_tasks (id, complaint_id, definition_id, element_id, name, lane, role, form, properties,
                                     context, state, assignee_id, created_at, due_at, completed_at, completed_by_id,
                                     reminders_sent)
            SELECT gen_random_uuid()::text, p.cid, h.definition_id, h.element_id, h.name, h.lane, h.role, h.form,
                   h.properties, h.context, 'completed', who, at, NULL, at + interval '3 hours', who, 0
            FROM scale_plan p
            JOIN (SELECT * FROM (SELECT x.*, row_number() OVER (PARTITION BY x.complaint_id ORDER BY x.completed_at) AS rk
                                 FROM human_tasks x WHERE x.state = 'completed'
                                   AND x.complaint_id IN (SELECT tid FROM scale_templates)) y
                  WHERE rk <= 3) h ON h.complaint_id = p.tid
            CROSS JOIN LATERAL (SELECT
                CASE h.role WHEN 'staff' THEN {staff}[1 + (p.g + length(h.element_id)) % cardinality({staff})]
                            WHEN 'supervisor' THEN {sup}[1 + p.g % cardinality({sup})]
                            ELSE {cc}[1 + p.g % cardinality({cc})] END AS who,
                p.received_at + (coalesce(p.closed_at, now()) - p.received_at)
                                * (extract(epoch FROM h.created_at - p.treceived)
                                   / greatest(extract(epoch FROM now() - p.treceived), 1)) AS at) s""")

    with step("workflow instances (state copied, task ids replaced)"):
        run("""
            INSERT INTO workflow_instances (complaint_id, definition_id, state, serializer_version, lock_version,
                                            next_timer_due_at, is_completed, has_incident, updated_at)
            SELECT p.cid, w.definition_id, replace(w.state, p.tref, p.ref), w.serializer_version, 1,
                   CASE WHEN w.next_timer_due_at IS NOT NULL AND NOT w.is_completed
                        THEN now() + interval '1 day' + (p.g % 1000) * interval '1 minute' END,
                   w.is_completed, false, coalesce(p.closed_at, now())
            FROM scale_plan p JOIN workflow_instances w ON w.complaint_id = p.tid""")
        rounds = run("SELECT coalesce(max(ord), 0) FROM scale_task_map").fetchone()[0]
        for ordinal in range(1, rounds + 1):
            run("""UPDATE workflow_instances w SET state = replace(w.state, m.old_id, m.new_id)
                   FROM scale_task_map m WHERE m.cid = w.complaint_id AND m.ord = %s""", (ordinal,))

    with step("audit events (8-15 per complaint)"):
        # What a complaint's history shows: registration, status changes, user tasks entered, left and completed.
        run("""
            INSERT INTO audit_events (complaint_id, at, actor_id, kind, definition_id, element_id, element_name,
                                      element_type, task_id, data)
            SELECT p.cid,
                   p.received_at + (coalesce(p.closed_at, now()) - p.received_at) * (a.rn - 1) / greatest(a.cnt, 1),
                   a.actor_id, a.kind, a.definition_id, a.element_id, a.element_name, a.element_type,
                   coalesce(m.new_id, a.task_id),
                   CASE WHEN a.kind = 'complaint_registered' THEN replace(a.data::text, p.tref, p.ref)::json ELSE a.data END
            FROM scale_plan p
            JOIN (SELECT x.*, row_number() OVER (PARTITION BY x.complaint_id ORDER BY x.id) AS rn,
                         count(*) OVER (PARTITION BY x.complaint_id) AS cnt
                  FROM audit_events x
                  WHERE x.complaint_id IN (SELECT tid FROM scale_templates) AND (x.kind IN ('complaint_registered', 'status_changed', 'task_completed', 'letter_reviewed',
                                   'task_claimed')
                     OR (x.element_type = 'UserTask' AND x.kind IN ('element_entered', 'element_left')))) a
              ON a.complaint_id = p.tid AND a.rn <= 15
            LEFT JOIN scale_task_map m ON m.cid = p.cid AND m.old_id = a.task_id
            ORDER BY p.cid, a.rn""")

    with step("letters (sent, no PDFs)"):
        run("""
            INSERT INTO letters (complaint_id, task_id, element_id, number, letter_type, language, status, context,
                                 created_at, created_by_id, template_version, rendered_at, channel, signed_by_id,
                                 message_id, sent_at, delivery_attempts, failed_attempts, version, needs_review,
                                 reviewed_by_id, reviewed_at)
            SELECT p.cid, l.task_id, l.element_id, l.number, l.letter_type, l.language, 'sent',
                   replace(l.context::text, p.tref, p.ref)::json, at, l.created_by_id, 1, at,
                   CASE WHEN p.g % 5 = 0 THEN 'post' ELSE 'email' END, l.signed_by_id,
                   CASE WHEN p.g % 5 <> 0 THEN '<' || p.ref || '-' || l.number || '@bench.example>' END,
                   at + interval '5 minutes', 1, 0, 1, l.needs_review,
                   CASE WHEN l.needs_review THEN l.created_by_id END, CASE WHEN l.needs_review THEN at END
            FROM scale_plan p JOIN letters l ON l.complaint_id = p.tid
            CROSS JOIN LATERAL (SELECT p.received_at + (coalesce(p.closed_at, now()) - p.received_at)
                                       * (l.number - 1) / 4.0 AS at) s""")

    with step("compensations, notes"):
        run("""
            INSERT INTO compensations (complaint_id, status, currency, proposed_amount, dmn_proposed_amount,
                                       proposed_by_id, proposed_at, required_role, decided_by_id, approved_by_id,
                                       decided_at, decision_comment, paid_at, paid_on, paid_by_id, payout_reference)
            SELECT p.cid, CASE WHEN p.klass = 'closed' AND c.status IN ('approved', 'paid') THEN 'paid' ELSE c.status END,
                   c.currency, c.proposed_amount, c.dmn_proposed_amount, c.proposed_by_id, p.received_at + interval '2 days',
                   c.required_role, c.decided_by_id, c.approved_by_id,
                   CASE WHEN c.decided_at IS NOT NULL THEN p.received_at + interval '3 days' END, c.decision_comment,
                   CASE WHEN p.klass = 'closed' AND c.status IN ('approved', 'paid') THEN p.closed_at - interval '1 hour' END,
                   CASE WHEN p.klass = 'closed' AND c.status IN ('approved', 'paid') THEN (p.closed_at - interval '1 hour')::date END,
                   CASE WHEN p.klass = 'closed' AND c.status IN ('approved', 'paid') THEN c.decided_by_id END,
                   CASE WHEN p.klass = 'closed' AND c.status IN ('approved', 'paid') THEN 'PAY-' || p.cid END
            FROM scale_plan p JOIN compensations c ON c.complaint_id = p.tid""")
        staff_list = int_array(staff_ids)
        run(f"""
            INSERT INTO notes (complaint_id, author_id, created_at, body)
            SELECT p.cid, {staff_list}[1 + p.g % cardinality({staff_list})], p.received_at + interval '1 day',
                   'Customer called again about the ' || coalesce(c.product, 'product') || '; ' ||
                   CASE p.g % 3 WHEN 0 THEN 'promised a call back tomorrow.' WHEN 1 THEN 'asked for the invoice copy.'
                        ELSE 'waiting for the service report.' END
            FROM scale_plan p JOIN complaints c ON c.id = p.cid WHERE p.g % 12 = 0""")

    with step("VACUUM ANALYZE"):
        for table in ("scale_plan", "scale_plan0", "scale_task_map", "scale_templates"):
            run(f"DROP TABLE IF EXISTS {table}")
        run("VACUUM ANALYZE")


def build(database: ScaleDatabase, app, count: int, seed: int) -> None:
    from sqlalchemy import select

    from complaints_app.extensions import db
    from complaints_app.models import User
    from complaints_app.simulation import SIM_USERS

    with app.app_context():
        with step("bench users"):
            holders = create_bench_users()
        with step("template complaints through the app"):
            template_ids = make_templates(seed)
        sim_staff = [u for u, roles, _l in SIM_USERS if "staff" in roles]
        staff_ids = holders["staff"] + list(db.session.scalars(select(User.id).where(User.username.in_(sim_staff))))
        db.session.remove()
    with database.connect() as conn:
        bulk(conn, count, template_ids, holders, staff_ids)


# -- timing the pages ------------------------------------------------------------------------------

class StatementLog:
    """The SQL statements the app sends (with their parameters and duration), while ``on``."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.on, self.rows = engine, False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["scale_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on and not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.rows.append((time.perf_counter() - conn.info.pop("scale_started", time.perf_counter()),
                              statement, parameters))

    @contextmanager
    def recording(self):
        self.rows, self.on = [], True
        try:
            yield self
        finally:
            self.on = False


def login(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"logging in as {username} failed: {response.status_code}")
    return client


def explain(app, statement: str, parameters) -> str:
    from complaints_app.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            conn.rollback()
    return "\n".join(r[0] for r in rows)


def time_page(app, statements: StatementLog, client, url: str) -> dict:
    """Warm up, count the statements of one request, then time ``RUNS`` requests (the body read)."""
    for _ in range(WARM_UPS - 1):
        response = client.get(url)
        response.get_data()
    with statements.recording() as recorded:
        response = client.get(url)
        response.get_data()
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}\n{response.get_data(as_text=True)[:2000]}")
    sent = list(recorded.rows)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "statements": len(sent),
            "sql_ms": round(sum(s[0] for s in sent) * 1000, 1), "bytes": len(response.get_data()), "_sent": sent,
            "url": url}


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def time_csv(app, statements: StatementLog, client, url: str, rows_wanted: int) -> dict:
    """Stream the export for ``rows_wanted`` rows (or all of them), read in chunks as a browser would."""
    import gc

    gc.collect()
    start_rss, peak = rss_mb(), 0.0
    max_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = -1  # the heading
    with statements.recording() as recorded:
        started = time.perf_counter()
        response = client.get(url, buffered=False)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        for n, chunk in enumerate(response.iter_encoded()):
            rows += chunk.count(b"\n")
            if n % 2000 == 0:
                peak = max(peak, rss_mb() - start_rss)
            if rows >= rows_wanted:
                break
        elapsed = time.perf_counter() - started
        response.close()
    peak = max(peak, rss_mb() - start_rss)
    return {"rows": rows, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed),
            "peak_rss_growth_mb": round(peak, 1),
            "maxrss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - max_before) / 1024, 1),
            "statements": len(recorded.rows), "url": url}


def pick_examples(app) -> dict:
    """What the pages are asked for: an open cloned complaint the staff user holds, the version's id."""
    from sqlalchemy import select

    from complaints_app.extensions import db
    from complaints_app.domain.search import Cursor, Filters, matching
    from complaints_app.models import Complaint, HumanTask, ProcessDefinition, User

    with app.app_context():
        staff = db.session.scalar(select(User).where(User.username == "bench-staff-1"))
        reference = db.session.scalar(
            select(Complaint.reference).join(HumanTask, HumanTask.complaint_id == Complaint.id)
            .where(HumanTask.state == "open", HumanTask.assignee_id == staff.id, Complaint.team == TEAM,
                   ~Complaint.reference.like("%-0000__"))
            .order_by(Complaint.id.desc()).limit(1))
        if reference is None:
            reference = db.session.scalar(select(Complaint.reference).where(
                Complaint.status.in_(("open", "escalated", "awaiting_customer"))).order_by(Complaint.id.desc()).limit(1))
        definition_id = db.session.scalar(select(ProcessDefinition.id).order_by(ProcessDefinition.id.desc()).limit(1))
        # Page 200 of the staff user's list, as its Next links would reach it: the cursor of row 9,950.
        deep = db.session.scalars(matching(staff, Filters()).offset(199 * 50 - 1).limit(1)).first()
        cursor = str(Cursor.of(deep)) if deep is not None else ""
        db.session.remove()
    return {"reference": reference, "definition_id": definition_id, "deep_cursor": cursor}


def time_pages(app) -> tuple[dict, dict]:
    from complaints_app.extensions import db

    with app.app_context():
        statements = StatementLog(db.engine)
    examples = pick_examples(app)
    staff, supervisor = login(app, "bench-staff-1"), login(app, "bench-supervisor")
    admin = login(app, "bench-admin")
    pages = {
        "inbox_mine": (staff, "/inbox"),
        "inbox_roles": (staff, "/inbox?scope=available"),
        "inbox_team": (supervisor, "/inbox?scope=team"),
        "list_first": (staff, "/complaints"),
        "list_filtered": (staff, "/complaints?status=closed&jurisdiction=PL&category=billing"),
        "list_deep": (staff, "/complaints?" + urlencode({"after": examples["deep_cursor"]})),
        "search": (staff, f"/complaints?q={SEARCH_WORD}"),
        "customer_search": (staff, f"/complaints/new?find={CUSTOMER_FRAGMENT}"),
        "at_risk": (supervisor, "/at-risk"),
        "approvals": (supervisor, "/approvals"),
        "reports": (supervisor, "/reports"),
        "heatmap": (admin, f"/processes/{examples['definition_id']}/diagram"),
        "complaint": (staff, f"/complaints/{examples['reference']}"),
    }
    results = {}
    for name, (client, url) in pages.items():
        result = time_page(app, statements, client, url)
        result["target_ms"] = TARGETS[name]
        result["met"] = result["p95_ms"] <= TARGETS[name]
        sent = result.pop("_sent")
        log(f"  {name:16} {url:60} median {result['median_ms']:8.1f} ms  p95 {result['p95_ms']:8.1f} ms  "
            f"{result['statements']:3} statements ({result['sql_ms']} ms in SQL)")
        if not result["met"] and sent:
            slowest = max(sent, key=lambda s: s[0])
            log(f"\n--- {name} misses {TARGETS[name]} ms; its slowest statement ({slowest[0] * 1000:.1f} ms):\n"
                f"{slowest[1]}\n--- parameters: {slowest[2]!r}\n--- EXPLAIN (ANALYZE, BUFFERS):\n"
                f"{explain(app, slowest[1], slowest[2])}\n")
        results[name] = result
    try:
        csv_result = time_csv(app, statements, admin, "/complaints.csv", CSV_ROWS)
        csv_result["outer_app_context"] = False
    except Exception as err:  # noqa: BLE001 - said, then measured the way the tests run it
        log(f"  csv: the export fails as a WSGI server runs it ({type(err).__name__}: {err}); the response "
            "streams after the request's app context (and its session) has ended. Measured again inside an "
            "outer app context, as the test suite's client runs it.")
        with app.app_context():
            csv_result = time_csv(app, statements, admin, "/complaints.csv", CSV_ROWS)
        csv_result["outer_app_context"] = True
        csv_result["error_without"] = f"{type(err).__name__}: {str(err)[:200]}"
    log(f"  csv              {csv_result['url']:60} {csv_result['rows']:,} rows in {csv_result['seconds']} s = "
        f"{csv_result['rows_per_s']:,} rows/s, peak RSS growth {csv_result['peak_rss_growth_mb']} MB, "
        f"{csv_result['statements']} statements")
    return results, csv_result


# -- report ----------------------------------------------------------------------------------------

def server_facts(database: ScaleDatabase) -> tuple[dict, float, dict]:
    with database.connect() as conn:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in (
            "shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather", "jit")}
        settings["server_version"] = conn.execute("SHOW server_version").fetchone()[0]
        size_mb = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in (
            "complaints", "customers", "workflow_instances", "human_tasks", "audit_events", "letters",
            "compensations", "notes")}
        counts["open_tasks"] = conn.execute("SELECT count(*) FROM human_tasks WHERE state = 'open'").fetchone()[0]
        counts["open_complaints"] = conn.execute(
            "SELECT count(*) FROM complaints WHERE status IN ('open', 'escalated', 'awaiting_customer')").fetchone()[0]
    return settings, size_mb, counts


def print_table(result: dict) -> None:
    print(f"complaints {result['complaints']:,}   database {result['database_mb']:,.0f} MB   "
          f"build {result['build_s']} s")
    print(f"rows: {', '.join(f'{k} {v:,}' for k, v in result['rows'].items())}")
    print(f"{'page':16} {'median ms':>10} {'p95 ms':>10} {'target':>8} {'stmts':>6}  met")
    for name, page in result["pages"].items():
        print(f"{name:16} {page['median_ms']:10.1f} {page['p95_ms']:10.1f} {page['target_ms']:8} "
              f"{page['statements']:6}  {'yes' if page['met'] else 'NO'}")
    print(f"csv: {result['csv_rows_per_s']:,} rows/s (target {CSV_TARGET_ROWS_PER_S:,}), "
          f"peak RSS growth {result['csv_peak_rss_mb']} MB")
    print("server: " + ", ".join(f"{k} {v}" for k, v in result["server"].items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=20000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--database-url", default=os.environ.get("SCALE_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--reuse", action="store_true", help="time the URL's database, built before with --keep")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.pop("COMPLAINTS_DATABASE_URL", None)
    database = ScaleDatabase(args.database_url, args.keep, args.reuse)
    app = None
    try:
        log(f"database {database.name}")
        started = time.perf_counter()
        if args.reuse:
            app = make_app(database, init=False)
            build_s = None
        else:
            with step("complaints init"):
                app = make_app(database)
            build(database, app, args.complaints, args.seed)
            build_s = round(time.perf_counter() - started, 1)
            log(f"build: {build_s} s")
        settings, size_mb, counts = server_facts(database)
        log(f"database size {size_mb:,.0f} MB ({size_mb * 1024 / max(counts['complaints'], 1):.1f} kB per complaint, "
            f"~{size_mb / 1024 / max(counts['complaints'], 1) * 1_000_000:.1f} GB at 1,000,000); rows {counts}")
        log("server: " + ", ".join(f"{k} = {v}" for k, v in settings.items()))
        pages, csv_result = time_pages(app)
        result = {
            "complaints": counts["complaints"] if args.reuse else args.complaints,
            "database_mb": round(size_mb, 1),
            "build_s": build_s,
            "pages": {name: {k: page[k] for k in ("median_ms", "p95_ms", "statements", "target_ms", "met", "sql_ms")}
                      for name, page in pages.items()},
            "csv_rows_per_s": csv_result["rows_per_s"],
            "csv_rows": csv_result["rows"],
            "csv_peak_rss_mb": csv_result["peak_rss_growth_mb"],
            "csv_statements": csv_result["statements"],
            "csv_met": csv_result["rows_per_s"] >= CSV_TARGET_ROWS_PER_S,
            "csv_error_without_outer_app_context": csv_result.get("error_without"),
            "rows": counts,
            "server": settings,
        }
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print_table(result)
    finally:
        database.close(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
