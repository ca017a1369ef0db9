"""Work to hand to the background once the transaction that asked for it has committed.

Operations call ``after_commit(job, argument)``; the edge commits; then the queued jobs are sent to the
broker. A rollback drops them. A message that is lost anyway is picked up by the sweep (the database says
what is due), so this is a nudge, never the only record.
"""

from __future__ import annotations

from ..extensions import db

KEY = "complaints.after_commit"


def after_commit(job: str, argument) -> None:
    db.session.connection()  # bound to a transaction, so that its rollback drops the job
    db.session.info.setdefault(KEY, []).append((job, argument))


def take_pending(session) -> list[tuple[str, object]]:
    return session.info.pop(KEY, [])
