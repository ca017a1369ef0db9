"""Messages from outside the process: what a person reports on the customer's behalf (a withdrawal,
say). The diagram declares which messages it catches, when, and who may record them."""

from __future__ import annotations

from flask_babel import gettext as _

from ..models import Complaint, User
from ..models.base import utcnow
from ..models.complaints import CLOSED_STATUSES
from ..workflow import MessageCatch, listed
from .access import require_view
from .driver import load, save
from .errors import Conflict, Forbidden, InvalidInput

DEFAULT_ROLE = "staff"
REASON_MAX = 2000


def available_messages(actor: User, complaint: Complaint) -> list[MessageCatch]:
    """The messages the complaint's process would catch now that ``actor`` may record."""
    if complaint.status in CLOSED_STATUSES:
        return []
    _instance, run = load(complaint, actor, lock=False)
    return [m for m in _for_people(run.messages(), complaint.status)
            if actor.has_role(m.properties.get("role") or DEFAULT_ROLE)]


def _for_people(catches: list[MessageCatch], status: str) -> list[MessageCatch]:
    """Messages people may record now: not those only the app sends (property ``sent_by=app``, e.g. the
    statutory clock's), and, where the diagram lists ``statuses``, only while the complaint has one of them
    (a withdrawal makes no sense once the customer accepted and was paid)."""
    return [m for m in catches if m.properties.get("sent_by") != "app" and _in_statuses(m, status)]


def _in_statuses(catch: MessageCatch, status: str) -> bool:
    allowed = listed(catch.properties, "statuses")
    return not allowed or status in allowed


def send_message(actor: User, complaint: Complaint, name: str, reason: str) -> None:
    """Record a message with its reason and run the process on (flushes)."""
    require_view(actor, complaint)
    if complaint.status in CLOSED_STATUSES:
        raise Conflict(_("complaint %(reference)s is %(status)s; nothing more can be recorded",
                         reference=complaint.reference, status=complaint.status))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("give the reason"), {"field": "reason"})
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("the reason is longer than %(n)s characters", n=REASON_MAX), {"field": "reason"})
    instance, run = load(complaint, actor)
    catch = next((m for m in _for_people(run.messages(), complaint.status) if m.name == name), None)
    if catch is None:
        raise Conflict(_("the process of %(reference)s does not expect “%(name)s” now",
                         reference=complaint.reference, name=name))
    role = catch.properties.get("role") or DEFAULT_ROLE
    if not actor.has_role(role):
        raise Forbidden(_("this needs one of the roles: %(roles)s", roles=role))
    payload = {"reason": reason, "recorded_by": actor.username, "recorded_at": utcnow().isoformat()}
    _deliver(complaint, instance, run, catch, payload, actor, {"message": name, "reason": reason})


def deliver_if_caught(complaint: Complaint, name: str, payload: dict) -> bool:
    """The app's own message (e.g. the statutory clock's): delivered when the diagram catches it now,
    else only recorded. Returns whether the process caught it."""
    instance, run = load(complaint, None)
    catch = next((m for m in run.messages() if m.name == name), None)
    if catch is None:
        return False
    _deliver(complaint, instance, run, catch, payload, None, {"message": name, **payload})
    return True


def _deliver(complaint, instance, run, catch: MessageCatch, payload: dict, actor: User | None, audit_data: dict):
    result = run.send_message(catch.name, payload)  # ``catch`` came from this run's own messages()
    first = {"kind": "message_received", "element_id": catch.element_id, "element_name": catch.element_name,
             "element_type": "Message", "task_id": None, "data": audit_data}
    save(complaint, instance, run, result, actor, first=first)
