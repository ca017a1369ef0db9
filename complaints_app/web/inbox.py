"""The inbox: my tasks, my roles' unassigned tasks, my teams' tasks; claim and release."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_login import current_user, login_required

from sqlalchemy import select

from ..domain import notify
from ..domain import tasks as task_ops
from ..domain.access import require_role
from ..domain.views import proposed_compensations, usernames
from ..extensions import db
from ..models import Complaint, User

bp = Blueprint("inbox", __name__)


def page_number() -> int:
    """The ``page`` query argument, 1 when absent or odd."""
    page = request.args.get("page", "1")
    return int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10_000 else 1
PAGE = 50
PRIORITIES = ("urgent", "high", "normal", "low")


@bp.get("/")
@login_required
def home():
    return redirect(url_for("inbox.index"))


@bp.get("/inbox")
@login_required
def index():
    scopes = ["mine", "available"] + (["team"] if current_user.has_role("supervisor", "admin", "process_owner") else [])
    scope = request.args.get("scope", "mine")
    if scope not in scopes:
        scope = "mine"
    page = page_number()
    priority = request.args.get("priority") if request.args.get("priority") in PRIORITIES else None
    overdue = request.args.get("overdue") == "1"
    sort = request.args.get("sort") if request.args.get("sort") in task_ops.SORTS else "due"
    rows = task_ops.list_tasks(current_user, scope, PAGE + 1, (page - 1) * PAGE, priority=priority,
                               overdue=overdue, sort=sort)
    names = usernames([task.assignee_id for task, _ in rows], User.display_name)
    notes = notify.unread(current_user, limit=20)
    references = dict(db.session.execute(select(Complaint.id, Complaint.reference).where(
        Complaint.id.in_({n.complaint_id for n in notes}))).all()) if notes else {}
    return render_template("inbox.html", rows=rows[:PAGE], scope=scope, scopes=scopes, page=page,
                           has_next=len(rows) > PAGE, names=names, priority=priority, overdue=overdue,
                           priorities=PRIORITIES, sort=sort, notes=notes, references=references,
                           sentence=notify.sentence)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    """Mark one notification (``id``) or all of mine read."""
    raw = request.form.get("id", "")
    notify.mark_read(current_user, int(raw) if raw.isdigit() and len(raw) < 12 else None)
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id):
    task_ops.claim(current_user, task_id)
    flash(_("The task is yours."), "info")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/tasks/<task_id>/release")
@login_required
def release(task_id):
    task_ops.unclaim(current_user, task_id)
    flash(_("The task is back in the queue."), "info")
    return redirect(url_for("inbox.index", scope="available"))


@bp.get("/approvals")
@login_required
def approvals():
    """Decisions waiting for supervisors and managers, with the amount, the level and the proposer."""
    require_role(current_user, "supervisor", "admin")
    page = page_number()
    tasks = task_ops.list_tasks(current_user, "team", PAGE + 1, (page - 1) * PAGE, role="supervisor")
    has_next, tasks = len(tasks) > PAGE, tasks[:PAGE]
    proposed = proposed_compensations([complaint.id for task, complaint in tasks
                                       if task.properties.get("authority_amount_var")])
    rows, needs = [], {}
    for task, complaint in tasks:
        needs[task.id] = (task.context or {}).get(task.properties.get("required_role_var") or "")
        compensation = proposed.get(complaint.id) if task.properties.get("authority_amount_var") else None
        rows.append((task, complaint, compensation))
    names = usernames([c.proposed_by_id for _, _, c in rows if c], User.display_name)
    limits = ", ".join(format_currency(limit.max_amount, limit.currency) for limit in current_user.limits)
    return render_template("approvals.html", rows=rows, names=names, needs=needs, limits=limits, page=page,
                           has_next=has_next)
