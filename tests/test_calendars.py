"""Business calendars: internal SLAs in working hours (public holidays, closure days, daylight saving),
edited by admins; statutory deadlines never move for a closure day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints_app.domain import calendars
from complaints_app.domain.deadlines import RULES, compute, holiday_dates
from complaints_app.domain.errors import Conflict, InvalidInput
from complaints_app.extensions import db
from complaints_app.models import BusinessCalendar

WARSAW = ZoneInfo("Europe/Warsaw")
LONDON = ZoneInfo("Europe/London")
PL = calendars.default_calendar("PL")  # Monday to Friday, 08:00-16:00
GB = calendars.default_calendar("GB")  # Monday to Friday, 09:00-17:00


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


@pytest.mark.parametrize("start, hours, expected", [
    # Friday 15:00 + 4 h: one hour on Friday, three on Monday.
    (local(WARSAW, 2026, 11, 20, 15), 4, local(WARSAW, 2026, 11, 23, 11)),
    # Tuesday 10 Nov 12:00 + 8 h: Wednesday 11 Nov is Independence Day.
    (local(WARSAW, 2026, 11, 10, 12), 8, local(WARSAW, 2026, 11, 12, 12)),
    # Registered in the evening: the clock starts the next morning.
    (local(WARSAW, 2026, 11, 23, 21), 2, local(WARSAW, 2026, 11, 24, 10)),
    # Over Christmas: 24 Dec (a public holiday in Poland from 2025), 25, 26 Dec, the weekend.
    (local(WARSAW, 2026, 12, 23, 15), 2, local(WARSAW, 2026, 12, 28, 9)),
    # Daylight saving starts on Sunday 29 Mar 2026: Monday still opens at 08:00 local time.
    (local(WARSAW, 2026, 3, 27, 15), 4, local(WARSAW, 2026, 3, 30, 11)),
    # And ends on Sunday 25 Oct 2026.
    (local(WARSAW, 2026, 10, 23, 14), 4, local(WARSAW, 2026, 10, 26, 10)),
])
def test_working_hours_skip_nights_weekends_and_public_holidays(app, start, hours, expected):
    with app.test_request_context():
        assert PL.add_working_time(start.astimezone(timezone.utc), timedelta(hours=hours)) == expected


def test_england_and_wales_bank_holidays(app):
    with app.test_request_context():  # Friday 3 Apr 2026 is Good Friday, Monday 6 Apr Easter Monday
        assert GB.add_working_time(local(LONDON, 2026, 4, 2, 16), timedelta(hours=3)) == local(LONDON, 2026, 4, 7, 11)


def test_closure_days_move_internal_deadlines_but_never_statutory_ones(app):
    closed = calendars.Calendar("Warsaw office", "PL", PL.hours, frozenset({date(2026, 11, 23)}))
    with app.test_request_context():
        assert closed.add_working_time(local(WARSAW, 2026, 11, 20, 15), timedelta(hours=4)) == local(
            WARSAW, 2026, 11, 24, 11)
        # The statutory rules know nothing of closures: pl-consumer-14d is due as the Civil Code says.
        assert compute("pl-consumer-14d", date(2026, 11, 9)).due == date(2026, 11, 23)


WORKING_HOURS = st.lists(st.one_of(st.none(), st.tuples(st.integers(6, 11), st.integers(12, 20))),
                         min_size=7, max_size=7).filter(lambda days: any(days))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                          timezones=st.just(timezone.utc)),
       minutes=st.integers(1, 60 * 24 * 20), days=WORKING_HOURS,
       closures=st.sets(st.dates(date(2025, 1, 1), date(2029, 3, 1)), max_size=20))
def test_an_internal_deadline_always_ends_inside_working_hours(app, start, minutes, days, closures):
    hours = tuple(None if d is None else (time(d[0]), time(d[1])) for d in days)
    calendar = calendars.Calendar("any", "PL", hours, frozenset(closures))
    with app.test_request_context():
        due = calendar.add_working_time(start, timedelta(minutes=minutes))
        moment = due.astimezone(WARSAW)
        assert due > start
        assert not calendar.day_off(moment.date())
        opens, closes = hours[moment.weekday()]
        assert opens < moment.time() <= closes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=st.sampled_from(sorted(r.id for r in RULES.values() if r.shift)),
       received=st.dates(date(2024, 1, 1), date(2029, 12, 31)))
def test_a_shifting_rule_never_ends_on_a_non_working_day(app, rule, received):
    with app.test_request_context():
        due = compute(rule, received).due
        assert due.weekday() < 5
        assert due not in holiday_dates(RULES[rule].jurisdiction, due.year)
        assert due > received


def test_the_teams_calendar_comes_before_the_countrys(app, people):
    calendars.save_calendar(people.admin, None, name="Billing night shift", country="PL", team="billing_team",
                            hours=[("14:00", "22:00")] * 5 + [("", ""), ("", "")])
    assert calendars.calendar_for("PL", "billing_team").name == "Billing night shift"
    assert calendars.calendar_for("PL", "front_office").name == "Poland"
    assert calendars.calendar_for("GB", "billing_team").name == "United Kingdom"


@pytest.mark.parametrize("hours, error", [
    ([("08:00", "16:00")] * 6, InvalidInput),  # six days
    ([("16:00", "08:00")] + [("", "")] * 6, InvalidInput),  # closes before it opens
    ([("8", "16")] + [("", "")] * 6, InvalidInput),
    ([("", "")] * 7, InvalidInput),  # never open
])
def test_bad_hours_are_refused(app, people, hours, error):
    with pytest.raises(error):
        calendars.save_calendar(people.admin, None, name="Bad", country="PL", team="x", hours=hours)


def test_one_calendar_per_country_and_team(app, people):
    hours = [("09:00", "17:00")] * 5 + [("", ""), ("", "")]
    with pytest.raises(Conflict):
        calendars.save_calendar(people.admin, None, name="Second Poland", country="PL", team=None, hours=hours)


def test_the_first_contact_sla_counts_working_hours_of_the_complaints_calendar(people, register, open_task):
    friday = local(WARSAW, 2026, 11, 20, 15)  # normal priority: 16 working hours
    with time_machine.travel(friday, tick=False):
        complaint = register(people.staff, received_at=friday)
    assert complaint.priority == "normal"
    # Friday 15-16 (1 h), Monday 8-16 (8 h), Tuesday 8-15 (7 h).
    assert open_task(complaint, "First contact").due_at == local(WARSAW, 2026, 11, 24, 15)
    calendar = db.session.scalar(db.select(BusinessCalendar).where(
        BusinessCalendar.country == "PL", BusinessCalendar.team.is_(None)))
    calendars.add_closure(people.admin, calendar.id, "2026-11-23", "Company away day")
    db.session.commit()
    with time_machine.travel(friday, tick=False):
        later = register(people.staff, received_at=friday)
    assert open_task(later, "First contact").due_at == local(WARSAW, 2026, 11, 25, 15)
    assert later.statutory_due_on == complaint.statutory_due_on  # the law's clock ignores the closure


def test_admins_edit_hours_and_closure_days_on_the_calendar_page(login, people):
    admin = login(people.admin)
    page = admin.get("/admin/calendars").data.decode()
    assert "Poland" in page and "United Kingdom" in page and "Ukraine" in page
    calendar = db.session.scalar(db.select(BusinessCalendar).where(
        BusinessCalendar.name == "United Kingdom"))
    form = {"name": "United Kingdom", "country": "GB", "team": ""}
    for day in range(7):
        form[f"opens_{day}"], form[f"closes_{day}"] = ("08:30", "17:30") if day < 5 else ("", "")
    assert admin.post(f"/admin/calendars/{calendar.id}", data=form).status_code == 302
    db.session.refresh(calendar)
    assert calendar.hours[0] == ["08:30", "17:30"] and calendar.hours[6] is None
    bad = admin.post(f"/admin/calendars/{calendar.id}/closures", data={"day": "31.12.2026", "reason": "x"},
                     follow_redirects=True).data.decode()
    assert "YYYY-MM-DD" in bad
    admin.post(f"/admin/calendars/{calendar.id}/closures", data={"day": "2026-12-31", "reason": "Stocktaking"})
    db.session.refresh(calendar)
    assert [(c.day, c.reason) for c in calendar.closures] == [(date(2026, 12, 31), "Stocktaking")]
    assert "Stocktaking" in admin.get("/admin/calendars").data.decode()
    admin.post(f"/admin/closures/{calendar.closures[0].id}/delete")
    db.session.refresh(calendar)
    assert calendar.closures == []
    assert login(people.supervisor).get("/admin/calendars").status_code == 403


def test_triage_sets_the_internal_resolution_target_in_working_hours(people, register, login):
    friday = local(WARSAW, 2026, 11, 20, 15)  # normal priority: 80 working hours, ten working days
    with time_machine.travel(friday, tick=False):
        complaint = register(people.staff, received_at=friday)
    # Friday 15-16, then nine full days (Mon 23 Nov - Thu 3 Dec) and seven hours on Friday 4 Dec.
    assert complaint.resolution_due_at == local(WARSAW, 2026, 12, 4, 15)
    page = login(people.staff).get(f"/complaints/{complaint.reference}").data.decode()
    assert "Internal resolution target" in page


def test_a_calendar_with_no_working_time_is_a_clear_error(app):
    closed = calendars.Calendar("Closed", "PL", tuple([None] * 7), frozenset())
    with app.test_request_context(), pytest.raises(Conflict, match="no working time"):
        closed.add_working_time(local(WARSAW, 2026, 11, 20, 15), timedelta(hours=1))
