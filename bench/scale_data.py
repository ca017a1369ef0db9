"""Building the database ``bench/scale.py`` times: the app's own ``complaints init``, complaints made by the
app itself as templates, then bulk SQL cloning them into two years of intake (see ``bench/scale.py``'s
docstring for what it holds, the disk it needs and the server settings it assumes)."""

from __future__ import annotations

import random
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from decimal import Decimal

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-scale-password"
TEAM = "front_office"


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
