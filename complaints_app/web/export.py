"""The complaint list as CSV, every matching row, streamed: for machines (stable English column names, stored
codes, ISO times in UTC, a comma) or for a spreadsheet in the reader's language (a byte-order mark so Excel
reads UTF-8, the separator and decimal mark Excel expects in that language, translated headings and words,
local times)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from babel.numbers import format_decimal, get_decimal_symbol
from flask_babel import get_locale, lazy_gettext as _l, to_user_timezone

from ..domain.terms import term

CHUNK = 64 * 1024
# (machine name, spreadsheet heading)
COLUMNS = (
    ("reference", _l("Reference")), ("status", _l("Status")), ("received_at", _l("Received")),
    ("customer", _l("Customer")), ("customer_email", _l("E-mail")), ("customer_phone", _l("Phone")),
    ("channel", _l("Channel")), ("category", _l("Category")), ("product", _l("Product or order")),
    ("claimed_amount", _l("Amount claimed")), ("currency", _l("Currency")), ("jurisdiction", _l("Jurisdiction")),
    ("regime", _l("Regime")), ("team", _l("Team")), ("priority", _l("Priority")),
    ("statutory_rule", _l("Statutory rule")), ("statutory_due_on", _l("Statutory deadline")),
    ("resolution_due_at", _l("Internal resolution target")), ("closed_at", _l("Closed")))


def csv_lines(complaints: Iterable, spreadsheet: bool = False) -> Iterator[str]:
    """The CSV text, a line at a time (the first one starts with a byte-order mark for a spreadsheet), from
    rows of ``search.EXPORTED``."""
    locale = get_locale()
    comma_decimal = spreadsheet and get_decimal_symbol(locale) == ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if comma_decimal else ",")

    def taken() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    if spreadsheet:
        out.write("\ufeff")
        writer.writerow([str(heading) for _name, heading in COLUMNS])
        rows = (_spreadsheet_row(c, locale) for c in complaints)
    else:
        writer.writerow([name for name, _heading in COLUMNS])
        rows = (_machine_row(c) for c in complaints)
    yield taken()
    for row in rows:
        writer.writerow(row)
        if out.tell() >= CHUNK:  # sent in pieces of ~64 kB, not a line at a time
            yield taken()
    yield taken()


def _machine_row(c) -> list:
    return [c.reference, c.status, c.received_at.isoformat(), _text(c.customer_name), _text(c.customer_email),
            _text(c.customer_phone), c.channel, c.category, _text(c.product), c.claimed_amount, c.currency,
            c.jurisdiction, c.regime, _text(c.team), c.priority, c.statutory_rule, _iso(c.statutory_due_on),
            _iso(c.resolution_due_at), _iso(c.closed_at)]


def _spreadsheet_row(c, locale) -> list:
    amount = "" if c.claimed_amount is None else format_decimal(c.claimed_amount, "0.00", locale=locale)
    return [c.reference, term("status", c.status), _local(c.received_at), _text(c.customer_name),
            _text(c.customer_email), _text(c.customer_phone), term("channel", c.channel),
            term("category", c.category), _text(c.product), amount, c.currency, c.jurisdiction,
            term("regime", c.regime), term("team", c.team), term("priority", c.priority),
            term("rule", c.statutory_rule), _iso(c.statutory_due_on),
            _local(c.resolution_due_at), _local(c.closed_at)]


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _local(moment) -> str:
    """A moment in the reader's time zone as spreadsheets read it: 2026-12-01 00:30."""
    return to_user_timezone(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _text(value: str | None) -> str:
    # A cell starting with = + - @ (or a tab or carriage return before one) runs as a formula in a spreadsheet.
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
