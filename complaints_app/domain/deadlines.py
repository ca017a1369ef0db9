"""Statutory deadlines as data: each rule's clock, counted with the jurisdiction's public holidays.

Every computed date comes with its reasoning (each day skipped and why), so staff and auditors can check
it. Statutory clocks use public holidays only (company closure days never extend them), as each
jurisdiction's legal calendar says: which part of the UK's bank holidays count, and when Ukraine's public
holidays are working days (martial law).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from babel.dates import format_date
from time import monotonic

from flask import current_app, has_app_context, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import StatutoryCalendar
from .errors import InvalidInput, NotFound

ZONES = {"PL": ZoneInfo("Europe/Warsaw"), "GB": ZoneInfo("Europe/London"), "UA": ZoneInfo("Europe/Kyiv")}
# The public-holiday tables each jurisdiction's statutory days are counted with (``holidays`` countries).
CALENDARS = {"PL": "PL", "GB": "GB", "UA": "UA"}
# The parts of the UK whose bank holidays a handling office may follow (FCA Glossary, "business day").
UK_REGIONS = {"ENG": _l("England and Wales"), "SCT": _l("Scotland"), "NIR": _l("Northern Ireland")}


@dataclass(frozen=True)
class LegalCalendar:
    """Which public holidays are days off for a jurisdiction's statutory deadlines: those of ``region``
    (GB), except in a period when the law makes them working days (Ukraine under martial law). Admins keep
    it under Admin → Calendars (``StatutoryCalendar``); these are the defaults when nobody has."""

    country: str
    region: str | None = None
    holidays_worked_from: date | None = None
    holidays_worked_until: date | None = None
    note: str | None = None

    def holidays_worked_on(self, day: date) -> bool:
        """Whether public holidays are ordinary working days on ``day``."""
        return (self.holidays_worked_from is not None and self.holidays_worked_from <= day
                and (self.holidays_worked_until is None or day <= self.holidays_worked_until))


DEFAULT_CALENDARS = {
    "PL": LegalCalendar("PL"),
    "GB": LegalCalendar("GB", region="ENG"),
    "UA": LegalCalendar("UA", holidays_worked_from=date(2022, 3, 24),
                        note="Martial law: public holidays are working days (Law No. 2136-IX, art. 6(6))"),
}
CALENDAR_CACHE_SECONDS = 10.0


def legal_calendar(jurisdiction: str) -> LegalCalendar:
    """The jurisdiction's statutory calendar as admins set it (read at most every few seconds per process),
    or the default outside the app (the CLI before ``init``, pure tests)."""
    if not has_app_context() or "sqlalchemy" not in current_app.extensions:
        return DEFAULT_CALENDARS[jurisdiction]
    cache = current_app.extensions.setdefault("complaints.statutory_calendars", {"at": -CALENDAR_CACHE_SECONDS})
    if monotonic() - cache["at"] > CALENDAR_CACHE_SECONDS:
        try:  # in a savepoint: a failed read must not end the caller's transaction
            with db.session.begin_nested():
                rows = {row.country: LegalCalendar(row.country, row.region, row.holidays_worked_from,
                                                   row.holidays_worked_until, row.note)
                        for row in db.session.scalars(select(StatutoryCalendar))}
        except SQLAlchemyError:  # a database not made yet (``init`` runs the migrations first)
            rows = {}
        cache.update(rows=rows, at=monotonic())
    return cache["rows"].get(jurisdiction) or DEFAULT_CALENDARS[jurisdiction]


def forget_legal_calendars() -> None:
    if has_app_context():
        current_app.extensions.pop("complaints.statutory_calendars", None)


@dataclass(frozen=True)
class Rule:
    id: str
    jurisdiction: str
    count: int
    unit: str  # "days" (calendar), "business_days", "months"
    shift: bool  # an end on a weekend or public holiday moves to the next working day
    source: str
    consequence: str
    extends: str | None = None
    # The letters that answer the complaint under this rule: the first of them to go out (e-mailed, or
    # posted) stops the clock.
    answers: tuple[str, ...] = ("final_response",)
    deemed_accepted: bool = False  # unanswered in time, the customer's claim counts as accepted
    # The notice an extension to this rule needs (its letter type), when the rule is an extension.
    notice: str | None = None


# Act of 5 August 2015, art. 8: a financial-market entity that does not answer in time loses the complaint.
ART_8 = _l("unanswered in time: decided in the customer's favour (art. 8)")

RULES = {rule.id: rule for rule in (
    Rule("pl-consumer-14d", "PL", 14, "days", True,
         _l("Civil Code art. 111 (day of receipt not counted), art. 115 (end moves off weekends and holidays); "
            "Consumer Rights Act art. 7a"), _l("unanswered in time: deemed accepted (art. 7a(2))"),
         deemed_accepted=True),
    Rule("pl-financial-30d", "PL", 30, "days", True,
         _l("Act of 5 August 2015 on complaints handled by financial-market entities, art. 6; sending counts"),
         ART_8, deemed_accepted=True),
    Rule("pl-financial-60d", "PL", 60, "days", True,
         _l("Act of 5 August 2015, art. 7: particularly complex cases, with a notice giving reasons, what is "
            "still to be established and the date"),
         ART_8, extends="pl-financial-30d",
         deemed_accepted=True, notice="holding_letter"),
    Rule("pl-payment-15bd", "PL", 15, "business_days", True,
         _l("Act of 5 August 2015, art. 7a: payment services, 15 business days; sending counts"),
         ART_8, deemed_accepted=True),
    Rule("pl-payment-35bd", "PL", 35, "business_days", True,
         _l("Act of 5 August 2015, art. 7a: particularly complex payment-services cases, 35 business days, with "
            "a notice giving reasons, what is still to be established and the date"),
         ART_8, extends="pl-payment-15bd",
         deemed_accepted=True, notice="holding_letter"),
    Rule("uk-disp-summary-3bd", "GB", 3, "business_days", False,
         _l("FCA DISP 1.5: resolved by close of business on the third business day after receipt"),
         _l("after it: a final response is needed"), answers=("summary_resolution",)),
    Rule("uk-disp-final-8w", "GB", 56, "days", False,
         _l("FCA DISP 1.6.2R: a final response, or a response explaining the delay, within eight weeks"),
         _l("the customer may refer the complaint to the Financial Ombudsman Service"),
         answers=("final_response", "delay_response")),
    Rule("uk-psd-15bd", "GB", 15, "business_days", False,
         _l("FCA DISP 1.6.2AR (payment services): 15 business days after receipt"),
         _l("the customer may refer the complaint to the Financial Ombudsman Service")),
    Rule("uk-psd-35bd", "GB", 35, "business_days", False,
         _l("FCA DISP 1.6.2AR: exceptionally 35 business days, with a holding reply giving the reasons and the "
            "date"), _l("the customer may refer the complaint to the Financial Ombudsman Service"),
         extends="uk-psd-15bd", notice="holding_letter"),
    Rule("ua-appeal-15d", "UA", 15, "days", True,
         _l("Law of Ukraine on Citizens' Appeals art. 20: 15 days when no further study is needed; "
            "Civil Code art. 254(5): an end on a day off moves to the next working day"), _l("breach of the Law")),
    Rule("ua-appeal-1m", "UA", 1, "months", True,
         _l("Law of Ukraine on Citizens' Appeals art. 20: one month; Civil Code art. 254(5): an end on a day off "
            "moves to the next working day"), _l("breach of the Law")),
    Rule("ua-appeal-45d", "UA", 45, "days", True,
         _l("Law of Ukraine on Citizens' Appeals art. 20: 45 days at most, the head setting the time and telling "
            "the customer"), _l("breach of the Law"), extends="ua-appeal-1m", notice="holding_letter"),
)}


@dataclass(frozen=True)
class Deadline:
    rule: Rule
    received: date
    due: date
    explanation: list[str]

    def as_dict(self) -> dict:
        return {"rule": self.rule.id, "received": self.received.isoformat(), "due": self.due.isoformat(),
                "explanation": self.explanation, "source": str(self.rule.source),
                "consequence": str(self.rule.consequence)}


@lru_cache(maxsize=64)
def _holidays(jurisdiction: str, region: str | None, first_year: int) -> holidays.HolidayBase:
    """Public holidays of three years from ``first_year`` (built once per process). Ukraine's are all its
    statutory holidays, those the library files as working days under martial law too: whether they are
    days off is the legal calendar's to say (``LegalCalendar.holidays_worked_on``)."""
    categories = ("public", "workday") if jurisdiction == "UA" else ("public",)
    return holidays.country_holidays(CALENDARS[jurisdiction], subdiv=region, categories=categories,
                                     years=range(first_year, first_year + 3))


@lru_cache(maxsize=256)
def _holiday_set(calendar: LegalCalendar, year: int) -> frozenset[date]:
    return frozenset(day for day in _holidays(calendar.country, calendar.region, year - 1)
                     if day.year == year and not calendar.holidays_worked_on(day))


def holiday_dates(jurisdiction: str, year: int) -> frozenset[date]:
    """The public holidays that are days off in ``year`` (a set lookup, where asking the ``holidays`` object
    converts the key every time: calendars ask for every day they count)."""
    return _holiday_set(legal_calendar(jurisdiction), year)


def _why_not_working(day: date, calendar: LegalCalendar) -> str | None:
    if day.weekday() == 5:
        return _("Saturday")
    if day.weekday() == 6:
        return _("Sunday")
    if day in _holiday_set(calendar, day.year):
        return _("public holiday: %(name)s", name=_holidays(calendar.country, calendar.region, day.year).get(day))
    return None


def receipt_date(received_at: datetime, jurisdiction: str) -> date:
    """The day of receipt is the date in the jurisdiction's time zone."""
    return received_at.astimezone(ZONES[jurisdiction]).date()


def _weekday(day: date) -> str:
    """The day's name in the reader's language (English outside a request: the CLI, the API's default)."""
    return format_date(day, "EEEE", locale=(get_locale() if has_request_context() else None) or "en")


def compute(rule_id: str, received: date) -> Deadline:
    """The due date of ``rule_id`` for a complaint received on ``received``, with the reasoning."""
    rule = RULES.get(rule_id)
    if rule is None:
        raise NotFound(_("no deadline rule %(rule)s; rules are %(rules)s", rule=rule_id, rules=", ".join(RULES)))
    calendar = legal_calendar(rule.jurisdiction)
    lines = [_("Received on %(day)s (%(weekday)s).", day=received.isoformat(), weekday=_weekday(received))]
    if calendar.region:
        lines.append(_("Bank holidays of %(region)s count (where the complaint is handled).",
                       region=UK_REGIONS.get(calendar.region, calendar.region)))
    if calendar.holidays_worked_from and calendar.holidays_worked_on(received):
        lines.append(_("Public holidays are working days now (%(note)s): only weekends are days off.",
                       note=calendar.note or _("as the law provides")))
    if rule.unit == "days":
        due = received + timedelta(days=rule.count)
        lines.append(_("The day of receipt is not counted; %(count)s days end on %(day)s.", count=rule.count,
                       day=due.isoformat()))
    elif rule.unit == "months":
        due = received + relativedelta(months=rule.count)
        lines.append(_("%(count)s month(s) after the day of receipt: %(day)s.", count=rule.count,
                       day=due.isoformat()))
    else:
        due, counted = received, 0
        while counted < rule.count:
            due += timedelta(days=1)
            reason = _why_not_working(due, calendar)
            if reason:
                lines.append(_("%(day)s is skipped: %(reason)s.", day=due.isoformat(), reason=reason))
            else:
                counted += 1
        lines.append(_("Business day %(count)s after the day of receipt: %(day)s.", count=rule.count,
                       day=due.isoformat()))
    if rule.shift:
        while reason := _why_not_working(due, calendar):
            lines.append(_("%(day)s is not a working day (%(reason)s): the period ends on the next day.",
                           day=due.isoformat(), reason=reason))
            due += timedelta(days=1)
    lines.append(_("Due: %(day)s (%(source)s).", day=due.isoformat(), source=rule.source))
    return Deadline(rule, received, due, lines)


def is_working_day(day: date, jurisdiction: str) -> bool:
    """Neither a weekend nor one of the jurisdiction's public holidays."""
    return day.weekday() < 5 and day not in holiday_dates(jurisdiction, day.year)


def next_working_day(day: date, jurisdiction: str) -> date:
    """The first working day after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day, jurisdiction):
        day += timedelta(days=1)
    return day


def working_days_before(day: date, count: int, jurisdiction: str) -> date:
    """The day ``count`` working days (no weekend, no public holiday that is a day off) before ``day``."""
    return _working_days_before(day, count, legal_calendar(jurisdiction))


@lru_cache(maxsize=4096)
def _working_days_before(day: date, count: int, calendar: LegalCalendar) -> date:
    while count > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5 and day not in _holiday_set(calendar, day.year):
            count -= 1
    return day


YEARS = range(1900, 2201)  # what a receipt date can be: calendars and holidays are counted within these


def parse_received(text: str) -> date:
    try:
        received = date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput(_("received must be a date as YYYY-MM-DD")) from None
    if received.year not in YEARS:
        raise InvalidInput(_("received must be a date between %(first)d and %(last)d",
                             first=YEARS[0], last=YEARS[-1]))
    return received


def extension_of(rule_id: str | None) -> Rule | None:
    """The rule that extends ``rule_id`` (e.g. pl-financial-60d for pl-financial-30d), if the law allows one."""
    return next((rule for rule in RULES.values() if rule.extends == rule_id), None)
