"""What a letter says, as plain data: the complaint's facts, the letter's own snapshot of the process and the
company's letterhead, written as the letter's language writes them (``letters.wording``). The worker, the
complaint page's preview and the admin's sample letters all build their context here, so what people
preview is what customers get.

Only text a diagram marks for the customer (a form field with ``customer_facing=true``) is ever quoted:
a letter's snapshot keeps such fields under ``texts``; everything else of the process (internal notes,
what staff wrote for each other) never reaches a letter.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..config import current_settings
from ..letters import LetterError
from ..letters import wording
from ..models import Complaint, Customer, Letter, Letterhead, User
from ..models.base import utcnow
from .addresses import address_lines
from .deadlines import RULES, ZONES, receipt_date
from .letterheads import letterhead as stored_letterhead
from .standards import standards_url

DECISIONS = ("upheld", "partly_upheld", "rejected", "resolved_first_contact")
# The customer-facing texts templates quote by name (each is "" when the process has none).
TEXT_KEYS = ("fc_answer", "decision_reasons", "legal_basis", "remedy", "deemed_remedy", "delay_reasons",
             "circumstances", "body")
# Letters whose answer the law wants signed with the answering person's name and position.
NAMED_ANSWERER = {("PL", "financial"), ("PL", "payment_services")}


def _day(value) -> date | None:
    if not value:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def company_facts(head: Letterhead, language: str) -> dict:
    """The letterhead as templates read it."""
    town = {"GB": f"{head.city} {head.postcode}", "UA": f"{head.city}, {head.postcode}"}.get(
        head.country, f"{head.postcode} {head.city}")
    return {
        "legal_name": head.legal_name, "street": head.street, "postcode": head.postcode, "city": head.city,
        "address_line": f"{head.street}, {town}",
        "country": head.country, "country_name": wording.country_name(head.country, language),
        "phone": head.phone, "email": head.email, "website": head.website or "",
        "registration": dict(head.registration or {}),
        "adr_name": head.adr_name or "", "adr_website": head.adr_website or "",
        "adr_participation": head.adr_participation or "",
        "fos_waiver_consent": bool(head.fos_waiver_consent),
        "appeal_body": _in(head.appeal_body, language),
        "signatory_name": head.signatory_name or "",
        "signatory_position": _in(head.signatory_position, language),
        "is_example": bool(head.is_example),
    }


def _in(translations: dict | None, language: str) -> str:
    translations = translations or {}
    return translations.get(language) or translations.get("en") or next(iter(translations.values()), "")


def signatory(letter: Letter, complaint: Complaint, head: Letterhead, signer: User | None, language: str) -> dict:
    """Who the letter names as answering: in Ukraine the head (Law on Citizens' Appeals art. 15); otherwise
    the person who answered (the letter's reviewer or the one whose step wrote it), with their position;
    where the law wants a name and position and that person has no position recorded, the letterhead's
    signatory; without anyone, the complaints team."""
    head_sign = {"name": head.signatory_name or "", "position": _in(head.signatory_position, language)}
    if complaint.jurisdiction == "UA":
        if not head_sign["name"]:
            raise LetterError("Ukrainian answers are signed by the head: name them under Admin → Letterheads")
        return head_sign
    named = (complaint.jurisdiction, complaint.regime) in NAMED_ANSWERER
    if signer is not None and signer.display_name:
        position = signer.position_in(language)
        if position or not named:
            return {"name": signer.display_name, "position": position}
    if head_sign["name"]:
        return head_sign
    if named and letter.letter_type in ("final_response", "holding_letter"):
        raise LetterError("the answer must name the person answering and their position (art. 9 of the Act of "
                          "5 August 2015): record a position for them under Admin → Users, or a signatory "
                          "under Admin → Letterheads")
    return {"name": "", "position": ""}


def quoted_texts(letter: Letter) -> dict[str, str]:
    """The customer-facing texts the letter quotes: its snapshot's ``texts`` (what fields marked for the
    customer held); a letter written before the mark existed quotes what letters quoted then."""
    if "texts" in letter.context:
        return {key: str(value) for key, value in letter.context["texts"].items() if value not in (None, "")}
    legacy = ("decision_reasons", "remedy", "delay_reasons")
    return {key: str(letter.context[key]) for key in legacy if letter.context.get(key)}


def letter_context(letter: Letter, complaint: Complaint, *, head: Letterhead | None = None,
                   signer: User | None = None, enclosed: list[tuple[str, str]] | None = None,
                   quotes: tuple[str, ...] = ()) -> dict:
    """The plain-data context a letter template is filled from. ``head`` defaults to the stored letterhead of
    the complaint's country (LetterError without one: a letter never borrows another country's); ``signer``
    is the person who answers; ``enclosed`` the (key, title) of each enclosure that goes with it;
    ``quotes`` the customer-facing texts its template quotes by name (the others are listed after them)."""
    language = letter.language
    head = head or stored_letterhead(complaint.jurisdiction)
    if head is None:
        raise LetterError(f"there is no letterhead for {complaint.jurisdiction}: an administrator sets the "
                          f"company's identity there under Admin → Letterheads")
    customer: Customer = complaint.customer
    facts = letter.context
    issued = (letter.created_at or utcnow()).astimezone(ZONES[complaint.jurisdiction]).date()
    texts = quoted_texts(letter)
    labels = facts.get("text_labels") or {}
    # A marked field the template does not quote by name follows the body, under its label in the letter's
    # language (none where the diagram gives none in it: never a label in another language).
    others = [{"label": (labels.get(key) or {}).get(language, ""), "text": text}
              for key, text in texts.items() if key not in quotes]
    decision = facts.get("decision") or ("resolved_first_contact" if letter.letter_type in (
        "final_response", "summary_resolution") else "")
    amount = facts.get("compensation_amount")
    pays = bool(amount and float(amount) > 0 and facts.get("compensation_approved"))
    due = _day(facts.get("due_on")) or complaint.statutory_due_on
    rule = RULES.get(facts.get("statutory_rule") or complaint.statutory_rule or "")
    settings = current_settings()
    date_line = wording.long_date(issued, language)
    company = company_facts(head, language)
    lines = []
    if customer.has_postal_address:
        lines = address_lines(customer.name, customer.street, customer.postcode, customer.city, customer.country,
                              head.country, wording.country_name(customer.country, language))
    return {
        "language": language,
        "jurisdiction": complaint.jurisdiction, "regime": complaint.regime, "category": complaint.category,
        "company": company,
        "reference": complaint.reference,
        "letter_ref": wording.reference(f"{complaint.reference}/{letter.number or 1}", language),
        "reference_text": wording.reference(complaint.reference, language),
        "received_on": wording.long_date(receipt_date(complaint.received_at, complaint.jurisdiction), language),
        "letter_date": date_line,
        "place_and_date": date_line if language == "en" else f"{head.city}, {date_line}",
        "customer_name": customer.name,
        "customer_email": customer.email or "",
        "addressee": lines or [customer.name, *( [customer.email] if customer.email else [])],
        "salutation": wording.salutation(language, customer.title, customer.given_name, customer.family_name,
                                         customer.name),
        "form_of_address": customer.title or "",  # the Polish text then says Pani / Pan, not Państwo
        "product": complaint.product or "",
        "description": complaint.description if complaint.quote_description else "",
        "decision": decision,
        "texts": {**dict.fromkeys(TEXT_KEYS, ""),
                  **{key: wording.typographic(text, language) for key, text in texts.items()}},
        "other_texts": [{**item, "text": wording.typographic(item["text"], language)} for item in others],
        "compensation": wording.amount(amount, complaint.currency, language) if pays else "",
        "claimed": (wording.amount(complaint.claimed_amount, complaint.currency, language)
                    if complaint.claimed_amount else ""),
        "remedy_due_on": wording.long_date(issued + timedelta(days=settings.remedy_days), language),
        "remedy_days": settings.remedy_days,
        "due_on": wording.long_date(due, language) if due else "",
        "rule": rule.id if rule else "",
        "expected_on": wording.long_date(_day(facts["expected_on"]), language) if facts.get("expected_on") else "",
        "deemed_accepted": bool(facts.get("deemed_accepted")),
        "outside_time_limits": bool(facts.get("outside_time_limits")),
        "answer_channel": letter.channel or "",
        "signatory": signatory(letter, complaint, head, signer, language),
        "standards_url": standards_url(language),
        "enclosures": [title for _key, title in enclosed or []],
        "fos_leaflet": any(key == "fos_leaflet" for key, _title in enclosed or []),
        "correction_of": (wording.long_date(_day(facts["correction_of"]), language)
                          if facts.get("correction_of") else ""),
        "correction_note": facts.get("correction_note") or "",
        "subject": facts.get("subject") or "",
    }

