"""Statutory deadlines: every rule across weekends, holidays, Easter and year-ends, with its reasoning."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints_app.domain.deadlines import RULES, compute, receipt_date

CASES = [
    # rule, received, due, why
    ("pl-consumer-14d", "2026-11-02", "2026-11-16", "14 days end on a Monday"),
    ("pl-consumer-14d", "2026-10-28", "2026-11-12", "ends on Independence Day (11 Nov): next day"),
    ("pl-consumer-14d", "2026-12-12", "2026-12-28", "ends on a Saturday that is also a holiday: Monday"),
    ("pl-consumer-14d", "2026-12-10", "2026-12-28", "Christmas Eve (a holiday since 2025), Christmas, weekend"),
    ("pl-consumer-14d", "2027-03-15", "2027-03-30", "ends on Easter Monday"),
    ("pl-financial-30d", "2026-11-30", "2026-12-30", "30 days, a Wednesday"),
    ("pl-financial-30d", "2026-12-02", "2027-01-04", "New Year's Day, then a weekend: across the year-end"),
    ("pl-financial-60d", "2026-11-02", "2027-01-04", "60 days end on Friday 1 January: Monday"),
    ("uk-disp-summary-3bd", "2026-11-20", "2026-11-25", "three business days after a Friday"),
    ("uk-disp-summary-3bd", "2026-12-23", "2026-12-30", "Christmas, Boxing Day observed and a weekend skipped"),
    ("uk-disp-final-8w", "2026-11-02", "2026-12-28", "56 days, not shifted even onto a bank holiday"),
    ("uk-psd-15bd", "2026-12-18", "2027-01-13", "15 business days across Christmas and New Year"),
    ("uk-psd-35bd", "2027-03-15", "2027-05-06", "35 business days across Easter and the early May bank holiday"),
    ("pl-payment-15bd", "2026-12-18", "2027-01-14", "15 Polish business days across Christmas, New Year "
                                                    "and Epiphany (6 January)"),
    ("pl-payment-35bd", "2027-03-15", "2027-05-05", "35 Polish business days across Easter Monday and 3 May"),
    ("ua-appeal-15d", "2026-12-20", "2027-01-04", "calendar days"),
    ("ua-appeal-1m", "2026-01-31", "2026-03-02", "one calendar month ends on Saturday 28 February: the next "
                                                "working day (Civil Code art. 254(5))"),
    ("ua-appeal-1m", "2026-07-24", "2026-08-24", "ends on Independence Day, a working day under martial law"),
    ("ua-appeal-1m", "2021-07-24", "2021-08-25", "before martial law Independence Day was a day off: next day"),
    ("ua-appeal-45d", "2026-11-16", "2026-12-31", "45 calendar days"),
]


@pytest.mark.parametrize("rule,received,due,why", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_rule_table(app, rule, received, due, why):
    result = compute(rule, date.fromisoformat(received))
    assert result.due.isoformat() == due, (why, result.explanation)
    assert result.explanation[-1].startswith(f"Due: {due}")


def test_the_reasoning_names_each_skipped_day(app):
    lines = compute("pl-consumer-14d", date(2026, 12, 10)).explanation
    assert any("2026-12-24" in line and "Christmas Eve" in line for line in lines)
    assert any("2026-12-26" in line and "Saturday" in line for line in lines)
    assert any("2026-12-27" in line and "Sunday" in line for line in lines)
    lines = compute("uk-psd-15bd", date(2026, 12, 18)).explanation
    assert any("2026-12-28" in line and "Boxing Day (observed)" in line for line in lines)


def test_the_day_of_receipt_is_the_jurisdictions_date_across_daylight_saving():
    # 23:30 UTC on 28 March 2026 is already 29 March in Warsaw (the clocks went forward that night)...
    late = datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc)
    assert receipt_date(late, "PL") == date(2026, 3, 29)
    # ...but still 28 March in London until 00:00 GMT, which is 01:00 BST after the change.
    assert receipt_date(late, "GB") == date(2026, 3, 28)
    assert receipt_date(datetime(2026, 10, 24, 21, 30, tzinfo=timezone.utc), "UA") == date(2026, 10, 25)


SHIFTING = sorted(rule_id for rule_id, rule in RULES.items() if rule.shift or rule.unit == "business_days")
DAYS_OFF = {"PL": {"country": "PL"}, "GB": {"country": "GB", "subdiv": "ENG"}}


@settings(max_examples=300, deadline=None)
@given(rule_id=st.sampled_from(SHIFTING), received=st.dates(date(2024, 1, 1), date(2030, 12, 31)))
def test_a_shifting_rule_never_ends_on_a_day_off(rule_id, received):
    rule = RULES[rule_id]
    due = compute(rule_id, received).due
    assert due.weekday() < 5 and due > received
    if rule.jurisdiction in DAYS_OFF:  # Ukraine's holidays are working days under martial law (below)
        assert due not in holidays.country_holidays(**DAYS_OFF[rule.jurisdiction],
                                                    years=range(received.year, received.year + 3))


def test_the_legal_calendar_is_data_an_admin_keeps(app):
    """The handling office's part of the UK decides which bank holidays count (FCA Glossary, business day);
    Ukraine's public holidays are days off again the day after martial law ends."""
    from complaints_app.domain.deadlines import forget_legal_calendars
    from complaints_app.extensions import db
    from complaints_app.models import StatutoryCalendar

    with app.test_request_context():
        # Thursday 31 Dec 2026: England skips New Year's Day only; Scotland 2 January (observed on Monday 4th) too.
        assert compute("uk-disp-summary-3bd", date(2026, 12, 31)).due == date(2027, 1, 6)
        db.session.get(StatutoryCalendar, "GB").region = "SCT"
        ukraine = db.session.get(StatutoryCalendar, "UA")
        ukraine.holidays_worked_until = date(2026, 7, 31)
        db.session.flush()
        forget_legal_calendars()
        scottish = compute("uk-disp-summary-3bd", date(2026, 12, 31))
        assert scottish.due == date(2027, 1, 7)
        assert any("Scotland" in line for line in scottish.explanation)
        assert compute("ua-appeal-1m", date(2026, 7, 24)).due == date(2026, 8, 25)  # Independence Day off again
        forget_legal_calendars()


def test_cli_and_api_give_the_same_answer(app, client, people):
    from complaints_app.domain.users import create_token
    from complaints_app.extensions import db

    result = app.test_cli_runner().invoke(args=["deadline", "--rule", "pl-consumer-14d",
                                                "--received", "2026-12-10", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["rule"], body["received"], body["due"]) == ("pl-consumer-14d", "2026-12-10", "2026-12-28")
    assert len(body["explanation"]) >= 4
    token = create_token(people.staff, "t")
    db.session.commit()
    response = client.get("/api/v1/deadlines?rule=pl-consumer-14d&received=2026-12-10",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["due"] == body["due"]
    assert response.json["explanation"] == body["explanation"]
    bad = client.get("/api/v1/deadlines?rule=nope&received=2026-12-10", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 404 and "pl-consumer-14d" in bad.json["error"]["message"]
    bad = client.get("/api/v1/deadlines?rule=pl-consumer-14d&received=10.12.2026",
                     headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400
    for rule, received in (("pl-consumer-14d", "9999-12-31"), ("ua-appeal-1m", "9999-12-20")):
        bad = client.get(f"/api/v1/deadlines?rule={rule}&received={received}",
                         headers={"Authorization": f"Bearer {token}"})
        assert bad.status_code == 400 and "between 1900 and 2200" in bad.json["error"]["message"]
    cli = app.test_cli_runner().invoke(args=["deadline", "--rule", "pl-consumer-14d", "--received", "9999-12-31"])
    assert cli.exit_code != 0 and "between 1900 and 2200" in cli.output and "Traceback" not in cli.output
    cli = app.test_cli_runner().invoke(args=["deadline", "--rule", "nope", "--received", "2026-12-10"])
    assert cli.exit_code == 1 and "no deadline rule" in cli.output


def test_every_rule_the_triage_table_names_is_known():
    triage = (Path(__file__).resolve().parent.parent / "bpmn" / "triage.dmn").read_text()
    named = set(re.findall(r"(?:&#34;|&quot;|\")([a-z]{2}-[a-z]+-[0-9a-z]+)(?:&#34;|&quot;|\")", triage))
    assert named and named <= set(RULES), named - set(RULES)


def test_the_at_risk_window_counts_each_countrys_working_days(app):
    from complaints_app.domain.search import horizon

    # Tuesday 10 Nov 2026, 3 working days: Poland skips Independence Day (Wed 11), England does not.
    assert horizon(date(2026, 11, 10), 3, "PL") == date(2026, 11, 16)
    assert horizon(date(2026, 11, 10), 3, "GB") == date(2026, 11, 13)


def test_admins_keep_the_legal_calendar_on_the_calendars_page(people, login):
    from complaints_app.extensions import db
    from complaints_app.models import StatutoryCalendar

    client = login(people.admin)
    page = client.get("/admin/calendars").data.decode()
    assert "Statutory calendars" in page and "England and Wales" in page and "2022-03-24" in page
    assert client.post("/admin/statutory-calendars/GB", data={"region": "NIR"}).status_code == 302
    assert db.session.get(StatutoryCalendar, "GB").region == "NIR"
    bad = client.post("/admin/statutory-calendars/UA", data={"holidays_worked_from": "2022-03-24",
                                                            "holidays_worked_until": "2020-01-01"})
    assert bad.status_code == 302 and db.session.get(StatutoryCalendar, "UA").holidays_worked_until is None
    assert client.post("/admin/statutory-calendars/UA", data={
        "holidays_worked_from": "2022-03-24", "holidays_worked_until": "2026-07-31",
        "note": "Martial law ended"}).status_code == 302
    assert compute("ua-appeal-1m", date(2026, 7, 24)).due == date(2026, 8, 25)
