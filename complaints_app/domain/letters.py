"""Letters: written as drafts by the diagram's steps (and by people), rendered once to a stored PDF, read
back, reviewed, corrected. How they then reach the customer is ``letter_delivery`` (e-mail) and ``post``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, insert, select

from ..extensions import db
from ..letters import LetterError
from ..models import Complaint, Customer, Letter, User, WorkflowInstance
from ..models.base import utcnow
from . import letter_store
from .access import require_role, require_view
from .audit import audit
from .dispatch import after_commit
from .enclosures import KNOWN as ENCLOSURES
from .enclosures import available as available_enclosures
from .errors import Conflict, InvalidInput, NotFound
from .letter_delivery import channel_for, release
from .letter_facts import letter_context
from .letter_templates import renderer

WRITERS = ("staff", "supervisor", "customer_centre", "admin")  # who may write, correct and send letters


def _lock_letters(complaint: Complaint) -> None:
    """Take the complaint's process row lock (PostgreSQL), which every move holds: letters written by
    people and by the diagram are numbered one after the other."""
    db.session.execute(select(WorkflowInstance.id).where(WorkflowInstance.complaint_id == complaint.id)
                       .with_for_update())


LETTERS = Letter.__table__
# A new letter, numbered next within its complaint (``of_complaint``: its id) in the same statement; letters
# are written under the complaint's process row lock, so two never take the same number.
def next_number(complaint_param: str):
    """The next letter number within the complaint whose id the bound parameter ``complaint_param`` holds."""
    return (select(func.coalesce(func.max(LETTERS.c.number), 0) + 1)
            .where(LETTERS.c.complaint_id == bindparam(complaint_param)).scalar_subquery())


INSERT_LETTER = insert(LETTERS).values(number=next_number("of_complaint")).returning(LETTERS.c.id)


def issue_letter(complaint: Complaint, letter_type: str, *, task_id: str, context: dict, actor: User | None,
                 version: int = 1, corrects: Letter | None = None, needs_review: bool = False,
                 element_id: str | None = None) -> Letter:
    """A draft letter in the complaint's language, numbered within the complaint and rendered after the
    commit; ``actor`` writes and signs it. Flushes."""
    renderer().meta(letter_type)  # an unknown type is refused here, not in the worker
    _lock_letters(complaint)
    letter_id = db.session.connection().execute(INSERT_LETTER, {
        "complaint_id": complaint.id, "task_id": task_id, "element_id": element_id, "letter_type": letter_type,
        "language": complaint.language, "context": context, "version": version, "status": "draft",
        "created_at": utcnow(), "created_by_id": actor.id if actor else None,
        "signed_by_id": actor.id if actor else None, "corrects_id": corrects.id if corrects else None,
        "needs_review": needs_review, "of_complaint": complaint.id,
        "delivery_attempts": 0, "failed_attempts": 0}).scalar_one()
    after_commit("render_letter", letter_id)
    return db.session.get(Letter, letter_id)


def _enclosures_for(letter_type: str, context: dict, language: str) -> list[dict]:
    """The uploaded documents that go with this letter, as the snapshot keeps them."""
    keys = renderer().enclosures(letter_type, context)
    return [{"key": row.key, "sha256": row.sha256, "filename": row.filename,
             "title": ENCLOSURES[row.key]["letter"][language]} for row in available_enclosures(keys)]


def letter_context_for(letter: Letter, complaint: Complaint, signer: User | None = None,
                       enclosed: list[dict] | None = None) -> dict:
    """The letter's context with what goes with it: the enclosures it was rendered with (or those it
    would get now, for a draft); ``signer`` defaults to the letter's."""
    meta = renderer().meta(letter.letter_type)
    if signer is None and letter.signed_by_id:
        signer = db.session.get(User, letter.signed_by_id)
    context = letter_context(letter, complaint, signer=signer, quotes=tuple(meta.get("quotes", ())))
    if enclosed is None:
        enclosed = letter.context.get("enclosed")
        if enclosed is None:
            enclosed = _enclosures_for(letter.letter_type, context, letter.language)
    context["enclosures"] = [item["title"] for item in enclosed]
    context["fos_leaflet"] = any(item["key"] == "fos_leaflet" for item in enclosed)
    return context


def render_letter(letter_id: int) -> bool:
    """Render a draft letter to its PDF, once: a letter already rendered is left alone."""
    letter = db.session.scalar(select(Letter).where(Letter.id == letter_id).with_for_update()
                               .execution_options(populate_existing=True))
    if letter is None or letter.status != "draft":
        return False
    complaint = db.session.get(Complaint, letter.complaint_id)
    try:
        letter.channel = channel_for(complaint)
        context = letter_context_for(letter, complaint, enclosed=[])
        enclosed = _enclosures_for(letter.letter_type, context, letter.language)
        context = letter_context_for(letter, complaint, enclosed=enclosed)
        pdf, _html = renderer().render(letter.letter_type, letter.language, context)
    except Exception as err:  # noqa: BLE001 - rendering is pure: what fails once fails every time
        # A letter that cannot be made (a missing clause, a missing letterhead, data no template or font
        # can take) is marked failed with its reason, for people to see, correct and render again; left
        # a draft, every sweep would retry it.
        if not isinstance(err, LetterError):
            err = LetterError(f"{type(err).__name__}: {err}")
        letter.error = str(err)
        letter.status = "failed"
        audit(complaint, "letter_failed", None, data={"letter": letter.id, "error": str(err)})
        db.session.flush()
        return False
    digest = letter_store.keep(pdf)
    letter.context = {**letter.context, "enclosed": enclosed}
    letter.pdf_sha256 = digest
    letter.template_version = renderer().meta(letter.letter_type)["version"]
    letter.rendered_at = utcnow()
    letter.status = "rendered"
    letter.error = None
    audit(complaint, "letter_rendered", None, data={"letter": letter.id, "type": letter.letter_type,
                                                    "sha256": digest, "channel": letter.channel})
    if not letter.waits_for_review:
        release(letter, complaint)
    db.session.flush()
    return True


def letters_to_render(older_than_seconds: float = 5, limit: int = 200) -> list[int]:
    """Drafts nobody rendered yet (the sweep's backstop for lost messages)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    return list(db.session.scalars(select(Letter.id).where(Letter.status == "draft", Letter.created_at <= cutoff)
                                   .order_by(Letter.id).limit(limit)))


def visible_letter(actor: User, letter_id: int) -> tuple[Letter, Complaint]:
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        raise NotFound(_("no letter %(id)s", id=letter_id))
    complaint = db.session.get(Complaint, letter.complaint_id)
    require_view(actor, complaint)
    return letter, complaint


def letter_pdf(actor: User, letter_id: int, rendered: bool = True) -> tuple[Letter, Path | None]:
    """A letter the actor may see and its stored PDF (None for a draft when ``rendered`` is False)."""
    letter, _complaint = visible_letter(actor, letter_id)
    if letter.pdf_sha256 is None:
        if not rendered:
            return letter, None
        raise Conflict(_("the letter is not rendered yet"))
    return letter, letter_store.path_of(letter.pdf_sha256)


def letter_preview(actor: User, letter_id: int) -> str:
    """The letter as HTML, for the browser, written exactly as its PDF is."""
    letter, complaint = visible_letter(actor, letter_id)
    return renderer().html(letter.letter_type, letter.language, letter_context_for(letter, complaint))


def rerender_letter(actor: User, letter_id: int) -> Letter:
    """Render a failed letter again, once its cause (a letterhead, a position, a template) is fixed."""
    require_role(actor, *WRITERS)
    letter, complaint = visible_letter(actor, letter_id)
    if letter.status != "failed":
        raise Conflict(_("only a letter that could not be made is made again"))
    letter.status = "draft"
    audit(complaint, "letter_render_requested", actor, data={"letter": letter.id, "error": letter.error})
    letter.error = None
    after_commit("render_letter", letter.id)
    db.session.flush()
    return letter


def correct_letter(actor: User, letter_id: int, note: str) -> Letter:
    """Write a corrected version of a sent letter (the sent one stays as it was)."""
    require_role(actor, *WRITERS)
    letter, complaint = visible_letter(actor, letter_id)
    if letter.status != "sent":
        raise Conflict(_("only a sent letter is corrected; change a letter before it is sent instead"))
    note = (note or "").strip()
    if not note or len(note) > 2000:
        raise InvalidInput(_("say what the correction changes (up to 2000 characters)"))
    latest = db.session.scalar(select(func.max(Letter.version)).where(
        Letter.complaint_id == letter.complaint_id, Letter.task_id == letter.task_id))
    context = {key: value for key, value in letter.context.items() if key != "enclosed"}
    correction = issue_letter(
        complaint, letter.letter_type, task_id=letter.task_id, actor=actor, version=latest + 1, corrects=letter,
        element_id=letter.element_id,
        context={**context, "correction_of": (letter.sent_at or letter.created_at).date().isoformat(),
                 "correction_note": note})
    audit(complaint, "letter_corrected", actor, data={"letter": letter.id, "correction": correction.id})
    db.session.flush()
    return correction


def sample(letter_type: str, language: str, jurisdiction: str, regime: str) -> tuple[Letter, Complaint]:
    """A letter of this type written from ``letters/sample.json`` to a made-up customer, never stored: the
    admin's preview of a template, formatted by the same code as every real letter (the real letterhead)."""
    data = json.loads((renderer().root / "sample.json").read_text("utf-8"))
    person = data["customer"][language]
    facts = data["complaint"]
    customer = Customer(**person, language=language)
    complaint = Complaint(
        id=0, reference=facts["reference"], customer=customer, jurisdiction=jurisdiction, regime=regime,
        language=language, category=facts["category"], product=facts["product"], description="",
        claimed_amount=Decimal(facts["claimed_amount"]), currency=data["currency"][jurisdiction],
        received_at=datetime.fromisoformat(facts["received_at"]), quote_description=False,
        statutory_due_on=datetime.fromisoformat(facts["statutory_due_on"]).date())
    quotes = renderer().meta(letter_type).get("quotes", [])  # the texts this type of letter quotes
    texts = {key: text for key, text in data["letter"]["texts"][language].items() if key in quotes}
    letter = Letter(letter_type=letter_type, language=language, number=data["letter"]["number"],
                    created_at=datetime.fromisoformat(data["letter"]["created_at"]),
                    context={**data["letter"]["context"], "texts": texts},
                    channel="post" if (jurisdiction, regime) in (("PL", "financial"), ("PL", "payment_services"))
                    else "email")
    return letter, complaint


def sample_html(letter_type: str, language: str, jurisdiction: str, regime: str, signer: User | None) -> str:
    letter, complaint = sample(letter_type, language, jurisdiction, regime)
    return renderer().html(letter_type, language, letter_context_for(letter, complaint, signer))


def sample_pdf(letter_type: str, language: str, jurisdiction: str, regime: str, signer: User | None) -> bytes:
    letter, complaint = sample(letter_type, language, jurisdiction, regime)
    return renderer().render(letter_type, language, letter_context_for(letter, complaint, signer))[0]


def letter_of_step(complaint_id: int, element_id: str) -> Letter | None:
    """The newest letter the diagram step ``element_id`` wrote for the complaint (a review task's letter)."""
    return db.session.scalar(select(Letter).where(Letter.complaint_id == complaint_id, Letter.element_id == element_id)
                             .order_by(Letter.id.desc()).limit(1))


def review_blocked(complaint_id: int, element_id: str) -> str | None:
    """Why a review of the step's letter cannot approve it (none written, it could not be made), or None. A
    letter whose PDF is still being made may be approved from its text, which reads exactly as the PDF
    will: it goes out as soon as the PDF exists."""
    letter = letter_of_step(complaint_id, element_id)
    if letter is None:
        return _("the step “%(step)s” has written no letter to review", step=element_id)
    if letter.status == "failed":
        return _("the letter could not be made (%(error)s): send it back, or have it made again once the cause "
                 "is fixed", error=letter.error)
    if letter.status not in ("draft", "rendered") or not letter.waits_for_review:
        return _("the letter is not waiting for review")
    return None


def apply_review(actor: User, complaint: Complaint, element_id: str, approved: bool, comment: str | None) -> Letter:
    """A review task's outcome for the letter of step ``element_id``: approved, it goes out, signed by the
    reviewer; sent back, it is withdrawn and never goes out (the diagram decides what happens next)."""
    letter = letter_of_step(complaint.id, element_id)
    if approved:
        reason = review_blocked(complaint.id, element_id)
        if reason:
            raise Conflict(reason)
        letter.reviewed_by_id = actor.id
        letter.reviewed_at = utcnow()
        audit(complaint, "letter_reviewed", actor, data={"letter": letter.id, "comment": comment})
        if letter.status == "rendered":
            release(letter, complaint)
        db.session.flush()
        return letter
    if letter is None:
        raise Conflict(_("the step “%(step)s” has written no letter to review", step=element_id))
    if letter.status in ("draft", "rendered", "failed"):
        letter.status = "withdrawn"
        letter.next_attempt_at = None
        audit(complaint, "letter_withdrawn", actor, data={"letter": letter.id, "comment": comment})
    db.session.flush()
    return letter
