"""A task's page: the form drawn in the diagram, generated, beside the complaint's summary and history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..domain import tasks as task_ops
from ..domain.access import require_role
from ..domain.errors import Conflict, Forbidden, InvalidInput
from ..domain.letters import letter_of_step, letter_preview
from ..domain.views import complaint_story, eligible_users, task_answers, task_facts, task_form_data, usernames
from ..extensions import db
from ..letters import LetterError, body_markup
from ..models import Complaint, User
from ..unit_of_work import attempt

bp = Blueprint("tasks", __name__)


def localized(label: str | None, properties: dict | None) -> str | None:
    """A label in the user's language when the diagram gives one (``label:pl``), else as drawn."""
    return (properties or {}).get(f"label:{get_locale()}") or label


@bp.app_template_global()
def label_for(item: dict) -> str:
    return localized(item.get("label") or item.get("name"), item.get("properties")) or item.get("id", "")


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@login_required
def show(task_id):
    task = task_ops.get_task(current_user, task_id)
    complaint = db.session.get(Complaint, task.complaint_id)
    values = task_form_data(task) if task.state == "open" else {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        submitted = {f["id"]: request.form.get(f["id"]) for f in task.form if f["id"] in request.form}
        try:  # refused, the completion is undone and the page shown again from the state before it
            with attempt():
                task_ops.complete_task(current_user, task.id, submitted)
        except InvalidInput as err:
            errors = err.details.get("fields", {})
            values.update(submitted)
            if not errors:  # field errors are listed above the form, each linked to its field
                flash(err.message, "error")
            status = 400
        except (Forbidden, Conflict) as err:  # the page is shown again with what was typed, and why
            values.update(submitted)
            errors = {"": err.message}
            flash(err.message, "error")
            status = err.status
        else:
            flash(_("Done: %(task)s.", task=localized(task.name, task.properties)), "info")
            return redirect(url_for("complaints.show", reference=complaint.reference))
    story = complaint_story(complaint)
    names = usernames([e.actor_id for e in story["history"]] + [task.assignee_id, task.completed_by_id],
                      User.display_name)
    candidates = eligible_users(task) if task.state == "open" and current_user.has_role("supervisor", "admin") else []
    blocked = task_ops.blocked_reason(current_user, task) if task.state == "open" else None
    reviewed = letter_of_step(complaint.id, task.properties["review_letter"]) if task.properties.get(
        "review_letter") else None
    preview = None
    if reviewed is not None and reviewed.pdf_sha256 is None and reviewed.status == "draft":
        try:  # the PDF is still being made: the letter's text, exactly as the PDF will read
            preview = body_markup(letter_preview(current_user, reviewed.id))
        except LetterError as err:
            flash(str(err), "error")
    return render_template("task.html", task=task, complaint=complaint, values=values, errors=errors,
                           reviewed=reviewed, preview=preview,
                           story=story, names=names, title=localized(task.name, task.properties),
                           candidates=candidates, shown=task_facts(task), blocked=blocked,
                           answers=task_answers(task) if task.state == "completed" else []), status


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id):
    """A supervisor gives a task to someone who can work it."""
    require_role(current_user, "supervisor", "admin")
    raw = request.form.get("assignee", "")
    assignee = db.session.get(User, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
    if assignee is None:
        raise InvalidInput(_("Choose who takes the task."))
    task_ops.reassign(current_user, task_id, assignee)
    flash(_("The task now belongs to %(name)s.", name=assignee.display_name), "info")
    return redirect(url_for("tasks.show", task_id=task_id))
