"""Possible duplicates on the complaint page: keep both, or merge this one into the other."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..domain import duplicates
from ..domain.complaints import get_complaint

bp = Blueprint("duplicates", __name__)


@bp.post("/complaints/<reference>/duplicate/keep")
@login_required
def keep(reference):
    complaint = get_complaint(reference)
    other = duplicates.keep_both(current_user, complaint)
    flash(_("%(one)s and %(other)s are kept as two complaints.", one=complaint.reference, other=other.reference),
          "info")
    return redirect(url_for("complaints.show", reference=reference))


@bp.post("/complaints/<reference>/duplicate/merge")
@login_required
def merge(reference):
    complaint = get_complaint(reference)
    into = duplicates.merge(current_user, complaint)
    flash(_("%(one)s is merged into %(other)s: its process ended and its unsent letters were withdrawn.",
            one=complaint.reference, other=into.reference), "info")
    return redirect(url_for("complaints.show", reference=into.reference))
