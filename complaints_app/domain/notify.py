"""Tell people: in the app (the inbox lists what is unread) and by e-mail (sent after commit, retried
by the sweep). Each notification keeps its facts, and the sentence is written in the reader's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

from babel.dates import format_date
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select, update

from ..config import current_settings
from ..extensions import db
from ..models import Complaint, HumanTask, Notification, User, UserRole
from ..models.base import utcnow
from .dispatch import after_commit
from .errors import NotFound
from .outgoing import Outgoing, lease_end, next_attempt
from .terms import term, written_moment

SUPERVISING = ("supervisor", "manager")
# A notification also stays in the inbox: its e-mail is tried for about an hour, then left.
RETRY_FIRST, RETRY_LONGEST, GIVE_UP_AFTER = timedelta(minutes=1), timedelta(minutes=30), 6


def supervisors_of(team: str | None) -> list[User]:
    """Active supervisors and managers of ``team`` (and those of no particular team)."""
    query = select(User).where(User.is_active_user.is_(True), User.id.in_(
        select(UserRole.user_id).where(UserRole.role.in_(SUPERVISING))))
    if team:
        query = query.where(or_(User.team == team, User.team.is_(None)))
    return list(db.session.scalars(query.order_by(User.id)))


def notify_people(complaint: Complaint, kind: str, data: dict, task: HumanTask | None = None) -> list[Notification]:
    """Notify the holder of ``task`` (or of every open task of the complaint) and the team's supervisors."""
    if task is not None:
        holders = [task.assignee_id] if task.assignee_id else []
    else:
        holders = list(db.session.scalars(select(HumanTask.assignee_id).where(
            HumanTask.complaint_id == complaint.id, HumanTask.state == "open", HumanTask.assignee_id.is_not(None))))
    recipients = dict.fromkeys(holders + [u.id for u in supervisors_of(complaint.team)])
    made = []
    for user_id in recipients:
        note = Notification(user_id=user_id, complaint_id=complaint.id, task_id=task.id if task else None,
                            kind=kind, data=data)
        db.session.add(note)
        made.append(note)
    db.session.flush()
    for note in made:
        after_commit("mail_notification", note.id)
    return made


def _when(text: str) -> str:
    """A day ("2026-11-16") or a local moment ("2026-11-16 14:00") the notification keeps, as the reader's
    language writes it; anything else as kept."""
    locale = get_locale() or "en"
    try:
        if len(text) == 10:
            return format_date(date.fromisoformat(text), "medium", locale=locale)
        return written_moment(datetime.fromisoformat(text), locale)
    except (TypeError, ValueError):
        return text


def sentence(note: Notification) -> str:
    """The notification in the current language."""
    d = {**(note.data or {})}
    d["due"] = _when(str(d.get("due") or ""))
    d["rule"] = term("rule", d.get("rule")) if d.get("rule") else ""
    if note.kind == "reminder":
        return _("“%(task)s” on %(reference)s: %(percent)s%% of its time has gone; due %(due)s.",
                 task=d.get("task", ""), reference=d.get("reference", ""), percent=d.get("percent", ""),
                 due=d.get("due", ""))
    if note.kind == "statutory_near":
        left = d.get("working_days_left")
        return ngettext("%(reference)s: the statutory deadline (%(rule)s) is %(due)s, %(num)d working day from now, "
                        "and the customer has no answer yet.",
                        "%(reference)s: the statutory deadline (%(rule)s) is %(due)s, %(num)d working days from now, "
                        "and the customer has no answer yet.", left if isinstance(left, int) else 0,
                        reference=d.get("reference", ""), rule=d.get("rule", ""), due=d.get("due", ""))
    if note.kind == "statutory_breached":
        text = _("%(reference)s: the statutory deadline (%(rule)s) of %(due)s has passed without an answer.",
                 reference=d.get("reference", ""), rule=d.get("rule", ""), due=d.get("due", ""))
        if d.get("deemed_accepted"):
            text += " " + _("By law the complaint is now deemed accepted.")
        return text
    if note.kind == "letter_undelivered":
        return _("%(reference)s: the letter “%(letter)s” could not be e-mailed (%(failures)s attempts; last error: "
                 "%(error)s). Print and post it, or send it again from the complaint.",
                 reference=d.get("reference", ""), letter=d.get("letter", ""), failures=d.get("failures", ""),
                 error=d.get("error", ""))
    if note.kind == "letter_returned":
        return _("%(reference)s: the letter “%(letter)s” came back by post (%(reason)s). Find another address or way "
                 "to reach the customer, then send it again from the complaint.", reference=d.get("reference", ""),
                 letter=term("letter_type", d.get("letter")), reason=d.get("reason", ""))
    if note.kind == "letter_no_address":
        return _("%(reference)s: the letter “%(letter)s” must go by post, and the customer has no postal address. Add "
                 "it on the complaint's page, then send the letter.", reference=d.get("reference", ""),
                 letter=term("letter_type", d.get("letter")))
    return note.kind


def unread(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc()).limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or, with None, every) unread notification of ``user`` read."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        if db.session.get(Notification, notification_id) is None:
            raise NotFound(_("no notification %(id)s", id=notification_id))
        query = query.where(Notification.id == notification_id)
    return db.session.execute(query.values(read_at=utcnow())).rowcount


def claim_notification(notification_id: int) -> Outgoing | None:
    """Claim a notification whose e-mail is due, written in its reader's language (see ``outgoing``);
    None when there is nothing to send: sent, read in the app meanwhile, no address, or not due."""
    note = db.session.get(Notification, notification_id, with_for_update=True, populate_existing=True)
    if note is None or note.mail_due_at is None or note.mail_due_at > utcnow():
        return None
    user = db.session.get(User, note.user_id)
    if not user.email or note.read_at is not None or not user.is_active_user:
        note.mail_due_at = None
        db.session.flush()
        return None
    config = current_settings()
    with force_locale(user.language or "en"):
        text = sentence(note)
        subject = _("Complaints: %(reference)s", reference=(note.data or {}).get("reference", ""))
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = user.email
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<notification-{note.id}@{config.mail_from.split('@')[-1]}>"
    message.set_content(text + "\n")
    note.mail_attempts += 1
    note.mail_due_at = lease_end()
    db.session.flush()
    return Outgoing("notification", note.id, note.mail_attempts, message)


def record_notification(outgoing: Outgoing, where: str | None = None, error: str | None = None) -> bool:
    """Sent; or the error and the next attempt, none after ``GIVE_UP_AFTER`` (the inbox still shows it)."""
    note = db.session.get(Notification, outgoing.row_id, with_for_update=True, populate_existing=True)
    if note is None or note.emailed_at is not None or note.mail_attempts != outgoing.attempt:
        return False
    if error is None:
        note.emailed_at = utcnow()
        note.mail_due_at = None
        note.mail_error = None
    else:
        note.mail_error = error[:2000]
        note.mail_due_at = (None if note.mail_attempts >= GIVE_UP_AFTER
                            else next_attempt(note.mail_attempts, RETRY_FIRST, RETRY_LONGEST))
    db.session.flush()
    return error is None


def notifications_to_mail(limit: int = 200) -> list[int]:
    return list(db.session.scalars(select(Notification.id).where(Notification.mail_due_at <= utcnow())
                                   .order_by(Notification.mail_due_at).limit(limit)))
