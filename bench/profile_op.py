"""Where one app operation spends its time: a cProfile of the app simulation plus SQL counts.

    python bench/profile_op.py [--complaints 60] [--seed 3] [--top 25] [--json]

Uses the same set-up as bench/run.py (COMPLAINTS_DATABASE_URL, else a temporary SQLite file;
``--fresh-pg`` as there). An operation is one registration, task completion or timer firing, each with
its own commit, as ``complaints_app.simulation.simulate`` does them.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and bench/http.py would hide the standard library's
# http: take it off, and import the neighbours as ``bench.*``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import Database, _short, make_app  # noqa: E402

# Functions whose cumulative time splits an operation into parts (name fragments of pstats keys).
PARTS = {
    "engine: load state (ProcessRuntime.load)": ("complaints_app/workflow/engine.py", "load"),
    "engine: run (Run.complete/fire_timers/advance)": ("complaints_app/workflow/engine.py", "_step"),
    "engine: save state (Run.dump)": ("complaints_app/workflow/engine.py", "dump"),
    "engine: open_tasks": ("complaints_app/workflow/engine.py", "open_tasks"),
    "engine: task_data": ("complaints_app/workflow/engine.py", "task_data"),
    "db: all SQL (Session._execute_internal)": ("sqlalchemy/orm/session.py", "_execute_internal"),
    "db: flush": ("sqlalchemy/orm/session.py", "flush"),
    "db: commit": ("sqlalchemy/orm/session.py", "commit"),
    "db: DBAPI cursor.execute": ("sqlalchemy/engine/default.py", "do_execute"),
    "db: lazy loads of expired attributes": ("sqlalchemy/orm/state.py", "_load_expired"),
    "users: User.roles (role_rows reload)": ("complaints_app/models/users.py", "roles"),
    "access: can_view": ("complaints_app/domain/access.py", "can_view"),
    "tasks._open_row (task, complaint, locked process: one read)": ("complaints_app/domain/tasks.py", "_open_row"),
    "driver.save": ("complaints_app/domain/driver.py", "save"),
    "driver._host call (service task in its savepoint)": ("complaints_app/domain/driver.py", "call"),
    "after-commit publish (Celery)": ("complaints_app/tasks/app.py", "_send_after_commit"),
    "driver._project_tasks": ("complaints_app/domain/driver.py", "_project_tasks"),
    "simulation._task_data (prefill: extra load)": ("complaints_app/simulation.py", "_task_data"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--complaints", type=int, default=60)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fresh-pg", action="store_true")
    args = parser.parse_args(argv)

    from sqlalchemy import event

    from complaints_app.extensions import db
    from complaints_app.simulation import simulate

    database = Database(args.fresh_pg, keep=False)
    app = None
    try:
        app = make_app(database)
        with app.app_context():
            simulate(12, 1000)  # warm-up
            statements: Counter = Counter()

            def count(_conn, _cursor, statement, _params, _context, _many):
                head = re.sub(r"\s+", " ", statement.strip())
                m = re.match(r"(SELECT .*? FROM \w+|INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|\w+)", head)
                statements[m.group(1)[:90] if m else head[:60]] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            started = time.perf_counter()
            plain = simulate(args.complaints, args.seed)
            plain_s = time.perf_counter() - started
            event.remove(db.engine, "before_cursor_execute", count)

            profiler = cProfile.Profile()
            profiler.enable()
            simulate(args.complaints, args.seed + 1)
            profiler.disable()
    finally:
        database.close(app)

    stats = pstats.Stats(profiler)
    ops = 0
    by_key = {}
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _c) in stats.stats.items():
        short = _short(filename)
        by_key.setdefault((short, name), [0, 0.0, 0.0])
        agg = by_key[(short, name)]
        agg[0] += ncalls
        agg[1] += tottime
        agg[2] = max(agg[2], cumtime)
        if short == "complaints_app/domain/tasks.py" and name in ("complete_task", "fire_timers"):
            ops += ncalls
        elif short == "complaints_app/domain/complaints.py" and name == "register_complaint":
            ops += ncalls
    profiled_total = sum(v[1] for v in by_key.values())
    parts = {}
    for label, (file_part, name) in PARTS.items():
        hits = [v for (f, n), v in by_key.items() if f.endswith(file_part) and n == name]
        if hits:
            parts[label] = {"cum_ms_per_op": round(max(h[2] for h in hits) * 1000 / ops, 3),
                            "calls_per_op": round(sum(h[0] for h in hits) / ops, 2)}
    skip = re.compile(r"simulation\.py|run\.py|profile_op\.py|builtins\.exec|cProfile|^~")
    rows = sorted(((v[2], v[1], v[0], f"{f}({n})") for (f, n), v in by_key.items() if not skip.search(f)),
                  reverse=True)[:args.top]
    app_rows = sorted(((v[2], v[1], v[0], f"{f}({n})") for (f, n), v in by_key.items()
                       if f.startswith("complaints_app/") and "simulation.py" not in f), reverse=True)[:args.top]
    plain_ops = plain.task_completions + args.complaints + 0  # registrations; timer fires counted below
    result = {
        "complaints": args.complaints,
        "operations_profiled": ops,
        "ms_per_operation_unprofiled": round(plain_s * 1000 / max(1, plain_ops), 2),
        "sql_statements_per_complaint": round(sum(statements.values()) / args.complaints, 1),
        "sql_by_statement_per_complaint": {k: round(v / args.complaints, 2) for k, v in statements.most_common(25)},
        "profiled_ms_per_operation": round(profiled_total * 1000 / ops, 3),
        "parts": parts,
        "top_cumulative": [{"function": w, "cum_ms_per_op": round(c * 1000 / ops, 3),
                            "self_ms_per_op": round(t * 1000 / ops, 3), "calls_per_op": round(n / ops, 2)}
                           for c, t, n, w in rows],
        "top_app_functions": [{"function": w, "cum_ms_per_op": round(c * 1000 / ops, 3),
                               "calls_per_op": round(n / ops, 2)} for c, t, n, w in app_rows],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{ops} operations profiled; {result['profiled_ms_per_operation']} ms/op under cProfile; "
          f"{result['ms_per_operation_unprofiled']} ms/op without (registrations + task completions)")
    print(f"SQL statements per complaint: {result['sql_statements_per_complaint']}")
    for k, v in result["sql_by_statement_per_complaint"].items():
        print(f"  {v:7.2f}  {k}")
    print("\nparts (cumulative ms per operation, profiled):")
    for label, v in parts.items():
        print(f"  {v['cum_ms_per_op']:8.3f} ms  {v['calls_per_op']:6.2f} calls  {label}")
    print("\ntop cumulative (all code):")
    for h in result["top_cumulative"]:
        print(f"  {h['cum_ms_per_op']:8.3f} ms cum {h['self_ms_per_op']:7.3f} self {h['calls_per_op']:7.2f} calls  "
              f"{h['function']}")
    print("\ntop cumulative (app code):")
    for h in result["top_app_functions"]:
        print(f"  {h['cum_ms_per_op']:8.3f} ms cum {h['calls_per_op']:7.2f} calls  {h['function']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
