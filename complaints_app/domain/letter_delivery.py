"""How a rendered letter reaches the customer: the channel the law and the customer's request give, then
e-mail (claim, hand over with no transaction open, record: ``outgoing``) or the post (``post``).

The first letter that answers the complaint under its statutory rule to go out, e-mailed or posted,
stops the statutory clock: a Polish financial entity keeps its deadline by sending (art. 6 of the Act of
5 August 2015), so for paper the day posted counts, not the day written.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

from flask_babel import gettext as _
from sqlalchemy import select

from ..config import current_settings
from ..extensions import db
from ..letters.wording import salutation
from ..models import Complaint, Letter, User
from ..models.base import utcnow
from ..models.letters import NO_ADDRESS
from . import clock, letter_store
from .access import require_role, require_view
from .audit import audit
from .deadlines import RULES
from .dispatch import after_commit
from .errors import Conflict, NotFound
from .letter_templates import title
from .letterheads import letterhead
from .notify import notify_people
from .outgoing import Outgoing, lease_end, next_attempt
from .standards import standards_url
from .terms import term

RETRY_FIRST, RETRY_LONGEST = timedelta(minutes=2), timedelta(hours=4)
GIVE_UP_AFTER = 10  # failures in a row: about 13 hours of trying
PAPER_BY_LAW = {("PL", "financial"), ("PL", "payment_services")}  # art. 5 of the Act of 5 August 2015


def channel_for(complaint: Complaint) -> str:
    """How letters reach this customer: as they asked; a Polish financial-market entity on paper unless they
    asked for e-mail (art. 5(2)); otherwise by e-mail when there is an address, else by post."""
    customer = complaint.customer
    if complaint.answer_by == "post":
        return "post"
    if complaint.answer_by == "email" and customer.email:
        return "email"
    if (complaint.jurisdiction, complaint.regime) in PAPER_BY_LAW:
        return "post"
    return "email" if customer.email else "post"


def release(letter: Letter, complaint: Complaint) -> None:
    """A rendered letter nobody has to read first goes its way: queued for e-mail, or into the print queue
    (the people on the complaint are told when there is no address to send it to). Flushes."""
    letter.next_attempt_at = None
    letter.delivery_error = None
    if letter.channel == "email" and complaint.customer.email:
        letter.next_attempt_at = utcnow()
        after_commit("send_letter", letter.id)
    elif letter.channel == "post" and not complaint.customer.has_postal_address:
        letter.delivery_error = NO_ADDRESS
        notify_people(complaint, "letter_no_address", {"reference": complaint.reference,
                                                       "letter": letter.letter_type})
    elif letter.channel == "email":
        letter.delivery_error = NO_ADDRESS
    db.session.flush()


def mark_answered(complaint: Complaint, letter: Letter, at: datetime) -> None:
    """The complaint has its answer if ``letter`` is one its statutory rule counts: the clock stops."""
    rule = RULES.get(complaint.statutory_rule or "")
    if complaint.answered_at is None and rule is not None and letter.letter_type in rule.answers:
        complaint.answered_at = at
        audit(complaint, "statutory_answered", None, data={"letter": letter.id, "rule": rule.id,
                                                           "at": at.isoformat(), "channel": letter.channel})
        clock.arm(complaint)


def _message(letter: Letter, complaint: Complaint, pdf: bytes) -> EmailMessage:
    config = current_settings()
    head = letterhead(complaint.jurisdiction)
    company = head.legal_name if head else config.mail_from
    subject = letter.context.get("subject") or title(letter.letter_type, letter.language)
    message = EmailMessage()
    domain = config.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = letter.message_id or f"<letter-{letter.id}-{letter.pdf_sha256[:16]}@{domain}>"
    message["From"] = f"{company} <{config.mail_from}>"
    if head is not None:
        message["Reply-To"] = head.email
    message["To"] = complaint.customer.email
    message["Date"] = formatdate(localtime=False)
    message["Subject"] = f"{subject} · {complaint.reference}/{letter.number or 1}"
    message["X-Complaint-Reference"] = complaint.reference
    body = {"pl": "{greeting}\n\nw załączeniu przesyłamy pismo w sprawie reklamacji {ref}.\n\n"
                  "Zasady rozpatrywania reklamacji: {url}\n\nZ poważaniem\n{company}",
            "en": "{greeting}\n\nPlease find attached our letter about your complaint {ref}.\n\n"
                  "Our complaints procedure: {url}\n\nYours sincerely\n{company}",
            "uk": "{greeting}\n\nУ вкладенні надсилаємо лист щодо Вашої скарги №\u00a0{ref}.\n\n"
                  "Порядок розгляду скарг: {url}\n\nЗ повагою\n{company}"}
    customer = complaint.customer
    greeting = salutation(letter.language, customer.title, customer.given_name, customer.family_name, customer.name)
    contact = f"\n{head.email} · {head.phone}" if head else ""
    message.set_content(body[letter.language].format(greeting=greeting, ref=complaint.reference, company=company,
                                                     url=standards_url(letter.language)) + contact)
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"{complaint.reference}-{letter.number or 1}-{letter.letter_type}.pdf")
    for item in letter.context.get("enclosed") or []:
        message.add_attachment(letter_store.read(item["sha256"]), maintype="application", subtype="pdf",
                               filename=item["filename"])
    return message


def _locked(letter_id: int) -> Letter | None:
    return db.session.scalar(select(Letter).where(Letter.id == letter_id).with_for_update()
                             .execution_options(populate_existing=True))


def claim_letter(letter_id: int) -> Outgoing | None:
    """Claim a rendered letter whose e-mail is due, with its PDF and enclosures attached (see ``outgoing``);
    None when there is nothing to send: sent already, waiting for review, going by post, not due, or held by
    another worker."""
    letter = _locked(letter_id)
    if letter is None or letter.status != "rendered" or letter.waits_for_review or letter.channel == "post":
        return None
    if letter.next_attempt_at is None or letter.next_attempt_at > utcnow():
        return None
    complaint = db.session.get(Complaint, letter.complaint_id)
    if not complaint.customer.email:
        letter.delivery_error = NO_ADDRESS
        letter.next_attempt_at = None
        db.session.flush()
        return None
    try:
        message = _message(letter, complaint, letter_store.read(letter.pdf_sha256))
    except OSError as err:  # the store lost a file, or cannot be read now: counted and paused, not retried every second
        letter.delivery_attempts += 1
        _failed(letter, complaint, f"the stored PDF cannot be read: {type(err).__name__}: {err}")
        db.session.flush()
        return None
    letter.message_id = message["Message-ID"]
    letter.delivery_attempts += 1
    letter.next_attempt_at = lease_end()
    db.session.flush()
    return Outgoing("letter", letter.id, letter.delivery_attempts, message)


def record_letter(outgoing: Outgoing, where: str | None = None, error: str | None = None) -> bool:
    """Record how a claimed hand-over went: sent, or the error and the next attempt (or, after
    ``GIVE_UP_AFTER`` failures in a row, none: the people on the complaint are told to post it)."""
    letter = _locked(outgoing.row_id)
    if letter is None or letter.status != "rendered" or letter.delivery_attempts != outgoing.attempt:
        return False  # the claim ran out and a later attempt took over: that one records
    complaint = db.session.get(Complaint, letter.complaint_id)
    if error is None:
        now = utcnow()
        letter.status = "sent"
        letter.sent_at = now
        letter.next_attempt_at = None
        letter.delivery_error = None
        letter.failed_attempts = 0
        audit(complaint, "letter_sent", None, data={"letter": letter.id, "message_id": letter.message_id,
                                                    "to": complaint.customer.email, "via": where})
        mark_answered(complaint, letter, now)
        db.session.flush()
        return True
    _failed(letter, complaint, error)
    db.session.flush()
    return False


def _failed(letter: Letter, complaint: Complaint, error: str) -> None:
    """One more failure in a row: the next attempt after a longer pause, or none after ``GIVE_UP_AFTER``."""
    letter.failed_attempts += 1
    letter.delivery_error = error[:2000]
    facts = {"letter": letter.id, "error": letter.delivery_error, "failures": letter.failed_attempts}
    if letter.failed_attempts >= GIVE_UP_AFTER:
        letter.next_attempt_at = None
        audit(complaint, "letter_delivery_abandoned", None, data=facts)
        notify_people(complaint, "letter_undelivered", {
            "reference": complaint.reference, "letter": letter.letter_type.replace("_", " "),
            "failures": letter.failed_attempts, "error": letter.delivery_error[:200]})
    else:
        letter.next_attempt_at = next_attempt(letter.failed_attempts, RETRY_FIRST, RETRY_LONGEST)
        audit(complaint, "letter_delivery_failed", None, data=facts)


def letters_to_send(limit: int = 200) -> list[int]:
    """Rendered letters whose (next) e-mail attempt is due."""
    return list(db.session.scalars(select(Letter.id).where(
        Letter.status == "rendered", Letter.next_attempt_at.is_not(None), Letter.next_attempt_at <= utcnow())
        .order_by(Letter.next_attempt_at).limit(limit)))


def resend_letter(actor: User, letter_id: int, channel: str | None = None) -> Letter:
    """Send a sent letter again (by e-mail under the same Message-ID, so the copy is recognisable; or into
    the print queue), or try once more a letter whose delivery stopped (failed too often, or no address
    then). ``channel`` switches how it goes (the customer gave an address meanwhile, say)."""
    require_role(actor, "staff", "supervisor", "customer_centre", "admin")
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        raise NotFound(_("no letter %(id)s", id=letter_id))
    complaint = db.session.get(Complaint, letter.complaint_id)
    require_view(actor, complaint)
    stopped = letter.status == "rendered" and letter.next_attempt_at is None and not letter.waits_for_review
    if letter.status == "sent":
        letter.status = "rendered"
        letter.print_batch_id = None
        letter.posted_on = None
        audit(complaint, "letter_resend_requested", actor, data={"letter": letter.id, "channel": channel})
    elif stopped and (letter.channel != "post" or letter.delivery_error == NO_ADDRESS or channel):
        audit(complaint, "letter_retry_requested", actor, data={"letter": letter.id, "error": letter.delivery_error,
                                                                "channel": channel})
    else:
        raise Conflict(_("only a sent letter, or one whose delivery stopped, can be sent again"))
    if channel is not None:
        if channel not in ("email", "post"):
            raise Conflict(_("a letter goes by e-mail or by post"))
        letter.channel = channel
    letter.failed_attempts = 0
    release(letter, complaint)
    if letter.delivery_error == NO_ADDRESS:
        what = _("an e-mail address") if letter.channel == "email" else _("a postal address")
        raise Conflict(_("%(reference)s has no %(what)s to send the %(letter)s to: add it to the customer first",
                         reference=complaint.reference, what=what, letter=term("letter_type", letter.letter_type)))
    db.session.flush()
    return letter


def set_answer_channel(actor: User, complaint: Complaint, channel: str | None) -> None:
    """Record how the customer asked to get our answers ("email", "post"), or None to follow the law and the
    addresses (a Polish financial entity: on paper unless asked for e-mail, art. 5(2)). Letters written from
    now on go that way."""
    require_role(actor, "staff", "supervisor", "customer_centre", "admin")
    require_view(actor, complaint)
    if channel not in (None, "email", "post"):
        raise Conflict(_("answers go by e-mail or by post"))
    if channel == "email" and not complaint.customer.email:
        raise Conflict(_("the customer has no e-mail address: add it first"))
    previous = complaint.answer_by
    complaint.answer_by = channel
    complaint.answer_by_recorded_at = utcnow() if channel else None
    complaint.answer_by_recorded_by_id = actor.id if channel else None
    audit(complaint, "answer_channel_set", actor, data={"from": previous, "to": channel})
    db.session.flush()
