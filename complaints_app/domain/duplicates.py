"""Possible duplicates: the same registration sent twice by the same person within minutes (a form filled
in again, a client retrying without an Idempotency-Key) is not refused, since two identical complaints can
be real, but marked on both, for staff to keep both or merge one into the other."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Complaint, Letter, User
from ..models.base import utcnow
from ..models.complaints import CLOSED_STATUSES
from .access import require_role, require_view
from .audit import audit
from .driver import cancel_process
from .errors import Conflict

WINDOW = timedelta(minutes=10)
DECIDERS = ("staff", "supervisor", "customer_centre", "admin")


def content_digest(customer_id: int, channel: str, category: str, description: str, product: str | None,
                   claimed_amount, currency: str, jurisdiction: str, regime: str) -> str:
    """What a registration says, hashed; spacing and letter case in the texts do not count."""
    def text(value) -> str:
        return " ".join(str(value or "").split()).casefold()
    facts = [customer_id, channel, category, text(description), text(product),
             None if claimed_amount is None else str(claimed_amount), currency, jurisdiction, regime]
    return hashlib.sha256(json.dumps(facts, separators=(",", ":")).encode()).hexdigest()


def mark_if_duplicate(actor: User, complaint: Complaint) -> Complaint | None:
    """If ``actor`` registered the same thing in the last ten minutes, mark both; the earlier one."""
    earlier = db.session.scalar(select(Complaint).where(
        Complaint.created_by_id == actor.id, Complaint.content_hash == complaint.content_hash,
        Complaint.id != complaint.id, Complaint.created_at >= utcnow() - WINDOW,
        Complaint.status.not_in(CLOSED_STATUSES)).order_by(Complaint.id.desc()).limit(1))
    if earlier is None:
        return None
    complaint.possible_duplicate_id = earlier.id
    if earlier.possible_duplicate_id is None:
        earlier.possible_duplicate_id = complaint.id
    for one, other in ((complaint, earlier), (earlier, complaint)):
        audit(one, "possible_duplicate", actor, data={"other": other.reference})
    db.session.flush()
    return earlier


def _pair(actor: User, complaint: Complaint) -> Complaint:
    require_role(actor, *DECIDERS)
    require_view(actor, complaint)
    if complaint.possible_duplicate_id is None:
        raise Conflict(_("%(reference)s is not marked as a possible duplicate", reference=complaint.reference))
    other = db.session.get(Complaint, complaint.possible_duplicate_id)
    require_view(actor, other)
    return other


def _unmark(complaint: Complaint, other: Complaint) -> None:
    complaint.possible_duplicate_id = None
    if other.possible_duplicate_id == complaint.id:
        other.possible_duplicate_id = None


def keep_both(actor: User, complaint: Complaint) -> Complaint:
    """They are two complaints: the mark goes from both. The other one."""
    other = _pair(actor, complaint)
    _unmark(complaint, other)
    for one, two in ((complaint, other), (other, complaint)):
        audit(one, "duplicate_kept", actor, data={"other": two.reference})
    db.session.flush()
    return other


def merge(actor: User, duplicate: Complaint) -> Complaint:
    """``duplicate`` is the same complaint as the one it is marked with, and is handled there: its process
    ends, its open tasks are cancelled, its letters not yet sent are withdrawn, and it points to the other
    (status "merged"). The one it went into."""
    into = _pair(actor, duplicate)
    if duplicate.status in CLOSED_STATUSES:
        raise Conflict(_("%(reference)s is %(status)s already", reference=duplicate.reference,
                         status=duplicate.status))
    if into.status == "merged":
        raise Conflict(_("%(reference)s was merged into another complaint", reference=into.reference))
    cancel_process(duplicate, actor, {"reason": "merged", "into": into.reference})
    withdrawn = []
    for letter in db.session.scalars(select(Letter).where(Letter.complaint_id == duplicate.id,
                                                          Letter.status.in_(("draft", "rendered", "failed")))):
        letter.status = "withdrawn"
        letter.next_attempt_at = None
        withdrawn.append(letter.id)
    _unmark(duplicate, into)
    duplicate.status, duplicate.merged_into_id, duplicate.closed_at = "merged", into.id, utcnow()
    audit(duplicate, "merged", actor, data={"into": into.reference, "letters_withdrawn": withdrawn})
    audit(into, "duplicate_merged_here", actor, data={"from": duplicate.reference})
    db.session.flush()
    return into
