"""The post: letters that go on paper, printed in runs (one PDF each), and the day they were posted."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..domain import letter_store
from ..domain.errors import Conflict, InvalidInput
from ..domain.post import POSTERS, batch_letters, get_batch, make_batch, recent_batches, record_posted, retry_batch, to_post
from ..domain.access import require_role
from ..models.base import utcnow

bp = Blueprint("post", __name__, url_prefix="/post")


def _today() -> date:
    return utcnow().astimezone(get_timezone()).date()


@bp.get("")
@login_required
def index():
    """What waits to be printed, and the recent print runs with their state."""
    require_role(current_user, *POSTERS)
    batches = recent_batches(current_user)
    return render_template("post.html", waiting=to_post(current_user), batches=batches, today=_today(),
                           contents={b.id: batch_letters(b.id) for b in batches[:5]})


@bp.post("/runs")
@login_required
def make_run():
    batch = make_batch(current_user, _today())
    flash(_("Print run %(day)s #%(n)s: %(count)s letters; its PDF is being made.", day=batch.day.isoformat(),
            n=batch.sequence, count=batch.letter_count), "info")
    return redirect(url_for("post.index"))


@bp.get("/runs/<int:batch_id>.pdf")
@login_required
def run_pdf(batch_id):
    batch = get_batch(current_user, batch_id)
    if batch.pdf_sha256 is None:
        raise Conflict(_("the print run's PDF is not made yet"))
    return send_file(letter_store.path_of(batch.pdf_sha256), mimetype="application/pdf", as_attachment=True,
                     max_age=0, download_name=f"post-{batch.day.isoformat()}-{batch.sequence}.pdf")


@bp.post("/runs/<int:batch_id>/posted")
@login_required
def posted(batch_id):
    raw = request.form.get("posted_on", "")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("Give the day the letters were posted.")) from None
    chosen = [int(v) for v in request.form.getlist("letter") if v.isascii() and v.isdigit() and len(v) < 12]
    count = record_posted(current_user, batch_id, day, chosen or None)
    flash(_("%(count)s letters recorded as posted on %(day)s.", count=count, day=day.isoformat()), "info")
    return redirect(url_for("post.index"))


@bp.post("/runs/<int:batch_id>/retry")
@login_required
def retry(batch_id):
    retry_batch(current_user, batch_id)
    return redirect(url_for("post.index"))
