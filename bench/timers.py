"""Timer latency on the embedded default: SQLite + the SQLite broker, ``complaints worker`` + ``complaints beat``.

    python bench/timers.py [--json] [--complaints 20]

A temporary instance folder; ``complaints init``; worker and beat started as subprocesses (own process
groups, COMPLAINTS_TIMER_SWEEP_SECONDS=1). Each complaint is registered with
``customer_reply_window = PT20S`` and ``followup_delay = PT3S`` and driven along the "rejected" path to
"Record customer reply" (3 operations). Its reply-window boundary timer is then due 20 s later, once all the
complaints are driven and the worker has rendered and sent their letters (the target is for a worker that is
otherwise idle: with a 2 s window the first timers came due while this script was still writing and the worker
rendering, and waited behind SQLite's single writer and the letter queue, 3-6 s); beat's sweep
enqueues it, the worker fires it; the process runs on ("Deemed accepted", no payout, resolved) to the
follow-up timer, due 3 s later, which fires the same way. Latency of each firing = the ``at`` of its
``timers_fired`` audit row minus the due time recorded in it (the instance's ``next_timer_due_at``).
Target: within 2 s of due. Worker and beat are always stopped (their process groups), even on error.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and bench/http.py would hide the standard library's
# http: take it off, and import the neighbours as ``bench.*``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLI = str(Path(sys.executable).with_name("complaints"))
TARGET_S = 2.0
DATA = {"followup_delay": "PT3S", "customer_reply_window": "PT20S"}


def _start(args, env, log: Path) -> subprocess.Popen:
    out = open(log, "wb")
    return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we created (start_new_session), nothing else
        proc.wait(timeout=8)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def _wait_for(log: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--complaints", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for all firings")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    instance = tempfile.mkdtemp(prefix="complaints-timers-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
    env.update(COMPLAINTS_INSTANCE_PATH=instance, COMPLAINTS_TIMER_SWEEP_SECONDS="1")
    worker = beat = None
    report: dict = {"complaints": args.complaints, "instance": instance}
    t0 = time.perf_counter()
    try:
        init = subprocess.run([CLI, "init"], env=env, capture_output=True, text=True)
        if init.returncode != 0:
            raise SystemExit(f"complaints init failed: {init.stdout}{init.stderr}")
        worker = _start([CLI, "worker"], env, Path(instance) / "worker.log")
        beat = _start([CLI, "beat"], env, Path(instance) / "beat.log")
        if not _wait_for(Path(instance) / "worker.log", "ready", 30):
            raise SystemExit("worker did not become ready:\n" + (Path(instance) / "worker.log").read_text())

        from sqlalchemy import create_engine, select
        from sqlalchemy.orm import Session

        from complaints_app import create_app
        from complaints_app.config import Settings
        from complaints_app.extensions import db
        from complaints_app.models import AuditEvent, WorkflowInstance
        from complaints_app.simulation import PATHS, drive, ensure_users

        app = create_app(Settings.from_env(env))
        report["broker_url"] = app.extensions["complaints.settings"].broker_url.split("///")[0] + "///..."
        with app.app_context():
            users = ensure_users()
            complaint_ids = []
            for index in range(args.complaints):
                # register_simulated hands SIM_PROCESS_DATA; our short windows replace it.
                from complaints_app.domain.complaints import find_or_create_customer, register_complaint
                from decimal import Decimal

                customer = find_or_create_customer(f"Timer customer {index}", f"timer{index}@example.test",
                                                   None, "pl")
                complaint = register_complaint(
                    users[0], customer=customer, channel="phone", category="product", product="Timer product",
                    description="Timer latency complaint", claimed_amount=Decimal("300"), currency="PLN",
                    language="pl", jurisdiction="PL", regime="consumer", extra_data=DATA)
                db.session.commit()
                done, _ = drive(complaint, PATHS["rejected"], users, random.Random(index), max_operations=3)
                db.session.commit()
                if done != 3:
                    raise SystemExit(f"complaint {complaint.reference} did not reach Record customer reply")
                complaint_ids.append(complaint.id)
            registered_s = time.perf_counter() - t0
            expected = 2 * len(complaint_ids)  # reply window, then follow-up
            db.session.remove()
            db.engine.dispose()
            # Poll on a plain engine: the app's engine starts every transaction with BEGIN IMMEDIATE, so a
            # poller on it would hold SQLite's write lock and stall the worker.
            reader_engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
            deadline = time.monotonic() + args.timeout
            rows = []
            with Session(reader_engine, expire_on_commit=False) as reader:
                while time.monotonic() < deadline:
                    rows = list(reader.execute(select(AuditEvent.complaint_id, AuditEvent.at, AuditEvent.data).where(
                        AuditEvent.kind == "timers_fired", AuditEvent.complaint_id.in_(complaint_ids))
                        .order_by(AuditEvent.id)))
                    reader.rollback()
                    if len(rows) >= expected:
                        break
                    time.sleep(0.25)
                pending = reader.scalar(select(WorkflowInstance.next_timer_due_at).where(
                    WorkflowInstance.complaint_id.in_(complaint_ids),
                    WorkflowInstance.next_timer_due_at.is_not(None)).limit(1))
                reader.rollback()
            reader_engine.dispose()
            fired = {}
            for row in rows:
                due = datetime.fromisoformat(row.data["due"])
                fired.setdefault(row.complaint_id, []).append((row.at - due).total_seconds())
            reply = [v[0] for v in fired.values()]
            follow = [v[1] for v in fired.values() if len(v) > 1]
            everything = reply + follow
            report.update({
                "expected_firings": expected,
                "fired": len(everything),
                "still_pending_timers": pending is not None and len(everything) < expected,
                "setup_s": round(registered_s, 2),
                "latency_s_median": round(statistics.median(everything), 3) if everything else None,
                "latency_s_p90": round(sorted(everything)[int(0.9 * (len(everything) - 1))], 3) if everything else None,
                "latency_s_max": round(max(everything), 3) if everything else None,
                "latency_s_min": round(min(everything), 3) if everything else None,
                "reply_window_latency_s_median": round(statistics.median(reply), 3) if reply else None,
                "reply_window_latency_s_max": round(max(reply), 3) if reply else None,
                "followup_latency_s_median": round(statistics.median(follow), 3) if follow else None,
                "followup_latency_s_max": round(max(follow), 3) if follow else None,
                "target": f"every timer within {TARGET_S:g} s of due",
                "met": bool(everything) and len(everything) == expected and max(everything) <= TARGET_S,
                "sweep_seconds": 1,
            })
    finally:
        _stop(beat)
        _stop(worker)
        report["total_s"] = round(time.perf_counter() - t0, 1)
        if not args.keep:
            shutil.rmtree(instance, ignore_errors=True)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:<32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
