"""Extending a statutory deadline where the law allows it: recorded with its reasons and its letter."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..models import Complaint, Letter, User
from .access import require_role, require_view
from .clock import restart_clock
from .deadlines import compute, extension_of, receipt_date
from .dispatch import after_commit
from .driver import CLOSED_STATUSES, audit, update_process_data
from .errors import Conflict, InvalidInput


def extend_deadline(actor: User, complaint: Complaint, reasons: str) -> Letter:
    """Move the complaint to its rule's extension and write the holding letter the law requires."""
    require_role(actor, "supervisor", "customer_centre", "admin")
    require_view(actor, complaint)
    if complaint.status in CLOSED_STATUSES or complaint.status == "resolved":
        raise Conflict(_("complaint %(reference)s is %(status)s", reference=complaint.reference,
                         status=complaint.status))
    extension = extension_of(complaint.statutory_rule)
    if extension is None:
        raise Conflict(_("the rule %(rule)s allows no extension", rule=complaint.statutory_rule or "–"))
    reasons = (reasons or "").strip()
    if not 10 <= len(reasons) <= 2000:
        raise InvalidInput(_("give the reasons for the delay (10 to 2000 characters): the customer is told them"))
    deadline = compute(extension.id, receipt_date(complaint.received_at, complaint.jurisdiction))
    previous = (complaint.statutory_rule, complaint.statutory_due_on)
    complaint.statutory_rule, complaint.statutory_due_on = extension.id, deadline.due
    restart_clock(complaint)
    count = db.session.scalar(select(func.count(Letter.id)).where(
        Letter.complaint_id == complaint.id, Letter.letter_type == "holding_letter"))
    letter = Letter(complaint_id=complaint.id, task_id=f"extension-{count + 1}", letter_type="holding_letter",
                    language=complaint.language,
                    context={"reference": complaint.reference, "delay_reasons": reasons,
                             "due_on": deadline.due.isoformat()})
    db.session.add(letter)
    db.session.flush()
    audit(complaint, "deadline_extended", actor, data={
        "from": previous[0], "from_due": previous[1].isoformat() if previous[1] else None, "to": extension.id,
        "due": deadline.due.isoformat(), "reasons": reasons, "letter": letter.id})
    after_commit("render_letter", letter.id)
    update_process_data(complaint, actor, {"statutory_rule": extension.id, "statutory_due": deadline.due.isoformat()},
                        "deadline_extended")
    return letter
