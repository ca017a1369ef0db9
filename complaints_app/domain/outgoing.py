"""E-mail that leaves the system, in three steps so that no transaction is open while a mail server talks.

1. *Claim* (a transaction): lock the row, check the message is due, count the attempt and move the next
   attempt a lease ahead, so that no other worker sends it meanwhile; build the message. The edge commits.
2. *Hand over* with no transaction open: a stalled mail server holds up this worker only, never the
   database (on SQLite every writer waits for the one write transaction; on PostgreSQL the row stays free).
3. *Record* (a transaction): sent, or the error with the next attempt after a growing pause; after
   ``give_up_after`` failures in a row it stops and says so, for a person to act on.

A worker that dies between 1 and 3 leaves the claim to run out: the message is tried again after the
lease, under the same Message-ID, so the receiver can recognise a copy (at least once, never lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from ..models.base import utcnow

LEASE = timedelta(minutes=15)  # longer than any hand-over (each SMTP step times out after 30 s)


@dataclass(frozen=True)
class Outgoing:
    """A claimed message: what to hand over, and which attempt it is (the record checks it is still its own)."""

    kind: str  # "letter" or "notification"
    row_id: int
    attempt: int
    message: EmailMessage


def lease_end() -> datetime:
    return utcnow() + LEASE


def next_attempt(failures: int, first: timedelta, longest: timedelta) -> datetime:
    """When to try again after ``failures`` failures in a row: ``first``, doubling each time, at most ``longest``."""
    return utcnow() + min(first * 2 ** max(failures - 1, 0), longest)
