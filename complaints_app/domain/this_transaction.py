"""What the current transaction knows without asking the database again: the complaints it registered and
the process runs it saved. An answer built before the commit (the door's rule) reads these instead of rows
it has just written. Kept in the session and tied to its transaction: a new transaction starts empty."""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..extensions import db

KEY = "complaints.this_transaction"


def _known(session: Session | None = None) -> dict:
    session = session or db.session()
    root = session.get_transaction()
    entry = session.info.get(KEY)
    if entry is None or entry[0] is not root:
        entry = (root, {"registered": set(), "runs": {}, "completing": {}, "added": [], "written": {},
                        "spoiled": set()})
        session.info[KEY] = entry
    return entry[1]


@event.listens_for(Session, "before_flush")
def _spoil_changed(session: Session, _context, _instances) -> None:
    """Rows of a complaint registered here changed through the ORM: what ``wrote`` kept of them is stale."""
    known = _known(session)
    if not known["registered"]:
        return
    for obj in [*session.dirty, *session.deleted]:
        kind = SPOILED_BY.get(type(obj).__name__)
        if kind and getattr(obj, "complaint_id", None) in known["registered"]:
            known["spoiled"].add((obj.complaint_id, kind))


SPOILED_BY = {"HumanTask": "tasks", "AuditEvent": "audit"}


@event.listens_for(Session, "transient_to_pending")
def _keep_added(session: Session, obj) -> None:
    """Hold every object added in the transaction (the session's identity map lets go of clean ones), so
    that ``in_session`` finds them after their flush."""
    if session.get_transaction() is not None and hasattr(obj, "complaint_id"):
        _known(session)["added"].append(obj)


def registered_here(complaint_id: int) -> None:
    """``complaint_id`` was registered in this transaction: every ORM row about it is in the session."""
    _known()["registered"].add(complaint_id)


def was_registered_here(complaint_id: int) -> bool:
    return complaint_id in _known()["registered"]


def saved_run(complaint_id: int, instance, run) -> None:
    """The process of ``complaint_id`` as this transaction saved it last (the driver's ``save``)."""
    _known()["runs"][complaint_id] = (instance, run)


def last_saved_run(complaint_id: int):
    """``(instance, run)`` as this transaction last saved them, or None."""
    return _known()["runs"].get(complaint_id)


def in_session(model, complaint_id: int) -> list:
    """The ``model`` rows of ``complaint_id`` the session holds (all there are, for a complaint registered
    in this transaction and written through the ORM), by id."""
    found = [obj for obj in _known()["added"] if isinstance(obj, model) and obj.complaint_id == complaint_id
             and _stored(obj)]
    return sorted(found, key=lambda obj: obj.id or 0)


def completing(complaint_id: int, element_id: str, user_id: int) -> None:
    """A person is completing a task of ``element_id``: the move's service steps run before the task's row
    says so, and may ask who completed it last (a letter's signer)."""
    _known()["completing"][complaint_id] = (element_id, user_id)


def last_completion(complaint_id: int) -> tuple[str, int] | None:
    """``(element_id, user_id)`` of the task this transaction last completed on ``complaint_id``."""
    return _known()["completing"].get(complaint_id)


def _stored(obj) -> bool:
    """Still to be stored: not deleted, nor undone with a savepoint (which makes it transient again)."""
    state = inspect(obj)
    return state.persistent or state.pending


def wrote(complaint_id: int, kind: str, rows: list[dict]) -> None:
    """Rows of ``kind`` ("tasks", "audit") written with plain statements for a complaint registered here."""
    known = _known()
    if complaint_id in known["registered"]:
        known["written"].setdefault((complaint_id, kind), []).extend(rows)


def spoil(complaint_id: int, kind: str) -> None:
    """Rows of ``kind`` were changed in a way ``wrote`` does not follow: read them from the database."""
    known = _known()
    if complaint_id in known["registered"]:
        known["spoiled"].add((complaint_id, kind))


def written(complaint_id: int, kind: str) -> list[dict] | None:
    """Every row of ``kind`` this transaction wrote for a complaint registered in it (there are no others),
    or None when the database must be asked."""
    known = _known()
    if complaint_id not in known["registered"] or (complaint_id, kind) in known["spoiled"]:
        return None
    return known["written"].get((complaint_id, kind), [])


def hold(obj) -> None:
    """Keep ``obj`` in the session for the rest of the transaction (the identity map lets go of objects
    nobody holds, and the next ``get`` would read the row again)."""
    _known()["added"].append(obj)
