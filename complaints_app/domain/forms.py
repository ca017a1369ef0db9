"""Validate submitted task data against a form drawn in the diagram (``camunda:formData``).

Field types: string, long, boolean, date, enum and the app's ``decimal`` for money. Constraints:
required, min, max, minlength, maxlength, readonly. Values come as JSON (API) or strings (web forms);
what comes out is plain JSON data for the process: every field of the form is present.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from ..models.base import utcnow
from .deadlines import ZONES
from .errors import InvalidInput

FIELD_TYPES = ("string", "long", "boolean", "date", "enum", "decimal")
MAX_AMOUNT = Decimal(10) ** 12  # what a Numeric(14, 2) column holds
CONSTRAINTS = ("required", "min", "max", "minlength", "maxlength", "readonly")
TODAY = "today"  # a date bound that moves: the day the form is answered
_TRUE = {"true", "on", "1", "yes"}
_FALSE = {"false", "off", "0", "no"}


def clean_form(form: list[dict], submitted: dict, current: dict | None = None) -> dict:
    """Return the cleaned values of every field, or raise InvalidInput naming each bad field."""
    if not isinstance(submitted, dict):
        raise InvalidInput(_("task data must be an object of field values"))
    current = current or {}
    fields = {f["id"]: f for f in form}
    errors: dict[str, str] = {}
    for key in submitted:
        if key not in fields:
            errors[key] = _("this task has no such field")
    cleaned = {}
    for field_id, field in fields.items():
        rules = field.get("validation") or {}
        if "readonly" in rules:
            cleaned[field_id] = current.get(field_id)
            continue
        raw = submitted.get(field_id)
        if raw is None or (isinstance(raw, str) and raw.strip() == "" and field["type"] != "string"):
            raw = None
        if isinstance(raw, str) and field["type"] == "string" and raw.strip() == "":
            raw = None
        if raw is None:
            if "required" in rules and field["type"] != "boolean":
                errors[field_id] = _("required")
            elif "required" in rules and field["type"] == "boolean":
                errors[field_id] = _("required: answer yes or no")
            cleaned[field_id] = None
            continue
        try:
            value = _coerce(field, raw)
            _check(field, rules, value)
        except ValueError as err:
            errors[field_id] = str(err)
            continue
        cleaned[field_id] = value
    if errors:
        raise InvalidInput(_("the form has errors"), {"fields": errors})
    return cleaned


# NUL and lone surrogates: no database column, e-mail or PDF can hold them (PostgreSQL refuses NUL,
# UTF-8 cannot encode a surrogate), so a value holding one would fail far from where it was typed.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


_GROUPING = re.compile(r"[\s\u00a0\u202f']")  # spaces (also the no-break ones Polish formatting uses)
_AMOUNT = re.compile(r"-?[0-9]{1,13}(?:[.,]([0-9]+))?")


def parse_amount(text: str) -> Decimal:
    """An amount as people type it: ``1500.50``, ``1500,50``, ``1 500,50``. One decimal separator, at most
    two decimals; ``1,500.50`` (two kinds of separator) is refused rather than guessed, and ``1,500`` has
    three decimals, so it is refused too, never read as one and a half."""
    cleaned = _GROUPING.sub("", text.strip())
    if "," in cleaned and "." in cleaned or cleaned.count(",") + cleaned.count(".") > 1:
        raise ValueError(_("write the amount with one decimal separator and no other, such as 1500.50 or 1500,50"))
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise ValueError(_("must be an amount such as 120.50"))
    if len(match.group(1) or "") > 2:  # as written: 1,500 is not one and a half
        raise ValueError(_("must be an amount with at most two decimal places"))
    amount = Decimal(cleaned.replace(",", "."))
    if abs(amount) >= MAX_AMOUNT:
        raise ValueError(_("must be an amount below 1,000,000,000,000"))
    return amount


def _coerce(field: dict, raw):
    kind = field["type"]
    if kind == "string":
        if not isinstance(raw, str):
            raise ValueError(_("must be text"))
        if not storable(raw):
            raise ValueError(_("contains a character that cannot be stored"))
        return raw.strip()
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise ValueError(_("must be yes or no"))
    if kind == "long":
        if isinstance(raw, bool):
            raise ValueError(_("must be a whole number"))
        text = str(raw).strip() if isinstance(raw, (int, str)) else ""
        digits = text[1:] if text.startswith("-") else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 15:
            raise ValueError(_("must be a whole number"))
        return int(text)
    if kind == "decimal":
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise ValueError(_("must be an amount such as 120.50"))
        return float(parse_amount(str(raw)))
    if kind == "date":
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(_("must be a date as YYYY-MM-DD")) from None
    if kind == "enum":
        options = [o["id"] for o in field.get("options") or []]
        if raw not in options:
            raise ValueError(_("must be one of: %(options)s", options=", ".join(options)))
        return raw
    raise ValueError(_("unsupported field type “%(kind)s”", kind=kind))


def _check(field: dict, rules: dict, value) -> None:
    kind = field["type"]
    if kind == "string":
        if "minlength" in rules and len(value) < int(rules["minlength"]):
            raise ValueError(_("must be at least %(count)s characters", count=rules["minlength"]))
        if "maxlength" in rules and len(value) > int(rules["maxlength"]):
            raise ValueError(_("must be at most %(count)s characters", count=rules["maxlength"]))
    if kind in ("long", "decimal"):
        if rules.get("min") not in (None, "") and Decimal(str(value)) < Decimal(rules["min"]):
            raise ValueError(_("must be at least %(value)s", value=rules["min"]))
        if rules.get("max") not in (None, "") and Decimal(str(value)) > Decimal(rules["max"]):
            raise ValueError(_("must be at most %(value)s", value=rules["max"]))
    if kind == "date":
        low, high = _day_bound(rules.get("min"), min), _day_bound(rules.get("max"), max)
        if low and value < low:
            raise ValueError(_("must be on or after %(value)s", value=low))
        if high and value > high:
            raise ValueError(_("must be on or before %(value)s", value=high))


def check_form_definition(element_id: str, form: list[dict]) -> list[dict]:
    """Problems with a form as drawn (unknown types or constraints, constraint values that cannot be
    used), for validation at deploy: a form that would only fail when someone fills it in."""
    problems = []

    def problem(message: str) -> None:
        problems.append({"element_id": element_id, "message": message})

    seen = set()
    for field in form:
        name = field.get("id")
        if not name or name.startswith("_"):
            problem(f"form field id '{name}' is not allowed")
        elif name in seen:
            problem(f"form field '{name}' appears twice")
        seen.add(name)
        kind = field.get("type")
        if kind not in FIELD_TYPES:
            problem(f"field '{name}' has type '{kind}'; use one of {', '.join(FIELD_TYPES)}")
        if kind == "enum":
            options = [o.get("id") for o in field.get("options") or []]
            if not options:
                problem(f"field '{name}' is an enum without values")
            elif len(set(options)) != len(options):
                problem(f"field '{name}' lists a value twice")
        rules = field.get("validation") or {}
        for constraint in rules:
            if constraint not in CONSTRAINTS:
                problem(f"field '{name}' has unknown constraint '{constraint}'")
        for message in _constraint_problems(kind, rules):
            problem(f"field '{name}': {message}")
    return problems


def _constraint_problems(kind: str | None, rules: dict) -> list[str]:
    found = []
    lengths = {}
    for constraint in ("minlength", "maxlength"):
        if constraint not in rules:
            continue
        raw = str(rules[constraint] or "").strip()
        if kind != "string":
            found.append(f"{constraint} applies to string fields only")
        elif not (raw.isascii() and raw.isdigit()):
            found.append(f"{constraint} must be a whole number of characters, not '{raw}'")
        else:
            lengths[constraint] = int(raw)
    if lengths.get("minlength", 0) > lengths.get("maxlength", float("inf")):
        found.append("minlength is greater than maxlength")
    bounds = {}
    for constraint in ("min", "max"):
        if rules.get(constraint) in (None, ""):
            continue
        raw = str(rules[constraint])
        if kind not in ("long", "decimal", "date"):
            found.append(f"{constraint} applies to long, decimal or date fields only")
            continue
        try:
            bounds[constraint] = _bound_date(raw) if kind == "date" else _bound_number(raw, whole=kind == "long")
        except ValueError:
            expected = {"date": "a date as YYYY-MM-DD", "long": "a whole number", "decimal": "a number"}[kind]
            found.append(f"{constraint} must be {expected}, not '{raw}'")
    if len(bounds) == 2 and bounds["min"] > bounds["max"]:
        found.append("min is greater than max")
    return found


def _day_bound(raw: str | None, pick=max) -> str | None:
    """A date bound as the form compares it: ``today`` is the day of the answer (a payout cannot be dated
    in the future), anything else a YYYY-MM-DD day. Today is the latest (for a max; the earliest for a min)
    of today's dates in the jurisdictions served, so that 00:30 in Warsaw is already the new day."""
    if not raw:
        return None
    if raw != TODAY:
        return raw
    now = utcnow()
    return pick(now.astimezone(zone).date() for zone in ZONES.values()).isoformat()


def _bound_date(raw: str) -> date:
    """A date bound exactly as the form compares it: YYYY-MM-DD (not 20240101, 2024-W01-1 or with spaces),
    or ``today``."""
    if raw == TODAY:
        return utcnow().date()
    day = date.fromisoformat(raw)
    if day.isoformat() != raw:
        raise ValueError(raw)
    return day


def _bound_number(raw: str, whole: bool) -> Decimal:
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(raw) from None
    if not number.is_finite() or (whole and number != number.to_integral_value()):
        raise ValueError(raw)
    return number
