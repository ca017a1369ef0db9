"""Business calendars for internal SLAs: working hours per weekday, the country's public holidays and the
company's closure days. A complaint uses its team's calendar in its country, else the country's.

Statutory clocks never use these (see deadlines.py): closure days do not extend what the law allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import BusinessCalendar, ClosureDay, StatutoryCalendar, User
from .access import require_role
from .deadlines import CALENDARS, UK_REGIONS, ZONES, forget_legal_calendars, holiday_dates
from .errors import Conflict, InvalidInput, NotFound

WEEKDAYS = 7
DEFAULT_HOURS = {
    "PL": [["08:00", "16:00"]] * 5 + [None, None],
    "GB": [["09:00", "17:00"]] * 5 + [None, None],
    "UA": [["09:00", "18:00"]] * 5 + [None, None],
}
NAMES = {"PL": "Poland", "GB": "United Kingdom", "UA": "Ukraine"}
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Calendar:
    """A calendar ready for counting (plain data, no database)."""

    name: str
    country: str
    hours: tuple  # per weekday: (time, time) or None
    closures: frozenset[date]

    @property
    def zone(self):
        return ZONES[self.country]

    def day_off(self, day: date) -> bool:
        return (self.hours[day.weekday()] is None or day in self.closures
                or day in holiday_dates(self.country, day.year))

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start`` (counted in local time, so a
        daylight-saving change never shifts a working day)."""
        if duration <= timedelta(0):
            return start
        local = start.astimezone(self.zone)
        day, left = local.date(), duration
        for _day in range(3660):  # ten years of days: a calendar with no working day at all ends here
            if not self.day_off(day):
                opens, closes = self.hours[day.weekday()]
                begin = datetime.combine(day, opens, self.zone)
                end = datetime.combine(day, closes, self.zone)
                begin = max(begin, local)
                if begin < end:
                    if end - begin >= left:
                        return (begin + left).astimezone(start.tzinfo)
                    left -= end - begin
            day += timedelta(days=1)
        raise Conflict(_("the calendar %(name)s has no working time", name=self.name))


def _parse_hours(rows: list) -> tuple:
    return tuple(None if row is None else (time.fromisoformat(row[0]), time.fromisoformat(row[1])) for row in rows)


def _from_row(row: BusinessCalendar) -> Calendar:
    return Calendar(row.name, row.country, _parse_hours(row.hours), frozenset(c.day for c in row.closures))


def default_calendar(country: str) -> Calendar:
    return Calendar(NAMES.get(country, country), country, _parse_hours(DEFAULT_HOURS[country]), frozenset())


CACHE_SECONDS = 10.0


def calendar_for(country: str, team: str | None) -> Calendar:
    """The team's calendar in ``country``, else the country's, else the built-in working week (read
    once every few seconds per app: admins rarely change them, and their own saves refresh it)."""
    cache = current_app.extensions.setdefault("complaints.calendars", {"at": -CACHE_SECONDS, "rows": {}})
    if monotonic() - cache["at"] > CACHE_SECONDS:
        rows = db.session.scalars(select(BusinessCalendar).options(selectinload(BusinessCalendar.closures)))
        cache["rows"] = {(row.country, row.team): _from_row(row) for row in rows}
        cache["at"] = monotonic()
    found = cache["rows"].get((country, team)) or cache["rows"].get((country, None))
    return found or default_calendar(country)


def forget_calendars() -> None:
    current_app.extensions.pop("complaints.calendars", None)


def seed_calendars() -> None:
    """One calendar per country (idempotent); admins edit them."""
    for country in CALENDARS:
        exists = db.session.scalar(select(BusinessCalendar.id).where(
            BusinessCalendar.country == country, BusinessCalendar.team.is_(None)))
        if exists is None:
            db.session.add(BusinessCalendar(name=NAMES[country], country=country, team=None,
                                            hours=DEFAULT_HOURS[country]))
    db.session.flush()


def list_calendars(actor: User) -> list[BusinessCalendar]:
    require_role(actor, "admin")
    return list(db.session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.country,
                                                                      BusinessCalendar.team)))


def _calendar(calendar_id: int) -> BusinessCalendar:
    row = db.session.get(BusinessCalendar, calendar_id)
    if row is None:
        raise NotFound(_("no calendar %(id)s", id=calendar_id))
    return row


def clean_hours(values: list[tuple[str, str]]) -> list:
    """Seven (opens, closes) pairs of "HH:MM" (both empty: a day off) -> the stored form."""
    if len(values) != WEEKDAYS:
        raise InvalidInput(_("give the hours of all seven days"))
    hours = []
    for opens, closes in values:
        opens, closes = (opens or "").strip(), (closes or "").strip()
        if not opens and not closes:
            hours.append(None)
            continue
        if not (_HHMM.match(opens) and _HHMM.match(closes)) or opens >= closes:
            raise InvalidInput(_("working hours are HH:MM to a later HH:MM, e.g. 08:00 to 16:00"))
        hours.append([opens, closes])
    if all(h is None for h in hours):
        raise InvalidInput(_("a calendar needs at least one working day"))
    return hours


def save_calendar(actor: User, calendar_id: int | None, *, name: str, country: str, team: str | None,
                  hours: list) -> BusinessCalendar:
    require_role(actor, "admin")
    name, team = (name or "").strip(), (team or "").strip() or None
    if not name or len(name) > 120:
        raise InvalidInput(_("give the calendar a name (at most 120 characters)"))
    if country not in CALENDARS:
        raise InvalidInput(_("the country must be one of %(countries)s", countries=", ".join(CALENDARS)))
    clash = db.session.scalar(select(BusinessCalendar).where(
        BusinessCalendar.country == country, BusinessCalendar.team.is_(None) if team is None
        else BusinessCalendar.team == team))
    row = _calendar(calendar_id) if calendar_id is not None else BusinessCalendar()
    if clash is not None and clash is not row:
        raise Conflict(_("%(country)s already has a calendar for this team: %(name)s", country=country,
                         name=clash.name))
    same_name = db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == name))
    if same_name is not None and same_name is not row:
        raise Conflict(_("a calendar named %(name)s exists already", name=name))
    row.name, row.country, row.team, row.hours = name, country, team, clean_hours(hours)
    db.session.add(row)
    db.session.flush()
    forget_calendars()
    return row


def add_closure(actor: User, calendar_id: int, day: str, reason: str) -> ClosureDay:
    require_role(actor, "admin")
    row = _calendar(calendar_id)
    try:
        when = date.fromisoformat((day or "").strip())
    except ValueError:
        raise InvalidInput(_("the closure day must be a date as YYYY-MM-DD")) from None
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise InvalidInput(_("say why the company is closed (at most 200 characters)"))
    if any(c.day == when for c in row.closures):
        raise Conflict(_("%(day)s is already a closure day", day=when.isoformat()))
    closure = ClosureDay(day=when, reason=reason)
    row.closures.append(closure)
    db.session.flush()
    forget_calendars()
    return closure


def remove_closure(actor: User, closure_id: int) -> None:
    require_role(actor, "admin")
    closure = db.session.get(ClosureDay, closure_id)
    if closure is None:
        raise NotFound(_("no closure day %(id)s", id=closure_id))
    db.session.delete(closure)
    db.session.flush()
    forget_calendars()


def legal_calendars(actor: User) -> list[StatutoryCalendar]:
    require_role(actor, "admin")
    return list(db.session.scalars(select(StatutoryCalendar).order_by(StatutoryCalendar.country)))


def save_legal_calendar(actor: User, country: str, *, region: str | None, worked_from: str | None,
                        worked_until: str | None, note: str | None) -> StatutoryCalendar:
    """Which public holidays count for a country's statutory deadlines: the part of the UK whose bank holidays
    the handling office follows, and a period in which public holidays are working days (Ukraine under
    martial law). Deadlines counted from now on follow it; those counted before keep their day."""
    require_role(actor, "admin")
    if country not in CALENDARS:
        raise InvalidInput(_("the country must be one of %(countries)s", countries=", ".join(CALENDARS)))
    region = (region or "").strip() or None
    if region is not None and (country != "GB" or region not in UK_REGIONS):
        raise InvalidInput(_("a region is one of the UK's: %(regions)s", regions=", ".join(UK_REGIONS)))
    try:
        start = date.fromisoformat(worked_from) if worked_from else None
        end = date.fromisoformat(worked_until) if worked_until else None
    except ValueError:
        raise InvalidInput(_("the days are dates as YYYY-MM-DD")) from None
    if end is not None and (start is None or end < start):
        raise InvalidInput(_("the period in which holidays are worked ends after it starts"))
    row = db.session.get(StatutoryCalendar, country) or StatutoryCalendar(country=country)
    row.region = region if country == "GB" else None
    row.holidays_worked_from, row.holidays_worked_until = start, end
    row.note = (note or "").strip()[:500] or None
    db.session.add(row)
    db.session.flush()
    forget_legal_calendars()
    return row
