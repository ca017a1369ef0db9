"""The audit trail: one append-only row per decision, event and change, written at once (nothing here reads
it back)."""

from __future__ import annotations

from ..extensions import db
from ..models import AuditEvent, Complaint, User
from ..models.base import utcnow
from .this_transaction import wrote

FIELDS = ("definition_id", "element_id", "element_name", "element_type", "task_id", "data")
_INSERT = AuditEvent.__table__.insert()


def audit(complaint: Complaint | None, kind: str, actor: User | None = None, **fields) -> None:
    """Append one audit row."""
    row = {"complaint_id": complaint.id if complaint else None, "kind": kind,
           "actor_id": actor.id if actor else None, "at": fields.pop("at", None) or utcnow()}
    row.update({name: fields.pop(name, None) for name in FIELDS})
    if fields:
        raise TypeError(f"audit() got unknown fields {sorted(fields)}")
    audit_rows([row])


def audit_rows(rows: list[dict]) -> None:
    """Append many audit rows in one statement (the engine's element events)."""
    if rows:
        # Core executemany: one cached statement, whatever the rows hold (the ORM would split them).
        db.session.connection().execute(_INSERT, rows)
        for complaint_id in {row["complaint_id"] for row in rows if row["complaint_id"]}:
            wrote(complaint_id, "audit", [row for row in rows if row["complaint_id"] == complaint_id])
