"""Letters that go on paper: the print queue, a print run's one PDF (a cover sheet listing the envelopes,
then each letter followed by its enclosures, every document starting on a front side), the day each letter
was posted (for a Polish financial entity, what keeps its deadline) and post that came back."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..letters import LetterError
from ..letters.pdfs import join, page_count
from ..models import Complaint, Letter, PrintBatch, User
from ..models.base import utcnow
from . import letter_store
from .access import require_role, require_view
from .audit import audit
from .deadlines import ZONES
from .dispatch import after_commit
from .errors import Conflict, InvalidInput, NotFound
from .letter_delivery import mark_answered
from .letter_templates import renderer
from .notify import notify_people
from .search import visible_to

POSTERS = ("staff", "supervisor", "customer_centre", "admin")
MAX_PER_RUN = 500


def _waiting(actor: User):
    """Letters to post that ``actor`` may see: rendered, read by whoever had to, addressed, in no run yet."""
    visible = visible_to(actor).with_only_columns(Complaint.id)
    return select(Letter, Complaint).join(Complaint, Complaint.id == Letter.complaint_id).where(
        Letter.channel == "post", Letter.status == "rendered", Letter.print_batch_id.is_(None),
        Letter.delivery_error.is_(None), (Letter.needs_review.is_(False)) | Letter.reviewed_at.is_not(None),
        Letter.complaint_id.in_(visible))


def to_post(actor: User, limit: int = MAX_PER_RUN) -> list[tuple[Letter, Complaint]]:
    """The print queue: the oldest first."""
    require_role(actor, *POSTERS)
    return [tuple(row) for row in db.session.execute(_waiting(actor).order_by(Letter.rendered_at, Letter.id)
                                                    .limit(limit))]


def make_batch(actor: User, day: date) -> PrintBatch:
    """A print run of every letter waiting (that ``actor`` may see), assembled into one PDF by a worker."""
    require_role(actor, *POSTERS)
    rows = db.session.execute(_waiting(actor).order_by(Letter.rendered_at, Letter.id).limit(MAX_PER_RUN)
                              .with_for_update(of=Letter, skip_locked=True)).all()
    if not rows:
        raise Conflict(_("no letter waits to be printed"))
    sequence = (db.session.scalar(select(func.max(PrintBatch.sequence)).where(PrintBatch.day == day)) or 0) + 1
    batch = PrintBatch(day=day, sequence=sequence, created_by_id=actor.id, letter_count=len(rows))
    db.session.add(batch)
    db.session.flush()
    for letter, complaint in rows:
        letter.print_batch_id = batch.id
        audit(complaint, "letter_printed", actor, data={"letter": letter.id, "batch": batch.id})
    db.session.flush()
    after_commit("assemble_batch", batch.id)
    return batch


def batch_letters(batch_id: int) -> list[tuple[Letter, Complaint]]:
    return [tuple(row) for row in db.session.execute(
        select(Letter, Complaint).join(Complaint, Complaint.id == Letter.complaint_id)
        .where(Letter.print_batch_id == batch_id).order_by(Letter.rendered_at, Letter.id))]


def assemble_batch(batch_id: int) -> bool:
    """Make the run's PDF (idempotent: a run assembled already is left alone)."""
    batch = db.session.get(PrintBatch, batch_id, with_for_update=True, populate_existing=True)
    if batch is None or batch.status != "assembling":
        return False
    rows = batch_letters(batch.id)
    try:
        envelopes, parts = [], []
        for letter, complaint in rows:
            documents = [letter_store.read(letter.pdf_sha256)]
            documents += [letter_store.read(item["sha256"]) for item in letter.context.get("enclosed") or []]
            customer = complaint.customer
            envelopes.append({"ref": f"{complaint.reference}/{letter.number or 1}", "name": customer.name,
                              "place": f"{customer.postcode or ''} {customer.city or ''}, {customer.country or ''}",
                              "pages": sum(page_count(d) for d in documents),
                              "enclosures": [item["title"] for item in letter.context.get("enclosed") or []]})
            parts += documents
        maker = db.session.get(User, batch.created_by_id) if batch.created_by_id else None
        cover = renderer().page("_print_cover.html", {
            "language": "pl" if maker is not None and maker.language == "pl" else "en", "day": batch.day.isoformat(),
            "sequence": batch.sequence, "envelopes": envelopes})
        pdf, pages = join([cover, *parts])
    except (OSError, LetterError, ValueError) as err:
        batch.status = "failed"
        batch.error = f"{type(err).__name__}: {err}"[:2000]
        db.session.flush()
        return False
    batch.pdf_sha256 = letter_store.keep(pdf)
    batch.page_count = pages
    batch.status = "ready"
    batch.assembled_at = utcnow()
    batch.error = None
    db.session.flush()
    return True


def batches_to_assemble(limit: int = 20) -> list[int]:
    """Runs still assembling (the sweep's backstop for a lost message)."""
    return list(db.session.scalars(select(PrintBatch.id).where(PrintBatch.status == "assembling")
                                   .order_by(PrintBatch.id).limit(limit)))


def recent_batches(actor: User, limit: int = 30) -> list[PrintBatch]:
    require_role(actor, *POSTERS)
    return list(db.session.scalars(select(PrintBatch).order_by(PrintBatch.id.desc()).limit(limit)))


def get_batch(actor: User, batch_id: int) -> PrintBatch:
    require_role(actor, *POSTERS)
    batch = db.session.get(PrintBatch, batch_id)
    if batch is None:
        raise NotFound(_("no print run %(id)s", id=batch_id))
    return batch


def retry_batch(actor: User, batch_id: int) -> PrintBatch:
    batch = get_batch(actor, batch_id)
    if batch.status != "failed":
        raise Conflict(_("only a print run that could not be made is made again"))
    batch.status = "assembling"
    after_commit("assemble_batch", batch.id)
    db.session.flush()
    return batch


def record_posted(actor: User, batch_id: int, posted_on: date, letter_ids: list[int] | None = None) -> int:
    """The letters of a run (all, or those listed) were posted on ``posted_on``; returns how many. A letter
    that answers the complaint under its statutory rule stops its clock on that day."""
    batch = get_batch(actor, batch_id)
    if batch.status != "ready":
        raise Conflict(_("the print run is not ready yet"))
    if posted_on > utcnow().date() + timedelta(days=1) or posted_on < batch.day:
        raise InvalidInput(_("The day posted is between the day of the print run and today."))
    done = 0
    for letter, complaint in batch_letters(batch.id):
        if letter_ids is not None and letter.id not in letter_ids:
            continue
        if letter.status != "rendered":
            continue
        require_view(actor, complaint)
        letter.status = "sent"
        letter.posted_on = posted_on
        letter.posted_by_id = actor.id
        letter.sent_at = utcnow()
        audit(complaint, "letter_posted", actor, data={"letter": letter.id, "posted_on": posted_on.isoformat(),
                                                       "batch": batch.id})
        mark_answered(complaint, letter, datetime.combine(posted_on, time(12), ZONES[complaint.jurisdiction]))
        done += 1
    db.session.flush()
    return done


def record_returned(actor: User, letter_id: int, reason: str) -> Letter:
    """Post that came back undelivered: recorded, and the people on the complaint told, to find another
    address or way to reach the customer (the letter can then be sent again)."""
    require_role(actor, *POSTERS)
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        raise NotFound(_("no letter %(id)s", id=letter_id))
    complaint = db.session.get(Complaint, letter.complaint_id)
    require_view(actor, complaint)
    if letter.channel != "post" or letter.status != "sent":
        raise Conflict(_("only a posted letter can come back"))
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= 500:
        raise InvalidInput(_("Say why it came back (as the post marked it), 3 to 500 characters."))
    letter.returned_at = utcnow()
    letter.returned_reason = reason
    audit(complaint, "letter_returned", actor, data={"letter": letter.id, "reason": reason})
    notify_people(complaint, "letter_returned", {"reference": complaint.reference, "letter": letter.letter_type,
                                                 "reason": reason})
    db.session.flush()
    return letter
