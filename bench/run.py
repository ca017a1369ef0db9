"""Benchmark of the complaints app against the bare engine it wraps.

One run measures, on one database:

1. app throughput: ``complaints_app.simulation.simulate`` (generic driver, one commit per operation,
   as the API does) on the database ``COMPLAINTS_DATABASE_URL`` names, or a temporary SQLite file;
2. the ceiling: bare SpiffWorkflow (through the app's ProcessRuntime: the same restricted script engine,
   the definition parsed once and referenced, not embedded) driving the same diagrams with the same
   path mix, saving to a JSON string and loading it back around every step; no database, services
   answered by a trivial host function;
3. loop cost: one complaint driven 200 times round the appeal loop through the app;

and prints one JSON object (``--json``) or a table.

    python bench/run.py [--json] [--complaints 200] [--seed 1] [--loops 200] [--fresh-pg]
    COMPLAINTS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        python bench/run.py --json --fresh-pg

``--fresh-pg`` creates a database ``bench_<random>`` on the server of the PostgreSQL URL (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and drops it at the end.
``--profile N`` adds a cProfile of an app simulation of N more complaints (hotspots per operation);
it runs after the measurements and does not affect them.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and bench/http.py would hide the standard library's
# http: take it off, and import the neighbours as ``bench.*``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGETS = {"ratio_sqlite": 0.6, "ratio_postgresql": 0.4, "loop_ratio": 1.5, "statements_per_complaint": 35}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The appeal loop: Record customer reply = appeal -> Investigate -> rejected -> final response -> reply ...
LOOP_SCENARIO = {"claimed_amount": 300, "fc_resolved": False, "escalation_approved": True,
                 "decision": "rejected", "customer_reply": "appeal"}


# -- database set-up ------------------------------------------------------------------------------

class Database:
    """The database to measure on: the caller's, a fresh PostgreSQL one, or a temporary SQLite file."""

    def __init__(self, fresh_pg: bool, keep: bool):
        self.keep = keep
        self.instance = tempfile.mkdtemp(prefix="complaints-bench-")
        self.created_pg = None
        self.admin_conninfo = None
        url = os.environ.get("COMPLAINTS_DATABASE_URL", "")
        if fresh_pg:
            from sqlalchemy.engine import make_url
            import psycopg

            base = make_url(url or DEFAULT_PG)
            if not base.drivername.startswith("postgresql"):
                raise SystemExit("--fresh-pg needs a PostgreSQL COMPLAINTS_DATABASE_URL (or none)")
            name = f"bench_{secrets.token_hex(4)}"
            self.admin_conninfo = base.set(drivername="postgresql", database="postgres").render_as_string(
                hide_password=False)
            with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.created_pg = name
            url = base.set(database=name).render_as_string(hide_password=False)
        self.url = url or f"sqlite:///{Path(self.instance) / 'complaints.sqlite'}"

    def close(self, app=None):
        if app is not None:
            from complaints_app.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if self.created_pg and not self.keep:
            import psycopg

            with psycopg.connect(self.admin_conninfo, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.created_pg}" WITH (FORCE)')
        if not self.keep:
            shutil.rmtree(self.instance, ignore_errors=True)


def make_app(database: Database):
    from complaints_app import create_app
    from complaints_app.config import Settings

    settings = Settings.from_env(instance_path=database.instance, database_url=database.url)
    app = create_app(settings)
    result = app.test_cli_runner().invoke(args=["init"])
    if result.exit_code != 0:
        raise SystemExit(f"complaints init failed:\n{result.output}\n{result.exception!r}")
    return app


# -- 1. app throughput ----------------------------------------------------------------------------

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def app_throughput(count: int, seed: int) -> dict:
    """The simulation's figures, and the SQL statements it sent per complaint (every statement but BEGIN,
    COMMIT and ROLLBACK, savepoints included; the simulated users' own reads of their task lists too)."""
    from sqlalchemy import event

    from complaints_app.extensions import db
    from complaints_app.simulation import simulate

    simulate(12, seed + 1000)  # warm-up: caches (spec, compiled scripts), connection pool, users
    sent = [0]

    def tally(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            sent[0] += 1
    event.listen(db.engine, "before_cursor_execute", tally)
    try:
        result = simulate(count, seed).as_dict()
    finally:
        event.remove(db.engine, "before_cursor_execute", tally)
    result["statements_per_complaint"] = round(sent[0] / count, 1)
    return result


# -- 2. ceiling: the bare engine ------------------------------------------------------------------

def _host(call):
    """Services answered by the host with plausible data and no side effects."""
    if call.topic == "create_letter":
        return {"last_letter_type": call.properties.get("letter_type")}
    if call.topic == "record_compensation_proposal":
        return {"compensation_approved": False}
    if call.topic == "summary_resolution_window":  # the simulated complaints are not UK financial ones
        return {"summary_resolution_possible": False}
    if call.topic == "business_due":  # wall-clock hours stand in for working hours (no calendar here)
        from datetime import datetime, timezone

        from complaints_app.workflow import parse_duration

        due = datetime.now(timezone.utc) + parse_duration(call.data[call.properties["duration_var"]])
        return {call.properties["result_var"]: due.isoformat()}
    return None


def _start_data(index: int, scenario: dict) -> dict:
    # What register_complaint hands the process (domain.complaints.process_data) for a simulated complaint,
    # of the same kind (jurisdiction, regime, language, currency) as the app's simulation draws for it.
    from complaints_app.simulation import SIM_PROCESS_DATA, kind_of

    kind = kind_of(index)
    return {"reference": f"C-2026-{index:06d}", "category": "product", "channel": "phone",
            "product": "Simulated product", "claimed_amount": float(kind.amount(scenario.get("claimed_amount", 100))),
            "currency": kind.currency, "jurisdiction": kind.jurisdiction, "regime": kind.regime,
            "language": kind.language,
            "customer_reply_window": "P14D", "followup_delay": "P7D", "compensation_approved": False,
            "compensation_amount": 0.0, "decision": "", **SIM_PROCESS_DATA}


def ceiling(count: int, seed: int) -> dict:
    """Same diagrams, same restricted engine, same path mix; state saved to a dict around each step."""
    from complaints_app.domain.forms import clean_form
    from complaints_app.domain.processes import read_files
    from complaints_app.simulation import PATHS, WITHDRAWAL_REASON, fill_form, path_plan
    from complaints_app.workflow import ProcessRuntime

    runtime = ProcessRuntime()
    compiled = runtime.compile(read_files([ROOT / "bpmn"]), "complaint")
    key, spec_json = "bench:1", compiled.spec_json
    runtime.start(key, spec_json, {})  # parse the definition once, outside the timing

    def one(index: int, path: str, store: dict) -> tuple[int, bool]:
        scenario = PATHS[path]
        run = runtime.start(key, spec_json, _start_data(index, scenario), _host)
        result = run.advance()
        store[index] = run.dump()
        visits: dict = {}
        done = 0
        withdrawn = False
        while not result.completed:
            if result.incident is not None:
                return done, False
            run = runtime.load(key, spec_json, store[index], _host)
            if scenario.get("withdraw_after") == done and not withdrawn:  # as simulation._withdraw does
                withdrawn = True
                offered = [m for m in run.messages() if m.properties.get("sent_by") != "app"]
                if offered:
                    result = run.send_message(offered[0].name, {"reason": WITHDRAWAL_REASON})
                    store[index] = run.dump()
                    continue
            tasks = run.open_tasks()
            if not tasks:
                if result.next_timer_due is None:
                    return done, False
                result = run.fire_timers()
            else:
                task = tasks[0]
                form = task.form
                prefill = any((f.get("properties") or {}).get("prefill") for f in form)
                current = run.task_data(task.task_id) if prefill else {}
                values = clean_form(form, fill_form(form, scenario, visits, current), current)
                result = run.complete(task.task_id, values)
                done += 1
            store[index] = run.dump()
        return done, True

    def batch(plan) -> dict:
        store: dict[int, str] = {}
        completed = completions = 0
        paths: dict[str, int] = {}
        started = time.perf_counter()
        for index, path in enumerate(plan):
            n, finished = one(index, path, store)
            completions += n
            if finished:
                completed += 1
                paths[path] = paths.get(path, 0) + 1
        elapsed = time.perf_counter() - started
        return {"completed": completed, "task_completions": completions, "elapsed_s": elapsed, "paths": paths,
                "state_bytes_max": max(len(s) for s in store.values())}

    batch(path_plan(12, seed + 1000))  # warm-up
    runs = [batch(path_plan(count, seed)) for _ in range(3)]
    rates = sorted(r["completed"] / r["elapsed_s"] for r in runs)
    best = runs[0]
    return {
        "ceiling_per_s": round(statistics.median(rates), 2),
        "ceiling_task_completions_per_s": round(statistics.median(
            r["task_completions"] / r["elapsed_s"] for r in runs), 2),
        "ceiling_runs_per_s": [round(r, 2) for r in rates],
        "ceiling_completed": best["completed"],
        "ceiling_task_completions": best["task_completions"],
        "ceiling_paths": best["paths"],
        "ceiling_state_bytes_max": best["state_bytes_max"],
    }


# -- 3. loop cost through the app ----------------------------------------------------------------

def loop_cost(loops: int) -> dict:
    from sqlalchemy import select

    from complaints_app.domain.tasks import complete_task
    from complaints_app.extensions import db
    from complaints_app.models import HumanTask, WorkflowInstance
    from complaints_app.simulation import _task_data, ensure_users, fill_form, register_simulated
    from complaints_app.unit_of_work import replayable, unit_of_work

    users = ensure_users()
    by_role = {}
    for user in users:
        for role in user.roles:
            by_role.setdefault(role, user)
    with unit_of_work():
        complaint = register_simulated(users[0], LOOP_SCENARIO, 900_000)

    def open_task():
        return db.session.scalar(select(HumanTask).where(HumanTask.complaint_id == complaint.id,
                                                         HumanTask.state == "open").order_by(HumanTask.created_at))

    def operate() -> tuple[str, float]:
        task = open_task()
        if task is None:
            raise SystemExit("loop benchmark: the complaint has no open task (stuck?)")
        values = fill_form(task.form, LOOP_SCENARIO, {}, _task_data(complaint, task))
        user = by_role[task.role]
        task_id, element = task.id, task.element_id
        started = time.perf_counter()
        replayable(lambda: complete_task(user, task_id, values))  # as every edge runs an operation
        return element, (time.perf_counter() - started) * 1000

    def state_bytes() -> int:
        return len(db.session.scalar(select(WorkflowInstance.state).where(
            WorkflowInstance.complaint_id == complaint.id)))

    # First contact (not resolved), approve escalation, investigate (rejected): now at Record customer reply.
    while open_task() is not None and open_task().element_id != "Task_RecordCustomerReply":
        operate()
    per_iteration: list[list[float]] = []
    sizes = {}
    for iteration in range(1, loops + 1):
        times = []
        element, ms = operate()  # Record customer reply = appeal
        assert element == "Task_RecordCustomerReply", element
        times.append(ms)
        element, ms = operate()  # Investigate = rejected -> the final response, a draft to review
        assert element == "Task_Investigate", element
        times.append(ms)
        element, ms = operate()  # Review the final response = approved -> Record customer reply
        assert element == "Task_ReviewFinalResponse", element
        times.append(ms)
        per_iteration.append(times)
        if iteration in (1, 10, 50, 100, 200) or iteration == loops:
            sizes[iteration] = state_bytes()

    def window(first: int, last: int) -> float:
        ms = [t for times in per_iteration[first - 1:last] for t in times]
        return round(statistics.median(ms), 2)

    last = loops
    curve = {}
    for end in sorted({5, 50, 100, 150, 200, last}):
        if end <= last:
            curve[f"{max(1, end - 4)}-{end}"] = window(max(1, end - 4), end)
    step_1, step_n = window(1, min(5, last)), window(max(1, last - 4), last)
    return {
        "loops": loops,
        "step_ms_loop_1": step_1,
        f"step_ms_loop_{last}": step_n,
        "step_ms_loop_200": step_n if last == 200 else None,
        "loop_ratio": round(step_n / step_1, 2),
        "state_bytes_loop_1": sizes.get(1),
        f"state_bytes_loop_{last}": sizes.get(last),
        "state_bytes_loop_200": sizes.get(200),
        "state_bytes_by_loop": sizes,
        "step_ms_by_loops": curve,
    }


# -- profile ---------------------------------------------------------------------------------------

def profile_app(count: int, seed: int, top: int = 15) -> dict:
    """cProfile of an app simulation: the top functions by cumulative time, per operation."""
    from complaints_app.simulation import simulate

    profiler = cProfile.Profile()
    profiler.enable()
    outcome = simulate(count, seed)
    profiler.disable()
    stats = pstats.Stats(profiler)
    ops = 0
    for (filename, _line, name), (_cc, ncalls, _tt, _ct, _callers) in stats.stats.items():
        if filename.endswith(os.path.join("domain", "tasks.py")) and name in ("complete_task", "fire_timers"):
            ops += ncalls
        elif filename.endswith(os.path.join("domain", "complaints.py")) and name == "register_complaint":
            ops += ncalls
    rows = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append((cumtime, tottime, ncalls, f"{_short(filename)}:{line}({name})"))
    rows.sort(reverse=True)
    skip = ("simulation.py", "run.py", "<built-in method builtins.exec>", "cProfile", "profile")
    hot = [r for r in rows if not any(s in r[3] for s in skip)][:top]
    return {
        "complaints": count,
        "operations": ops,
        "elapsed_s_profiled": round(outcome.elapsed_s, 3),
        "ms_per_operation_profiled": round(outcome.elapsed_s * 1000 / ops, 3) if ops else None,
        "hotspots": [{"function": where, "cum_ms_per_op": round(cum * 1000 / ops, 3),
                      "self_ms_per_op": round(tot * 1000 / ops, 3), "calls_per_op": round(n / ops, 2)}
                     for cum, tot, n, where in hot],
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# -- machine ---------------------------------------------------------------------------------------

def machine(app) -> dict:
    from importlib.metadata import version

    from complaints_app.extensions import db

    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with app.app_context():
        dialect = db.engine.dialect
        with db.engine.connect() as conn:
            if dialect.name == "sqlite":
                server = conn.exec_driver_sql("select sqlite_version()").scalar()
            else:
                server = conn.exec_driver_sql("show server_version").scalar()
    return {
        "cpu_count": os.cpu_count(), "cpu_model": cpu_model, "python": platform.python_version(),
        "platform": platform.platform(), "dialect": f"{dialect.name}+{dialect.driver}",
        "database_version": server, "spiffworkflow": version("SpiffWorkflow"),
        "sqlalchemy": version("SQLAlchemy"), "date": date.today().isoformat(),
    }


# -- main ------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--complaints", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loops", type=int, default=200, help="appeal-loop iterations (default 200)")
    parser.add_argument("--fresh-pg", action="store_true",
                        help="create a database bench_<random> on the PostgreSQL server and drop it after")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile an app simulation of N complaints (after the measurements)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance / database")
    args = parser.parse_args(argv)

    import logging

    database = Database(args.fresh_pg, args.keep)
    app = None
    try:
        app = make_app(database)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        info = machine(app)
        report: dict = {"complaints": args.complaints, "seed": args.seed, "machine": info,
                        "database": info["dialect"], "fresh_pg_database": database.created_pg}
        with app.app_context():
            app_result = app_throughput(args.complaints, args.seed)
        report.update({
            "completed": app_result["completed"], "stuck": app_result["stuck"],
            "task_completions": app_result["task_completions"], "elapsed_s": app_result["elapsed_s"],
            "complaints_per_s": app_result["complaints_per_s"],
            "task_completions_per_s": app_result["task_completions_per_s"],
            "ms_per_task_completion": round(1000 / app_result["task_completions_per_s"], 2)
            if app_result["task_completions_per_s"] else None,
            "paths": app_result["paths"], "statements_per_complaint": app_result["statements_per_complaint"],
        })
        ceil = ceiling(args.complaints, args.seed)
        report.update(ceil)
        report["ratio"] = round(report["complaints_per_s"] / ceil["ceiling_per_s"], 3)
        report["same_paths_as_ceiling"] = (report["paths"] == ceil["ceiling_paths"]
                                           and report["task_completions"] == ceil["ceiling_task_completions"])
        with app.app_context():
            report.update(loop_cost(args.loops))
        target_ratio = TARGETS["ratio_postgresql" if info["dialect"].startswith("postgresql") else "ratio_sqlite"]
        report["targets"] = {
            "ratio": {"target": f">= {target_ratio}", "value": report["ratio"], "met": report["ratio"] >= target_ratio},
            "loop_ratio": {"target": f"<= {TARGETS['loop_ratio']}", "value": report["loop_ratio"],
                           "met": report["loop_ratio"] <= TARGETS["loop_ratio"]},
            "statements_per_complaint": {
                "target": f"<= {TARGETS['statements_per_complaint']}", "value": report["statements_per_complaint"],
                "met": report["statements_per_complaint"] <= TARGETS["statements_per_complaint"]},
        }
        if args.profile:
            with app.app_context():
                report["profile"] = profile_app(args.profile, args.seed + 7)
    finally:
        database.close(app)

    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)
    return 0


def print_table(r: dict) -> None:
    m = r["machine"]
    last = r["loops"]
    rows = [
        ("database", f"{r['database']} {m['database_version']}"),
        ("machine", f"{m['cpu_count']} CPU {m['cpu_model']}, Python {m['python']}, "
                    f"SpiffWorkflow {m['spiffworkflow']}, SQLAlchemy {m['sqlalchemy']}"),
        ("complaints (seed)", f"{r['complaints']} ({r['seed']}), completed {r['completed']}, stuck {r['stuck']}"),
        ("app complaints/s", r["complaints_per_s"]),
        ("app task completions/s", f"{r['task_completions_per_s']} ({r['ms_per_task_completion']} ms each)"),
        ("ceiling complaints/s", f"{r['ceiling_per_s']} (runs {r['ceiling_runs_per_s']})"),
        ("ratio app/ceiling", f"{r['ratio']} (target {r['targets']['ratio']['target']}: "
                              f"{'met' if r['targets']['ratio']['met'] else 'NOT met'})"),
        ("same paths as ceiling", r["same_paths_as_ceiling"]),
        ("SQL statements per complaint", f"{r['statements_per_complaint']} (target "
                                         f"{r['targets']['statements_per_complaint']['target']})"),
        ("loop step ms, loop 1-5", r["step_ms_loop_1"]),
        (f"loop step ms, loop {max(1, last - 4)}-{last}", r[f"step_ms_loop_{last}"]),
        ("loop ratio", f"{r['loop_ratio']} (target {r['targets']['loop_ratio']['target']}: "
                       f"{'met' if r['targets']['loop_ratio']['met'] else 'NOT met'})"),
        (f"state bytes at loop {last}", r[f"state_bytes_loop_{last}"]),
        ("step ms by loops", r["step_ms_by_loops"]),
        ("paths", r["paths"]),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if "profile" in r:
        p = r["profile"]
        print(f"\nprofile: {p['complaints']} complaints, {p['operations']} operations, "
              f"{p['ms_per_operation_profiled']} ms/op under cProfile")
        for h in p["hotspots"]:
            print(f"  {h['cum_ms_per_op']:8.3f} ms cum  {h['self_ms_per_op']:7.3f} ms self  "
                  f"{h['calls_per_op']:7.2f} calls  {h['function']}")


if __name__ == "__main__":
    sys.exit(main())
