"""The JSON API under load, over HTTP: gunicorn on PostgreSQL, driven by concurrent clients.

    python bench/http.py [--json] [--users 50] [--seconds 20] [--workers 2] [--threads 4] [--keep]
    COMPLAINTS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python bench/http.py

It creates a fresh PostgreSQL database ``bench_<random>`` on that server (dropped at the end), runs
``complaints init``, creates ``--users`` staff users with API tokens, and starts gunicorn (gthread workers,
the broker Redis db 7 when Redis answers on 127.0.0.1:6379, else the embedded one; no Celery worker runs,
so letters only queue). Then, each phase ``--seconds`` long, every user is a thread with its own keep-alive
connection:

(c) registration: each user registers complaints (no Idempotency-Key), with 1 s of think time between
    them, then without; this also makes the complaints whose "First contact" tasks the next phases use;
(a) 50 users, each claim -> complete of a task of their own with 1 s of think time after each request;
(b) the same without think time: pairs per second and latency percentiles.

The figures are whole HTTP requests measured by the client (``time.perf_counter`` around send and read);
client and server share the machine's CPUs. ``--json`` prints one object with ``complete_p95_ms_think``,
``pairs_per_s``, ``register_p95_ms_think`` and the detail of each phase.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: the standard library's ``http`` must be found first, not this script's folder.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the app, and bench/run.py's database set-up as bench.run

TARGETS = {"complete_p95_ms_think": 50, "pairs_per_s": 60}
COMPLAINT = {
    "customer": {"name": "Anna Nowak", "email": "anna.nowak@example.com"}, "channel": "email",
    "category": "delivery", "description": "Parcel arrived broken", "product": "Vase", "claimed_amount": "89.99",
    "currency": "PLN", "language": "pl", "jurisdiction": "PL", "regime": "consumer",
}
NOT_RESOLVED = {"data": {"fc_resolved": False, "fc_summary": "Needs the customer centre"}}


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)
    return {"n": len(values), "p50_ms": round(statistics.median(ordered), 1), "p95_ms": at(0.95),
            "p99_ms": at(0.99), "max_ms": round(ordered[-1], 1)}


class Client:
    """One user: a keep-alive connection and a bearer token."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError, socket.timeout):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, (json.loads(data) if data else {}), elapsed


def think(mean: float) -> None:
    """A person's pause: ``mean`` seconds on average, between half and one and a half times it."""
    if mean:
        time.sleep(random.uniform(0.5 * mean, 1.5 * mean))


def run_users(clients: list[Client], seconds: float, step, stagger: float = 0.0) -> tuple[float, list]:
    """Run ``step(client, index, results)`` in a loop on every client for ``seconds`` (each starting within
    ``stagger`` seconds, as people do not all click at once); the wall time."""
    results: list = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def loop(index: int, client: Client):
        mine: list = []
        time.sleep(random.uniform(0, stagger))
        while time.monotonic() < stop:
            if step(client, index, mine) is False:
                break
        with lock:
            results.extend(mine)
    threads = [threading.Thread(target=loop, args=(i, c)) for i, c in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def phase_register(clients: list[Client], seconds: float, pause: float) -> dict:
    def step(client, index, mine):
        status, body, ms = client.call("POST", "/api/v1/complaints", COMPLAINT)
        mine.append((status, ms))
        think(pause)
    wall, results = run_users(clients, seconds, step, stagger=pause)
    ok = [ms for status, ms in results if status == 201]
    return {"think_s": pause, "registered": len(ok), "errors": len(results) - len(ok),
            "per_s": round(len(ok) / wall, 1), **percentiles(ok)}


def phase_pairs(clients: list[Client], tasks: list[list[str]], seconds: float, pause: float) -> dict:
    queues = [list(mine) for mine in tasks]

    def step(client, index, mine):
        if not queues[index]:
            return False
        task = queues[index].pop()
        status, _body, ms = client.call("POST", f"/api/v1/tasks/{task}/claim")
        mine.append(("claim", status, ms))
        think(pause)
        status, _body, ms = client.call("POST", f"/api/v1/tasks/{task}/complete", NOT_RESOLVED)
        mine.append(("complete", status, ms))
        think(pause)
    wall, results = run_users(clients, seconds, step, stagger=pause)
    claims = [ms for kind, status, ms in results if kind == "claim" and status == 200]
    completes = [ms for kind, status, ms in results if kind == "complete" and status == 200]
    errors = [status for _kind, status, _ms in results if status != 200]
    return {"think_s": pause, "pairs": len(completes), "pairs_per_s": round(len(completes) / wall, 1),
            "errors": len(errors), "error_statuses": sorted(set(errors)), "claim": percentiles(claims),
            "complete": percentiles(completes), "ran_out_of_tasks": any(not q for q in queues)}


def seed_tasks(clients: list[Client], count: int) -> float:
    """Register complaints through the API, as fast as the users can, until ``count`` more exist (their
    "First contact" tasks wait for the pairs phases); the seconds it took (not a measurement)."""
    left = [count]
    lock = threading.Lock()

    def step(client, index, mine):
        with lock:
            if left[0] <= 0:
                return False
            left[0] -= 1
        client.call("POST", "/api/v1/complaints", COMPLAINT)
    wall, _results = run_users(clients, 3600, step)
    return round(wall, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def seed_users(app, count: int) -> list[str]:
    from complaints_app.domain.users import create_token, create_user
    from complaints_app.extensions import db

    with app.app_context():
        tokens = [create_token(create_user(f"http-staff-{i}", "correct horse battery", ["staff"]), "bench")
                  for i in range(count)]
        db.session.commit()
        db.session.remove()
    return tokens


def open_first_contacts(app, users: int) -> list[list[str]]:
    """The open "First contact" tasks, dealt out to the users (each claims only its own: no races)."""
    from sqlalchemy import select

    from complaints_app.extensions import db
    from complaints_app.models import HumanTask

    with app.app_context():
        ids = list(db.session.scalars(select(HumanTask.id).where(HumanTask.state == "open",
                                                                 HumanTask.name == "First contact",
                                                                 HumanTask.assignee_id.is_(None))))
        db.session.remove()
    return [ids[i::users] for i in range(users)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=3000, help="First contact tasks to seed (through the API)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    from bench.run import Database, machine, make_app

    database = Database(fresh_pg=True, keep=args.keep)
    app = server = None
    broker = ""
    try:
        app = make_app(database)
        info = machine(app)
        tokens = seed_users(app, args.users)
        port = free_port()
        broker = "redis://127.0.0.1:6379/7" if redis_up() else f"sqlafast+sqlite:///{database.instance}/broker.sqlite"
        env = {**os.environ, "COMPLAINTS_DATABASE_URL": database.url, "COMPLAINTS_INSTANCE_PATH": database.instance,
               "COMPLAINTS_BROKER_URL": broker, "COMPLAINTS_SECRET_KEY": "bench-secret"}
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-k", "gthread", "-w", str(args.workers), "--threads",
             str(args.threads), "-b", f"127.0.0.1:{port}", "--keep-alive", "30", "--log-level", "warning",
             "complaints_app:create_app()"], env=env, cwd=ROOT)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.2)
        clients = [Client(port, token) for token in tokens]
        for client in clients[:4]:  # warm every worker: caches, the parsed diagram, connections
            client.call("POST", "/api/v1/complaints", COMPLAINT)
        report = {"users": args.users, "seconds": args.seconds, "workers": args.workers, "threads": args.threads,
                  "broker": broker.split(":")[0], "machine": info}
        report["register_think"] = phase_register(clients, args.seconds, 1.0)
        report["register_no_think"] = phase_register(clients, args.seconds / 2, 0.0)
        seeded = seed_tasks(clients, args.tasks)
        tasks = open_first_contacts(app, args.users)
        with_think = max(1, int(args.seconds / 2) + 6)  # a pair every ~2 s per user, and some to spare
        report["seeded_s"] = seeded
        report["pairs_think"] = phase_pairs(clients, [mine[:with_think] for mine in tasks], args.seconds, 1.0)
        report["pairs_no_think"] = phase_pairs(clients, [mine[with_think:] for mine in tasks], args.seconds / 2, 0.0)
        report["complete_p95_ms_think"] = report["pairs_think"]["complete"].get("p95_ms")
        report["pairs_per_s"] = report["pairs_no_think"]["pairs_per_s"]
        report["register_p95_ms_think"] = report["register_think"].get("p95_ms")
        report["targets"] = {
            "complete_p95_ms_think": {"target": f"<= {TARGETS['complete_p95_ms_think']}",
                                      "value": report["complete_p95_ms_think"],
                                      "met": (report["complete_p95_ms_think"] or 1e9) <= TARGETS["complete_p95_ms_think"]},
            "pairs_per_s": {"target": f">= {TARGETS['pairs_per_s']}", "value": report["pairs_per_s"],
                            "met": report["pairs_per_s"] >= TARGETS["pairs_per_s"]},
        }
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            if broker.startswith("redis"):  # the letters' jobs no worker took
                import redis

                redis.Redis.from_url(broker).flushdb()
        database.close(app)
    if args.json:
        print(json.dumps(report))
    else:
        for key in ("register_think", "register_no_think", "pairs_think", "pairs_no_think", "targets"):
            print(f"{key:18} {json.dumps(report[key])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
