"""Aggregate throughput with several app processes on one database (the multi-process target).

    COMPLAINTS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/parallel.py --fresh-pg --processes 2 --complaints 150 [--json]

Runs ``complaints simulate --json`` in N processes at once against the same database (simulated users
created first, so the processes only share the complaints' tables) and reports the sum of completed
complaints over the wall-clock time of the slowest process. One commit per operation, as the API does.

It also reports the CPU a complaint costs: the app processes' (``cpu_s`` of each simulation, start-up not
counted) and, when the server runs on this machine, PostgreSQL's (its processes' times in /proc, those of
backends that have ended included through the postmaster's), and the bound those put on this machine:
``cpu_bound_complaints_per_s`` = cores × 1000 / (app + server ms per complaint).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and bench/http.py would hide the standard library's
# http: take it off, and import the neighbours as ``bench.*``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import Database, make_app  # noqa: E402

BIN = Path(sys.executable).parent
# Issue 23, with 2 processes on PostgreSQL on a 2 vCPU machine: complaints per second, and the CPU a
# complaint costs the app and the server together.
TARGETS = {"complaints_per_s": 60, "cpu_ms_per_complaint": 25}


def server_cpu_s() -> float | None:
    """CPU seconds used so far by the PostgreSQL processes on this machine (None: none visible)."""
    total, seen = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name = (stat.parent / "comm").read_text().strip()
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if name.startswith("postgres"):  # utime, stime and the same of its ended children
            total, seen = total + sum(int(f) for f in fields[11:15]), True
    return total / os.sysconf("SC_CLK_TCK") if seen else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--complaints", type=int, default=150, help="per process")
    parser.add_argument("--fresh-pg", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    database = Database(args.fresh_pg, keep=False)
    app = make_app(database)
    env = {**os.environ, "COMPLAINTS_DATABASE_URL": database.url, "COMPLAINTS_INSTANCE_PATH": database.instance}
    try:
        # Creates the simulated users once, so parallel runs do not race to create them.
        subprocess.run([str(BIN / "complaints"), "simulate", "--complaints", "1", "--json"], env=env,
                       check=True, capture_output=True, timeout=300)
        server_before = server_cpu_s()
        started = time.perf_counter()
        runs = [subprocess.Popen([str(BIN / "complaints"), "simulate", "--complaints", str(args.complaints),
                                  "--seed", str(seed), "--json"], env=env, stdout=subprocess.PIPE, text=True)
                for seed in range(1, args.processes + 1)]
        outputs = [json.loads(run.communicate(timeout=1800)[0]) for run in runs]
        wall = time.perf_counter() - started
        server_after = server_cpu_s()
    finally:
        database.close(app)
    completed = sum(o["completed"] for o in outputs)
    result = {
        "processes": args.processes,
        "database": database.url.split(":", 1)[0],
        "completed": completed,
        "stuck": sum(o["stuck"] for o in outputs),
        "wall_s": round(wall, 2),
        "complaints_per_s": round(completed / wall, 2),
        "per_process_complaints_per_s": [o["complaints_per_s"] for o in outputs],
        "target_complaints_per_s": TARGETS["complaints_per_s"],
    }
    if completed:
        app_ms = sum(o["cpu_s"] for o in outputs) * 1000 / completed
        server_ms = ((server_after - server_before) * 1000 / completed
                     if server_before is not None and server_after is not None else None)
        result["cpu_ms_per_complaint"] = {"app": round(app_ms, 1),
                                          "postgresql": round(server_ms, 1) if server_ms is not None else None}
        result["cpu_bound_complaints_per_s"] = round(os.cpu_count() * 1000 / (app_ms + (server_ms or 0)), 1)
        total = app_ms + (server_ms or 0)
        result["targets"] = {
            "complaints_per_s": {"target": f">= {TARGETS['complaints_per_s']}", "value": result["complaints_per_s"],
                                 "met": result["complaints_per_s"] >= TARGETS["complaints_per_s"]},
            "cpu_ms_per_complaint": {"target": f"<= {TARGETS['cpu_ms_per_complaint']}", "value": round(total, 1),
                                     "met": total <= TARGETS["cpu_ms_per_complaint"]}}
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
