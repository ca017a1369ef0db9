"""Postal addresses: checked per country as its post writes them, and laid out as its post reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel import Locale
from flask_babel import gettext as _

from .errors import InvalidInput

# The Royal Mail's postcode shapes (outward code, a space, inward code), GIR 0AA included.
_UK = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ](\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRVWXY]) ?"
                 r"\d[ABD-HJLNP-UW-Z]{2})$")
POSTCODE_HINTS = {"PL": "00-001", "GB": "SW1A 1AA", "UA": "01001"}


def countries() -> list[tuple[str, str]]:
    """Every country's ISO code and English name, the three the product serves first."""
    names = Locale.parse("en").territories
    known = sorted((code, name) for code, name in names.items() if len(code) == 2 and code.isalpha()
                   and code not in ("PL", "GB", "UA", "ZZ", "XA", "XB", "XK", "EU", "EZ", "UN", "QO"))
    return [("PL", names["PL"]), ("GB", names["GB"]), ("UA", names["UA"]), *known]


def _known_country(code: str) -> bool:
    return len(code) == 2 and code in Locale.parse("en").territories


def postcode_for(country: str, text: str) -> str | None:
    """The postcode as the country's post writes it (00-001; SW1A 1AA; 01001), or None when it is not one."""
    text = " ".join((text or "").upper().split())
    if country == "PL":
        digits = text.replace("-", "").replace(" ", "")
        return f"{digits[:2]}-{digits[2:]}" if re.fullmatch(r"\d{5}", digits) else None
    if country == "UA":
        return text if re.fullmatch(r"\d{5}", text) else None
    if country == "GB":
        compact = text.replace(" ", "")
        return f"{compact[:-3]} {compact[-3:]}" if _UK.match(compact) else None
    return text if re.fullmatch(r"[A-Z0-9][A-Z0-9 -]{1,10}", text) else None


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    city: str
    country: str


def clean_address(street: str | None, postcode: str | None, city: str | None, country: str | None) -> Address | None:
    """The address given, checked; None when nothing was given; InvalidInput naming each wrong part (by
    ``street``, ``postcode``, ``city``, ``country``) when it is partial or wrong."""
    values = {"street": " ".join((street or "").split()), "postcode": (postcode or "").strip(),
              "city": " ".join((city or "").split()), "country": (country or "").strip().upper()}
    if not any(values[k] for k in ("street", "postcode", "city")):
        return None
    errors = {}
    for key, label, limit in (("street", _("the street and number"), 200), ("city", _("the town"), 100)):
        if not values[key]:
            errors[key] = _("Give %(what)s of the postal address.", what=label)
        elif len(values[key]) > limit:
            errors[key] = _("At most %(count)d characters.", count=limit)
    if not _known_country(values["country"]):
        errors["country"] = _("Choose the country of the postal address.")
    else:
        written = postcode_for(values["country"], values["postcode"])
        if written is None:
            hint = POSTCODE_HINTS.get(values["country"])
            errors["postcode"] = (_("A postcode in %(country)s looks like %(example)s.", country=values["country"],
                                    example=hint) if hint else _("Give the postcode."))
        values["postcode"] = written or values["postcode"]
    if errors:
        raise InvalidInput(_("The postal address is not complete or not valid."), {"address": errors})
    return Address(**values)


def address_lines(name: str, street: str, postcode: str, city: str, country: str, sender_country: str,
                  country_name: str) -> list[str]:
    """The address block as the destination's post reads it; the country last, in capitals, when the
    letter crosses a border (named in the sender's language, as the sending post reads it)."""
    if country == "GB":
        lines = [name, street, city.upper(), postcode]
    elif country == "UA":
        lines = [name, street, city, postcode]
    else:
        lines = [name, street, f"{postcode} {city}"]
    if country != sender_country:
        lines.append(country_name.upper())
    return lines
