"""Work to hand to the background once the transaction that asked for it has committed: an outbox.

Operations call ``after_commit(job, argument)``. Just before COMMIT, the jobs asked for are written to the
``outbox`` table in one statement, in the same transaction: a job is there at most once, so a job already
on its way is not sent again. After the COMMIT, the new ones go to the broker in one message. A rollback
drops them. A job deletes its row when it runs (``forget``).

The sweep asks the database what is due (``queue``) and sends only what the outbox does not hold, and
sends again what has been on its way too long (``resend``): after 1, 2, 4 ... up to 60 minutes, for a
message lost with a broker or a worker. So a job gets a few messages at most, whatever the backlog, and
never none: the database is the truth, the broker a nudge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import OutboxJob
from ..models.base import utcnow

KEY = "complaints.after_commit"
SENT = "complaints.outbox_sent"
OUTBOX = OutboxJob.__table__
FIRST_LEASE = timedelta(minutes=1)
LONGEST_LEASE = timedelta(minutes=60)
INSERT_CHUNK = 500


def after_commit(job: str, argument) -> None:
    db.session.connection()  # bound to a transaction, so that its rollback drops the job
    db.session.info.setdefault(KEY, []).append((job, argument))


def lease(sends: int) -> timedelta:
    """How long a job's ``sends``-th message may be on its way before another is sent."""
    return min(FIRST_LEASE * 2 ** (sends - 1), LONGEST_LEASE)


def _insert(connection, jobs: list[tuple[str, object]], now: datetime) -> list[tuple[str, str]]:
    """Write outbox rows for ``jobs`` not already there; the ones written."""
    rows = [{"job": job, "argument": str(argument), "created_at": now, "sent_at": now, "sends": 1,
             "resend_at": now + lease(1)} for job, argument in dict.fromkeys(jobs)]
    build = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    written = []
    for start in range(0, len(rows), INSERT_CHUNK):  # one statement per 500 (SQLite counts its parameters)
        statement = (build(OUTBOX).values(rows[start:start + INSERT_CHUNK])
                     .on_conflict_do_nothing(index_elements=["job", "argument"])
                     .returning(OUTBOX.c.job, OUTBOX.c.argument))
        written += [tuple(row) for row in connection.execute(statement)]
    return written


def write_outbox(session) -> None:
    """Before COMMIT: the jobs this transaction asked for, into the outbox (one statement); those that
    were not already on their way are kept to be sent after the COMMIT."""
    pending = session.info.pop(KEY, [])
    if pending:
        session.info.setdefault(SENT, []).extend(_insert(session.connection(), pending, utcnow()))


def take_sent(session) -> list[tuple[str, str]]:
    """After COMMIT: the jobs to send now."""
    return session.info.pop(SENT, [])


def drop_pending(session) -> None:
    session.info.pop(KEY, None)
    session.info.pop(SENT, None)


def forget(job: str, argument) -> None:
    """The job is running: its row goes (with the job's own transaction), so that a change made after this
    one asks for the job anew."""
    db.session.execute(_FORGET, {"job": job, "argument": str(argument)})


_FORGET = delete(OUTBOX).where(OUTBOX.c.job == bindparam("job"), OUTBOX.c.argument == bindparam("argument"))


def queue(job: str, arguments) -> list[tuple[str, str]]:
    """Due work the sweep found: those not already on their way, written to the outbox, to be sent."""
    arguments = list(arguments)
    if not arguments:
        return []
    return _insert(db.session.connection(), [(job, a) for a in arguments], utcnow())


def resend(limit: int = 1000) -> list[tuple[str, str]]:
    """Jobs whose message has been on its way too long: sent again, each with a longer lease."""
    now = utcnow()
    late = db.session.execute(select(OUTBOX.c.id, OUTBOX.c.job, OUTBOX.c.argument, OUTBOX.c.sends)
                              .where(OUTBOX.c.resend_at <= now).order_by(OUTBOX.c.resend_at).limit(limit)).all()
    if late:
        db.session.connection().execute(_RESENT, [
            {"row_id": row.id, "sent_at": now, "sends": row.sends + 1, "resend_at": now + lease(row.sends + 1)}
            for row in late])
    return [(row.job, row.argument) for row in late]


_RESENT = update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"))
