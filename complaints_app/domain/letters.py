"""Letters: the context a letter is written from, rendering to a stored PDF, reading it back."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..letters import LetterError, LetterRenderer
from ..models import Complaint, Letter, User
from ..models.money import NO_ADDRESS
from ..models.base import utcnow
from .access import require_role, require_view
from .deadlines import receipt_date
from .dispatch import after_commit
from .driver import audit
from .errors import Conflict, InvalidInput, NotFound
from .notify import notify_people
from .outgoing import Outgoing, lease_end, next_attempt

RETRY_FIRST, RETRY_LONGEST = timedelta(minutes=2), timedelta(hours=4)
GIVE_UP_AFTER = 10  # failures in a row: about 13 hours of trying


def renderer() -> LetterRenderer:
    """The process's renderer (fonts and stylesheet parsed once)."""
    found = current_app.extensions.get("complaints.letters")
    if found is None:
        settings = current_app.extensions["complaints.settings"]
        found = LetterRenderer(Path(settings.letters_path), {
            "name": settings.company_name, "address": settings.company_address,
            "email": settings.company_email, "phone": settings.company_phone})
        current_app.extensions["complaints.letters"] = found
    return found


LOCALES = {"pl": "pl_PL", "en": "en_GB", "uk": "uk_UA"}  # how each letter language writes dates and amounts


def letter_context(letter: Letter, complaint: Complaint) -> dict:
    """A plain-data context: the letter's own snapshot of the process plus the complaint's facts, dates and
    amounts written as the letter's language writes them (17 grudnia 2026 · 1 200,50)."""
    locale = LOCALES.get(letter.language, "en_GB")
    amount = letter.context.get("compensation_amount")
    decision = letter.context.get("decision") or ("resolved_first_contact" if letter.letter_type ==
                                                  "final_response" else "")
    due = letter.context.get("due_on") or (complaint.statutory_due_on.isoformat() if complaint.statutory_due_on
                                           else "")

    def day(value: date) -> str:
        return format_date(value, "long", locale=locale)

    return {
        "reference": complaint.reference,
        "received_on": day(receipt_date(complaint.received_at, complaint.jurisdiction)),
        "today": day((letter.created_at or utcnow()).date()),
        "customer_name": complaint.customer.name,
        "customer_email": complaint.customer.email or "",
        "description": complaint.description,
        "jurisdiction": complaint.jurisdiction,
        "regime": complaint.regime,
        "decision": decision,
        "decision_reasons": letter.context.get("decision_reasons") or letter.context.get("fc_summary") or "",
        "remedy": letter.context.get("remedy") or "",
        "compensation_amount": format_decimal(amount, "#,##0.00", locale=locale)
        if amount and letter.context.get("compensation_approved") else "",
        "currency": complaint.currency,
        "due_on": day(date.fromisoformat(due)) if due else "",
        "delay_reasons": letter.context.get("delay_reasons") or "",
        "correction_of": letter.context.get("correction_of") or "",
        "correction_note": letter.context.get("correction_note") or "",
        "deemed_accepted": bool(letter.context.get("deemed_accepted")),
    }


def _store() -> Path:
    path = Path(current_app.extensions["complaints.settings"].letters_store)
    path.mkdir(parents=True, exist_ok=True)
    return path


def render_letter(letter_id: int) -> bool:
    """Render a draft letter to its PDF, once: a letter already rendered is left alone."""
    letter = db.session.scalar(select(Letter).where(Letter.id == letter_id).with_for_update()
                               .execution_options(populate_existing=True))
    if letter is None or letter.status != "draft":
        return False
    complaint = db.session.get(Complaint, letter.complaint_id)
    try:
        pdf, _html = renderer().render(letter.letter_type, letter.language, letter_context(letter, complaint))
    except Exception as err:  # noqa: BLE001 - rendering is pure: what fails once fails every time
        # A letter that cannot be made (a missing clause, data no template or font can take) is marked
        # failed with its reason, for people to see and correct; left a draft, every sweep would retry it.
        if not isinstance(err, LetterError):
            err = LetterError(f"{type(err).__name__}: {err}")
        letter.error = str(err)
        letter.status = "failed"
        audit(complaint, "letter_failed", None, data={"letter": letter.id, "error": str(err)})
        db.session.flush()
        return False
    digest = hashlib.sha256(pdf).hexdigest()
    target = _store() / digest[:2] / f"{digest}.pdf"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(pdf)
        os.replace(tmp.name, target)
    letter.pdf_sha256 = digest
    letter.template_version = renderer().meta(letter.letter_type)["version"]
    letter.rendered_at = utcnow()
    letter.status = "rendered"
    letter.error = None
    if not letter.waits_for_review:
        letter.next_attempt_at = utcnow()
        after_commit("send_letter", letter.id)
    audit(complaint, "letter_rendered", None, data={"letter": letter.id, "type": letter.letter_type,
                                                    "sha256": digest})
    db.session.flush()
    return True


def letters_to_render(older_than_seconds: float = 5, limit: int = 200) -> list[int]:
    """Drafts nobody rendered yet (the sweep's backstop for lost messages)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    return list(db.session.scalars(select(Letter.id).where(Letter.status == "draft", Letter.created_at <= cutoff)
                                   .order_by(Letter.id).limit(limit)))


def _visible_letter(actor: User, letter_id: int) -> tuple[Letter, Complaint]:
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        raise NotFound(_("no letter %(id)s", id=letter_id))
    complaint = db.session.get(Complaint, letter.complaint_id)
    require_view(actor, complaint)
    return letter, complaint


def letter_pdf(actor: User, letter_id: int, rendered: bool = True) -> tuple[Letter, Path | None]:
    """A letter the actor may see and its stored PDF (None for a draft when ``rendered`` is False)."""
    letter, _complaint = _visible_letter(actor, letter_id)
    if letter.pdf_sha256 is None:
        if not rendered:
            return letter, None
        raise Conflict(_("the letter is not rendered yet"))
    return letter, _store() / letter.pdf_sha256[:2] / f"{letter.pdf_sha256}.pdf"


def letter_preview(actor: User, letter_id: int) -> str:
    """The letter as HTML, for the browser."""
    letter, complaint = _visible_letter(actor, letter_id)
    return renderer().html(letter.letter_type, letter.language, letter_context(letter, complaint))


def _message(letter: Letter, complaint: Complaint, pdf: bytes) -> EmailMessage:
    settings = current_app.extensions["complaints.settings"]
    meta = renderer().meta(letter.letter_type)
    message = EmailMessage()
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = letter.message_id or f"<letter-{letter.id}-{letter.pdf_sha256[:16]}@{domain}>"
    message["From"] = f"{settings.company_name} <{settings.mail_from}>"
    message["To"] = complaint.customer.email
    message["Subject"] = f"{meta['title'][letter.language]} · {complaint.reference}"
    message["X-Complaint-Reference"] = complaint.reference
    body = {"pl": "W załączeniu przesyłamy pismo w sprawie reklamacji {ref}.",
            "en": "Please find attached our letter about your complaint {ref}.",
            "uk": "У вкладенні надсилаємо лист щодо Вашої скарги {ref}."}[letter.language]
    message.set_content(body.format(ref=complaint.reference) + f"\n\n{settings.company_name}\n{settings.company_email}")
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"{complaint.reference}-{letter.letter_type}.pdf")
    return message


def _locked(letter_id: int) -> Letter | None:
    return db.session.scalar(select(Letter).where(Letter.id == letter_id).with_for_update()
                             .execution_options(populate_existing=True))


def claim_letter(letter_id: int) -> Outgoing | None:
    """Claim a rendered letter whose delivery is due, with its PDF attached (see ``outgoing``); None when
    there is nothing to send: sent already, waiting for review, not due, or held by another worker."""
    letter = _locked(letter_id)
    if letter is None or letter.status != "rendered" or letter.waits_for_review:
        return None
    if letter.next_attempt_at is None or letter.next_attempt_at > utcnow():
        return None
    complaint = db.session.get(Complaint, letter.complaint_id)
    if not complaint.customer.email:
        letter.delivery_error = NO_ADDRESS
        letter.next_attempt_at = None
        db.session.flush()
        return None
    try:
        pdf = (_store() / letter.pdf_sha256[:2] / f"{letter.pdf_sha256}.pdf").read_bytes()
    except OSError as err:  # the store lost the file, or cannot be read now: counted and paused, not retried every second
        letter.delivery_attempts += 1
        _failed(letter, complaint, f"the stored PDF cannot be read: {type(err).__name__}: {err}")
        db.session.flush()
        return None
    message = _message(letter, complaint, pdf)
    letter.message_id = message["Message-ID"]
    letter.delivery_attempts += 1
    letter.next_attempt_at = lease_end()
    db.session.flush()
    return Outgoing("letter", letter.id, letter.delivery_attempts, message)


def record_letter(outgoing: Outgoing, where: str | None = None, error: str | None = None) -> bool:
    """Record how a claimed hand-over went: sent, or the error and the next attempt (or, after
    ``GIVE_UP_AFTER`` failures in a row, none: the people on the complaint are told to post it)."""
    letter = _locked(outgoing.row_id)
    if letter is None or letter.status != "rendered" or letter.delivery_attempts != outgoing.attempt:
        return False  # the claim ran out and a later attempt took over: that one records
    complaint = db.session.get(Complaint, letter.complaint_id)
    if error is None:
        letter.status = "sent"
        letter.sent_at = utcnow()
        letter.next_attempt_at = None
        letter.delivery_error = None
        letter.failed_attempts = 0
        audit(complaint, "letter_sent", None, data={"letter": letter.id, "message_id": letter.message_id,
                                                    "to": complaint.customer.email, "via": where})
        db.session.flush()
        return True
    _failed(letter, complaint, error)
    db.session.flush()
    return False


def _failed(letter: Letter, complaint: Complaint, error: str) -> None:
    """One more failure in a row: the next attempt after a longer pause, or none after ``GIVE_UP_AFTER``."""
    letter.failed_attempts += 1
    letter.delivery_error = error[:2000]
    facts = {"letter": letter.id, "error": letter.delivery_error, "failures": letter.failed_attempts}
    if letter.failed_attempts >= GIVE_UP_AFTER:
        letter.next_attempt_at = None
        audit(complaint, "letter_delivery_abandoned", None, data=facts)
        notify_people(complaint, "letter_undelivered", {
            "reference": complaint.reference, "letter": letter.letter_type.replace("_", " "),
            "failures": letter.failed_attempts, "error": letter.delivery_error[:200]})
    else:
        letter.next_attempt_at = next_attempt(letter.failed_attempts, RETRY_FIRST, RETRY_LONGEST)
        audit(complaint, "letter_delivery_failed", None, data=facts)


def letters_to_send(limit: int = 200) -> list[int]:
    """Rendered letters whose (next) delivery attempt is due."""
    return list(db.session.scalars(select(Letter.id).where(
        Letter.status == "rendered", Letter.next_attempt_at.is_not(None), Letter.next_attempt_at <= utcnow())
        .order_by(Letter.next_attempt_at).limit(limit)))


def resend_letter(actor: User, letter_id: int) -> Letter:
    """Send a sent letter again (same Message-ID, so the copy is recognisable), or try once more a letter
    whose delivery stopped (failed too often, or the customer had no e-mail address then)."""
    letter, complaint = _visible_letter(actor, letter_id)
    if letter.status == "sent":
        letter.status = "rendered"
        audit(complaint, "letter_resend_requested", actor, data={"letter": letter.id})
    elif letter.status == "rendered" and letter.next_attempt_at is None and not letter.waits_for_review:
        audit(complaint, "letter_retry_requested", actor, data={"letter": letter.id, "error": letter.delivery_error})
    else:
        raise Conflict(_("only a sent letter, or one whose delivery stopped, can be sent again"))
    letter.failed_attempts = 0
    letter.next_attempt_at = utcnow()
    after_commit("send_letter", letter.id)
    db.session.flush()
    return letter


def approve_letter(actor: User, letter_id: int) -> Letter:
    """A person has read the letter the diagram asked to review: send it."""
    require_role(actor, "staff", "supervisor", "customer_centre", "admin")
    letter, complaint = _visible_letter(actor, letter_id)
    if not letter.waits_for_review:
        raise Conflict(_("this letter does not wait for review"))
    if letter.status != "rendered":
        raise Conflict(_("the letter is not rendered yet"))
    letter.reviewed_by_id = actor.id
    letter.reviewed_at = utcnow()
    letter.next_attempt_at = utcnow()
    audit(complaint, "letter_reviewed", actor, data={"letter": letter.id})
    after_commit("send_letter", letter.id)
    db.session.flush()
    return letter


def correct_letter(actor: User, letter_id: int, note: str) -> Letter:
    """Write a corrected version of a sent letter (the sent one stays as it was)."""
    require_role(actor, "staff", "supervisor", "customer_centre", "admin")
    letter, complaint = _visible_letter(actor, letter_id)
    if letter.status != "sent":
        raise Conflict(_("only a sent letter is corrected; change a letter before it is sent instead"))
    note = (note or "").strip()
    if not note or len(note) > 2000:
        raise InvalidInput(_("say what the correction changes (up to 2000 characters)"))
    latest = db.session.scalar(select(func.max(Letter.version)).where(
        Letter.complaint_id == letter.complaint_id, Letter.task_id == letter.task_id))
    correction = Letter(
        complaint_id=letter.complaint_id, task_id=letter.task_id, version=latest + 1, corrects_id=letter.id,
        letter_type=letter.letter_type, language=letter.language, needs_review=letter.needs_review,
        context={**letter.context, "correction_of": (letter.sent_at or letter.created_at).date().isoformat(),
                 "correction_note": note})
    db.session.add(correction)
    db.session.flush()
    audit(complaint, "letter_corrected", actor, data={"letter": letter.id, "correction": correction.id})
    after_commit("render_letter", correction.id)
    return correction
