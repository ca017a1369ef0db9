"""Letters people write themselves: free text to the customer, in the customer's language, inside the
company's letter frame (letterhead, address block, number, signature), numbered and kept like every
letter, sent the way the law and the customer's request say."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..models import Complaint, Letter, User
from ..models.base import utcnow
from .access import require_role, require_view
from .audit import audit
from .errors import InvalidInput
from .forms import storable
from .letter_delivery import channel_for
from .letter_templates import renderer
from .letters import WRITERS, issue_letter, letter_context_for

SUBJECT_CHARS = (3, 200)
BODY_CHARS = (10, 20_000)


def _clean(subject: str, body: str) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    errors = {}
    if not SUBJECT_CHARS[0] <= len(subject) <= SUBJECT_CHARS[1]:
        errors["subject"] = _("A subject of %(low)d to %(high)d characters.", low=SUBJECT_CHARS[0],
                              high=SUBJECT_CHARS[1])
    if not BODY_CHARS[0] <= len(body) <= BODY_CHARS[1]:
        errors["body"] = _("The letter needs %(low)d to %(high)d characters.", low=BODY_CHARS[0], high=BODY_CHARS[1])
    for name, text in (("subject", subject), ("body", body)):
        if not storable(text):
            errors[name] = _("contains a character that cannot be stored")
    if errors:
        raise InvalidInput(_("The letter was not written: correct the fields marked."), {"fields": errors})
    return subject, body


def _draft(actor: User, complaint: Complaint, subject: str, body: str) -> Letter:
    return Letter(letter_type="correspondence", language=complaint.language, created_at=utcnow(),
                  signed_by_id=actor.id, channel=channel_for(complaint),
                  context={"subject": subject, "texts": {"body": body}, "text_labels": {}})


def preview_correspondence(actor: User, complaint: Complaint, subject: str, body: str) -> str:
    """The letter as it will read (HTML of the same template and facts as its PDF), stored nowhere."""
    require_role(actor, *WRITERS)
    require_view(actor, complaint)
    subject, body = _clean(subject, body)
    letter = _draft(actor, complaint, subject, body)
    letter.number = (db.session.scalar(select(func.max(Letter.number)).where(Letter.complaint_id == complaint.id))
                     or 0) + 1
    return renderer().html("correspondence", complaint.language, letter_context_for(letter, complaint, actor))


def write_correspondence(actor: User, complaint: Complaint, subject: str, body: str) -> Letter:
    """Write the letter: numbered, kept, rendered and sent after the commit. Flushes."""
    require_role(actor, *WRITERS)
    require_view(actor, complaint)
    subject, body = _clean(subject, body)
    letter = issue_letter(complaint, "correspondence", task_id=f"written-{secrets.token_hex(8)}", actor=actor,
                          context={"subject": subject, "texts": {"body": body}, "text_labels": {}})
    audit(complaint, "letter_written", actor, data={"letter": letter.id, "subject": subject})
    return letter
