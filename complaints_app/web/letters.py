"""Letters: each one's page and PDF, sending it again (another way), correcting it, making a failed one again,
post that came back, writing to the customer in free text, and the outbox of the embedded default."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..config import current_settings
from ..domain.access import require_role, require_view
from ..domain.complaints import get_complaint
from ..domain.correspondence import preview_correspondence, write_correspondence
from ..domain.errors import InvalidInput
from ..domain.letter_delivery import channel_for, resend_letter
from ..domain.letters import WRITERS, correct_letter, letter_pdf, letter_preview, rerender_letter
from ..domain.post import record_returned
from ..extensions import db
from ..letters import LetterError, body_markup
from ..mail import outbox_name
from ..models import AuditEvent, Complaint, Letter

bp = Blueprint("letters", __name__)


def _back_to(letter: Letter):
    return redirect(url_for("complaints.show", reference=db.session.get(Complaint, letter.complaint_id).reference))


@bp.get("/letters/<int:letter_id>")
@login_required
def letter(letter_id):
    """A letter's page: the PDF as the customer gets it (a draft: its text as it will read), with its state,
    the way back to the complaint and the download."""
    letter, _path = letter_pdf(current_user, letter_id, rendered=False)
    complaint = db.session.get(Complaint, letter.complaint_id)
    body = None
    if letter.pdf_sha256 is None and letter.status not in ("failed", "withdrawn"):
        try:
            body = body_markup(letter_preview(current_user, letter_id))
        except LetterError as err:  # a letter that cannot be made: its error is on the page
            flash(str(err), "error")
    sends = db.session.scalars(select(AuditEvent.data).where(AuditEvent.complaint_id == complaint.id,
                                                             AuditEvent.kind == "letter_sent")
                               .order_by(AuditEvent.id.desc()))
    sent_to = next((d.get("to") for d in sends if d and d.get("letter") == letter.id), None)  # as it was then
    return render_template("letter.html", letter=letter, complaint=complaint, body=body, sent_to=sent_to)


@bp.get("/letters/<int:letter_id>/view.pdf")
@login_required
def letter_inline(letter_id):
    """The PDF for the letter's page (and a review task) to show, framed by this site only."""
    letter, path = letter_pdf(current_user, letter_id)
    response = send_file(path, mimetype="application/pdf", max_age=0)
    response.headers["Content-Disposition"] = f'inline; filename="{letter.letter_type}-{letter.id}.pdf"'
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    return response


@bp.get("/letters/<int:letter_id>.pdf")
@login_required
def letter_download(letter_id):
    letter, path = letter_pdf(current_user, letter_id)
    complaint = db.session.get(Complaint, letter.complaint_id)
    return send_file(path, mimetype="application/pdf", as_attachment=True, max_age=0,
                     download_name=f"{complaint.reference}-{letter.number or letter.id}-{letter.letter_type}.pdf")


@bp.post("/letters/<int:letter_id>/resend")
@login_required
def letter_resend(letter_id):
    require_role(current_user, *WRITERS)
    channel = request.form.get("channel") or None
    letter = resend_letter(current_user, letter_id, channel)
    flash(_("The letter goes to the print queue.") if letter.channel == "post"
          else _("The letter will be e-mailed again."), "info")
    return _back_to(letter)


@bp.post("/letters/<int:letter_id>/correct")
@login_required
def letter_correct(letter_id):
    correction = correct_letter(current_user, letter_id, request.form.get("note", ""))
    flash(_("A corrected version is being prepared."), "info")
    return _back_to(correction)


@bp.post("/letters/<int:letter_id>/render")
@login_required
def letter_rerender(letter_id):
    letter = rerender_letter(current_user, letter_id)
    flash(_("The letter is being made again."), "info")
    return _back_to(letter)


@bp.post("/letters/<int:letter_id>/returned")
@login_required
def letter_returned(letter_id):
    letter = record_returned(current_user, letter_id, request.form.get("reason", ""))
    flash(_("Recorded: the letter came back. Find another address or way to reach the customer, then send it "
            "again."), "info")
    return _back_to(letter)


@bp.route("/complaints/<reference>/write", methods=["GET", "POST"])
@login_required
def write(reference):
    """Write to the customer in free text, inside the company's letter frame: preview, then send."""
    require_role(current_user, *WRITERS)
    complaint = get_complaint(reference)
    subject, body = request.form.get("subject", ""), request.form.get("body", "")
    preview, errors = None, {}
    if request.method == "POST":
        try:
            if request.form.get("action") == "send":
                letter = write_correspondence(current_user, complaint, subject, body)
                flash(_("Letter %(ref)s/%(number)s written; it goes to the customer as soon as its PDF is made.",
                        ref=complaint.reference, number=letter.number), "info")
                return redirect(url_for("complaints.show", reference=reference))
            preview = body_markup(preview_correspondence(current_user, complaint, subject, body))
        except InvalidInput as err:
            errors = err.details.get("fields", {})
            flash(err.message, "error")
        except LetterError as err:
            flash(str(err), "error")
    else:
        require_view(current_user, complaint)
    status = 400 if errors else 200
    return render_template("letter_write.html", complaint=complaint, subject=subject, body=body, preview=preview,
                           errors=errors, channel=channel_for(complaint)), status


@bp.get("/outbox")
@login_required
def outbox():
    """The e-mails the embedded default wrote instead of sending (newest first)."""
    require_role(current_user, "admin", "supervisor")
    folder = Path(current_settings().outbox_path)
    files = sorted(folder.glob("*.eml"), key=lambda f: f.stat().st_mtime, reverse=True)[:200] if folder.is_dir() else []
    # A letter's file is named after its Message-ID, which starts with "letter-<id>-".
    ids = {int(m[1]) for f in files if (m := re.match(r"letter-(\d{1,18})-", f.name))}
    letters = {outbox_name(letter.message_id): letter for letter in db.session.scalars(
        select(Letter).where(Letter.id.in_(ids), Letter.message_id.is_not(None)))} if ids else {}
    rows = [(f, letters.get(f.name)) for f in files]
    return render_template("outbox.html", rows=rows, mail_url=current_settings().mail_url)
