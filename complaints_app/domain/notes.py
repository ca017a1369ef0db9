"""Internal notes on a complaint: for the people handling it (listed in its history, found by the search),
never shown, quoted or sent to the customer (no letter context reads them)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Complaint, Note, User
from .access import require_role, require_view
from .audit import audit
from .errors import InvalidInput
from .forms import storable
from .this_transaction import in_session, was_registered_here

MAX_CHARS = 5000
NOTE_ROLES = ("staff", "supervisor", "customer_centre", "admin")


def add_note(actor: User, complaint: Complaint, body: str) -> Note:
    require_role(actor, *NOTE_ROLES)
    require_view(actor, complaint)
    body = (body or "").replace("\r\n", "\n").strip()
    if not body or len(body) > MAX_CHARS or not storable(body):
        raise InvalidInput(_("Write the note (up to %(count)d characters).", count=MAX_CHARS))
    note = Note(complaint_id=complaint.id, author_id=actor.id, body=body)
    db.session.add(note)
    db.session.flush()
    audit(complaint, "note_added", actor, data={"note": note.id})  # the text stays in the note, not the audit
    return note


def notes_of(complaint: Complaint) -> dict[int, Note]:
    """The complaint's notes by id (the history shows each where it was added)."""
    if was_registered_here(complaint.id):  # its notes, if any, are in the session
        return {note.id: note for note in in_session(Note, complaint.id)}
    return {note.id: note for note in db.session.scalars(
        select(Note).where(Note.complaint_id == complaint.id).order_by(Note.id))}
