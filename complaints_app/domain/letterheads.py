"""The company's identity per country: what its letters carry (legal name, address, registration numbers),
who signs where the law wants the head to sign, and the bodies its letters send customers to. A letter
takes the letterhead of its complaint's country, never another's."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Letterhead, User
from ..models.base import utcnow
from ..models.letters import ADR_PARTICIPATION
from .access import require_role
from .addresses import postcode_for
from .errors import InvalidInput, NotFound

COUNTRIES = ("PL", "GB", "UA")
LANGUAGES = ("pl", "en", "uk")
# Registration numbers each country's letters carry, with the shape each takes (None: free text).
REGISTRATION = {
    "PL": {"krs": r"\d{10}", "nip": r"\d{10}", "regon": r"\d{9}|\d{14}", "court": None, "share_capital": None},
    "GB": {"company_number": r"[A-Z0-9]{8}", "registered_in": None, "fca_frn": r"\d{6,7}"},
    "UA": {"edrpou": r"\d{8}"},
}
REGISTRATION_LABELS = {
    "krs": _l("KRS number"), "nip": _l("NIP (tax number)"), "regon": _l("REGON"),
    "court": _l("Registry court"), "share_capital": _l("Share capital"),
    "company_number": _l("Company number"), "registered_in": _l("Registered in"),
    "fca_frn": _l("FCA firm reference number"), "edrpou": _l("EDRPOU code"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def letterhead(country: str) -> Letterhead | None:
    return db.session.get(Letterhead, country)


def letterheads() -> dict[str, Letterhead | None]:
    found = {row.country: row for row in db.session.scalars(select(Letterhead))}
    return {country: found.get(country) for country in COUNTRIES}


def _text(values: dict, key: str, limit: int, errors: dict, required: bool = True) -> str | None:
    value = " ".join(str(values.get(key) or "").split())
    if required and not value:
        errors[key] = _("Required.")
    elif len(value) > limit:
        errors[key] = _("At most %(count)d characters.", count=limit)
    return value or None


def save_letterhead(actor: User, country: str, values: dict) -> Letterhead:
    """Create or change the letterhead of ``country`` from form or API values; InvalidInput naming each wrong
    field (``details["fields"]``) changes nothing."""
    require_role(actor, "admin")
    if country not in COUNTRIES:
        raise NotFound(_("no country %(country)s; letterheads are kept for %(countries)s", country=country,
                         countries=", ".join(COUNTRIES)))
    errors: dict[str, str] = {}
    clean = {key: _text(values, key, limit, errors) for key, limit in (
        ("legal_name", 200), ("street", 200), ("city", 100), ("phone", 40), ("email", 254))}
    clean["postcode"] = postcode_for(country, values.get("postcode") or "")
    if clean["postcode"] is None:
        errors["postcode"] = _("Not a postcode of %(country)s.", country=country)
    if clean["email"] and not _EMAIL.match(clean["email"]):
        errors["email"] = _("Not an e-mail address.")
    for key in ("website", "adr_website"):
        clean[key] = _text(values, key, 200, errors, required=False)
        if clean[key] and not re.match(r"^(https?://)?[\w.-]+\.[a-z]{2,}(/\S*)?$", clean[key], re.I):
            errors[key] = _("Not a web address.")
    clean["adr_name"] = _text(values, "adr_name", 200, errors, required=False)
    participation = values.get("adr_participation") or None
    if participation not in (None, *ADR_PARTICIPATION):
        errors["adr_participation"] = _("Choose one of the options.")
    if clean["adr_name"] and participation is None:
        errors["adr_participation"] = _("Say whether the company takes part in this body's procedure.")
    clean["adr_participation"] = participation
    clean["signatory_name"] = _text(values, "signatory_name", 200, errors, required=country == "UA")
    registration = {}
    for key, shape in REGISTRATION[country].items():
        value = " ".join(str(values.get(f"registration_{key}") or "").split())
        compact = re.sub(r"[\s-]", "", value).upper()
        if value and shape and not re.fullmatch(shape, compact):
            errors[f"registration_{key}"] = _("Not a valid %(what)s.", what=REGISTRATION_LABELS[key])
        if value:
            registration[key] = compact if shape else value[:200]
    positions = {lang: " ".join(str(values.get(f"signatory_position_{lang}") or "").split())[:200]
                 for lang in LANGUAGES}
    appeal = {lang: " ".join(str(values.get(f"appeal_body_{lang}") or "").split())[:300] for lang in LANGUAGES}
    if errors:
        raise InvalidInput(_("The letterhead was not saved: correct the fields marked."), {"fields": errors})
    row = letterhead(country) or Letterhead(country=country)
    for key, value in clean.items():
        setattr(row, key, value)
    row.registration = registration
    row.signatory_position = {lang: text for lang, text in positions.items() if text}
    row.appeal_body = {lang: text for lang, text in appeal.items() if text}
    row.fos_waiver_consent = country == "GB" and str(values.get("fos_waiver_consent") or "") in ("1", "true", "on")
    row.is_example = False
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    db.session.add(row)
    db.session.flush()
    return row


EXAMPLES = {
    "PL": dict(legal_name="Example Retail Sp. z o.o.", street="ul. Prosta 1", postcode="00-001", city="Warszawa",
               phone="+48 22 000 00 00", email="reklamacje@example.com", website="www.example.com",
               registration={"krs": "0000123456", "nip": "5250001009", "regon": "012345678",
                             "court": "Sąd Rejonowy dla m.st. Warszawy w Warszawie, XII Wydział Gospodarczy Krajowego Rejestru Sądowego",
                             "share_capital": "50 000,00 zł"},
               signatory_name="Anna Kowalska",
               signatory_position={"pl": "Kierownik Działu Obsługi Reklamacji", "en": "Head of Complaints",
                                   "uk": "Керівник відділу розгляду скарг"},
               adr_name="Wojewódzki Inspektorat Inspekcji Handlowej w Warszawie", adr_website="www.wiih.org.pl",
               adr_participation="willing"),
    "GB": dict(legal_name="Example Retail UK Ltd", street="1 King Street", postcode="EC2V 8AU", city="London",
               phone="+44 20 0000 0000", email="complaints@example.co.uk", website="www.example.co.uk",
               registration={"company_number": "01234567", "registered_in": "England and Wales",
                             "fca_frn": "123456"},
               signatory_name="James Smith", signatory_position={"en": "Head of Complaints",
                                                                 "pl": "Kierownik Działu Reklamacji",
                                                                 "uk": "Керівник відділу скарг"},
               adr_name="Retail ADR", adr_website="www.retailadr.org.uk", adr_participation="willing"),
    "UA": dict(legal_name="ТОВ «Приклад Рітейл Україна»", street="вул. Хрещатик, 1", postcode="01001", city="Київ",
               phone="+380 44 000 00 00", email="skargy@example.com.ua", website="www.example.com.ua",
               registration={"edrpou": "12345678"},
               signatory_name="Олена Шевченко", signatory_position={"uk": "Директор", "pl": "Dyrektor",
                                                                     "en": "Director"},
               appeal_body={"uk": "Державна служба України з питань безпечності харчових продуктів та захисту "
                                  "споживачів (Держпродспоживслужба), вул. Б. Грінченка, 1, м. Київ, 01001",
                            "pl": "Państwowa Służba Ukrainy ds. Bezpieczeństwa Żywności i Ochrony Konsumentów, "
                                  "ul. B. Hrinczenki 1, 01001 Kijów",
                            "en": "State Service of Ukraine on Food Safety and Consumer Protection, 1 B. Hrinchenka "
                                  "St, Kyiv 01001"}),
}


def seed_example_letterheads() -> list[str]:
    """Letterheads with example data for each country that has none yet (``complaints init``): letters
    render at once, and Admin → Letterheads asks for the real ones."""
    made = []
    for country, values in EXAMPLES.items():
        if letterhead(country) is None:
            db.session.add(Letterhead(country=country, is_example=True, **values))
            made.append(country)
    db.session.flush()
    return made
