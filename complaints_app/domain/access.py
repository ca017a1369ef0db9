"""Who may see and do what: checked by every operation, whatever door it came through."""

from __future__ import annotations

from sqlalchemy import bindparam, exists, select

from flask_babel import gettext as _

from ..extensions import db
from ..models import Complaint, HumanTask, User
from .errors import Forbidden, NotFound
from .terms import term

SEE_ALL = ("admin", "process_owner")


def require_role(actor: User, *roles: str) -> None:
    if actor is None or not actor.has_role(*roles):
        raise Forbidden(_("this needs one of the roles: %(roles)s", roles=", ".join(term("role", r) for r in roles)))


def can_view(actor: User, complaint: Complaint, task: HumanTask | None = None) -> bool:
    """Staff: their team's and their own; supervisors/managers: their team's; customer centre:
    complaints that reached it (``task``, one of the complaint's, may show that); process owners and
    admins: all."""
    if actor.has_role(*SEE_ALL):
        return True
    same_team = actor.team is None or complaint.team is None or complaint.team == actor.team
    if actor.has_role("supervisor") and same_team:
        return True
    if actor.has_role("staff") and (same_team or complaint.created_by_id == actor.id):
        return True
    if actor.has_role("customer_centre"):
        if task is not None and task.complaint_id == complaint.id and task.role == "customer_centre":
            return True  # the task in hand is the centre's own: no need to look
        if db.session.scalar(_REACHED_CENTRE, {"complaint_id": complaint.id}):
            return True
    return bool(db.session.scalar(_WORKED_ON, {"complaint_id": complaint.id, "actor_id": actor.id}))


# Built once (every task a person opens asks): the complaint reached the customer centre; the person
# was given or did one of its tasks.
_TOUCHED = select(HumanTask.id).where(HumanTask.complaint_id == bindparam("complaint_id"))
_REACHED_CENTRE = select(exists(_TOUCHED.where(HumanTask.role == "customer_centre")))
_WORKED_ON = select(exists(_TOUCHED.where((HumanTask.assignee_id == bindparam("actor_id"))
                                          | (HumanTask.completed_by_id == bindparam("actor_id")))))


def require_view(actor: User, complaint: Complaint, task: HumanTask | None = None) -> None:
    if not can_view(actor, complaint, task):
        # Not 403: whether the complaint exists is itself not theirs to know.
        raise NotFound(_("no complaint %(reference)s", reference=complaint.reference))


def may_work(actor: User, task: HumanTask) -> str | None:
    """Why ``actor`` may not work ``task`` (None when they may)."""
    if task.role is None:
        return _("lane “%(lane)s” is not mapped to a role", lane=task.lane)
    if not actor.has_role(task.role):
        return _("this task needs the role %(role)s", role=term("role", task.role))
    if task.assignee_id is not None and task.assignee_id != actor.id:
        return _("this task is assigned to someone else")
    return None
