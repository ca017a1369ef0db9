"""Aggregate throughput with several app processes on one database (the multi-process target).

    COMPLAINTS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/parallel.py --fresh-pg --processes 2 --complaints 150 [--json]

Runs ``complaints simulate --json`` in N processes at once against the same database (simulated users
created first, so the processes only share the complaints' tables) and reports the sum of completed
complaints over the wall-clock time of the slowest process. One commit per operation, as the API does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import Database, make_app  # noqa: E402  (bench/ is a folder of scripts)

BIN = Path(sys.executable).parent


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
        started = time.perf_counter()
        runs = [subprocess.Popen([str(BIN / "complaints"), "simulate", "--complaints", str(args.complaints),
                                  "--seed", str(seed), "--json"], env=env, stdout=subprocess.PIPE, text=True)
                for seed in range(1, args.processes + 1)]
        outputs = [json.loads(run.communicate(timeout=1800)[0]) for run in runs]
        wall = time.perf_counter() - started
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
        "target_complaints_per_s": 100,
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
