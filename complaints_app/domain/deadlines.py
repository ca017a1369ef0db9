"""Statutory deadlines as data: each rule's clock, counted with the jurisdiction's public holidays.

Every computed date comes with its reasoning (each day skipped and why), so staff and auditors can check
it. Statutory clocks use public holidays only (company closure days never extend them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta
from babel.dates import format_date
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .errors import InvalidInput, NotFound

ZONES = {"PL": ZoneInfo("Europe/Warsaw"), "GB": ZoneInfo("Europe/London"), "UA": ZoneInfo("Europe/Kyiv")}
# England and Wales bank holidays for GB; Ukraine's calendar is not used (no shifting there).
CALENDARS = {"PL": {"country": "PL"}, "GB": {"country": "GB", "subdiv": "ENG"}, "UA": {"country": "UA"}}


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
    letters: tuple[str, ...] = field(default_factory=tuple)
    deemed_accepted: bool = False  # unanswered in time, the customer's claim counts as accepted


RULES = {rule.id: rule for rule in (
    Rule("pl-consumer-14d", "PL", 14, "days", True,
         _l("Civil Code art. 111 (day of receipt not counted), art. 115 (end moves off weekends and holidays); "
            "Consumer Rights Act art. 7a"), _l("unanswered in time: deemed accepted"), letters=("final_response",),
         deemed_accepted=True),
    Rule("pl-financial-30d", "PL", 30, "days", True,
         _l("Act of 5 August 2015 on complaints handled by financial-market entities, art. 6; sending counts"),
         _l("breach of the Act; the customer may go to the Financial Ombudsman"), letters=("final_response",)),
    Rule("pl-financial-60d", "PL", 60, "days", True,
         _l("Act of 5 August 2015, art. 7: particularly complex cases, with a notice giving reasons and the date"),
         _l("breach of the Act"), extends="pl-financial-30d", letters=("holding_letter", "final_response")),
    Rule("uk-disp-summary-3bd", "GB", 3, "business_days", False,
         _l("FCA DISP 1.5: resolved by close of business on the third business day after receipt"),
         _l("after it: a final response is needed"), letters=("summary_resolution",)),
    Rule("uk-disp-final-8w", "GB", 56, "days", False,
         _l("FCA DISP 1.6.2: final or delay response within eight weeks of receipt"),
         _l("the customer may refer the complaint to the Financial Ombudsman Service"), letters=("final_response",)),
    Rule("uk-psd-15bd", "GB", 15, "business_days", False,
         _l("FCA DISP 1.6.2A (payment services): 15 business days after receipt"),
         _l("the customer may refer the complaint to the Financial Ombudsman Service"), letters=("final_response",)),
    Rule("uk-psd-35bd", "GB", 35, "business_days", False,
         _l("FCA DISP 1.6.2A: exceptionally 35 business days, with a holding reply"), _l("as uk-psd-15bd"),
         extends="uk-psd-15bd", letters=("holding_letter", "final_response")),
    Rule("ua-appeal-15d", "UA", 15, "days", False,
         _l("Law of Ukraine on Citizens' Appeals art. 20: 15 days when no further study is needed"),
         _l("breach of the Law")),
    Rule("ua-appeal-1m", "UA", 1, "months", False, _l("Law of Ukraine on Citizens' Appeals art. 20: one month"),
         _l("breach of the Law")),
    Rule("ua-appeal-45d", "UA", 45, "days", False,
         _l("Law of Ukraine on Citizens' Appeals art. 20: 45 days at most"), _l("breach of the Law"),
         extends="ua-appeal-1m"),
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
def _holidays(jurisdiction: str, first_year: int) -> holidays.HolidayBase:
    """Public holidays of three years from ``first_year`` (built once per process)."""
    return holidays.country_holidays(**CALENDARS[jurisdiction], years=range(first_year, first_year + 3))


@lru_cache(maxsize=256)
def holiday_dates(jurisdiction: str, year: int) -> frozenset[date]:
    """The jurisdiction's public holidays in ``year`` as plain dates (a set lookup, where asking the
    ``holidays`` object converts the key every time: calendars ask for every day they count)."""
    return frozenset(day for day in _holidays(jurisdiction, year - 1) if day.year == year)


def _why_not_working(day: date, calendar) -> str | None:
    if day.weekday() == 5:
        return _("Saturday")
    if day.weekday() == 6:
        return _("Sunday")
    if day in calendar:
        return _("public holiday: %(name)s", name=calendar.get(day))
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
    calendar = _holidays(rule.jurisdiction, received.year)
    lines = [_("Received on %(day)s (%(weekday)s).", day=received.isoformat(), weekday=_weekday(received))]
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


@lru_cache(maxsize=4096)
def working_days_before(day: date, count: int, jurisdiction: str) -> date:
    """The day ``count`` working days (no weekend, no public holiday) before ``day``."""
    while count > 0:
        day -= timedelta(days=1)
        if is_working_day(day, jurisdiction):
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
