"""Reports: complaints per week by channel, statutory deadlines kept, open by team, compensation paid."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from complaints_app.domain import clock_tick, reports
from complaints_app.extensions import db
from complaints_app.models.base import utcnow
from tests.test_paths import reviewed, send_letters

WARSAW = ZoneInfo("Europe/Warsaw")


def chart(page: str, chart_id: str) -> dict:
    found = re.search(rf"<canvas id=\"{chart_id}\" data-chart='([^']*)'", page)
    assert found, f"no chart {chart_id}"
    return json.loads(found.group(1).replace("&#34;", '"').replace("&amp;", "&"))


def pay(people, complaint, open_task, complete, amount: str) -> None:
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=False, fc_summary="Wants a refund")
    complete(people.supervisor, open_task(complaint, "Approve escalation"), escalation_approved=True,
             escalation_comment="For the customer centre")
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="product_defect",
             decision="upheld", decision_reasons="Defective batch")
    complete(people.investigator, open_task(complaint, "Adjust compensation"), compensation_amount=amount,
             compensation_note="As claimed")
    complete(people.supervisor, open_task(complaint, "Approve compensation"), compensation_approved=True,
             approval_comment="Within policy")
    reviewed(complaint, open_task, complete)
    complete(people.staff, open_task(complaint, "Record customer reply"), customer_reply="accept", reply_channel="phone")
    complete(people.staff, open_task(complaint, "Record payout"), payout_reference="TRX-9",
             paid_on=utcnow().astimezone(WARSAW).date().isoformat())


def test_the_weeks_count_each_channel_and_how_each_statutory_deadline_was_kept(people, register, open_task,
                                                                               complete):
    now = utcnow()
    register(people.staff, channel="phone")
    register(people.staff, channel="email")
    late = register(people.staff, channel="email", received_at=now - timedelta(days=21))
    kept = register(people.staff, channel="phone", received_at=now - timedelta(days=22))
    complete(people.staff, open_task(kept, "First contact"), fc_resolved=True, fc_summary="Replaced at the desk")
    send_letters(kept)  # answered when the answer goes out
    register(people.staff, channel="web", received_at=now - timedelta(days=7 * 13))  # before the 12 weeks
    assert clock_tick.tick(late.id, now=now) == "statutory_breached"  # its 14 days ran out unanswered
    db.session.commit()

    weekly = reports.weekly(people.owner, now.astimezone(WARSAW).date(), WARSAW)
    assert len(weekly["weeks"]) == 12 and weekly["weeks"][-1].weekday() == 0
    this, back = -1, [i for i, monday in enumerate(weekly["weeks"])
                      if monday <= (now - timedelta(days=21)).astimezone(WARSAW).date() < monday + timedelta(7)][0]
    assert weekly["received"]["phone"][this] == 1 and weekly["received"]["email"][this] == 1
    assert sum(weekly["received"]["phone"]) == 2 and sum(weekly["received"]["email"]) == 2
    assert "web" not in weekly["received"]  # only the last 12 weeks
    statutory = weekly["statutory"]
    assert statutory["running"][this] == 2 and sum(statutory["running"]) == 2
    assert statutory["breached"][back] == 1 and sum(statutory["breached"]) == 1
    assert sum(statutory["kept"]) == 1  # answered at first contact, in time


def test_the_reports_page_draws_each_chart_with_its_figures_in_the_readers_language(
        people, register, open_task, complete, login):
    register(people.staff, channel="phone")
    paid = register(people.staff, channel="email", claimed_amount=Decimal("250.00"))
    pay(people, paid, open_task, complete, "250.00")
    db.session.commit()
    client = login(people.supervisor)
    page = client.get("/reports").data.decode()
    assert 'href="/reports" aria-current="page">Reports</a>' in page
    received = chart(page, "chart-received")
    assert [s["name"] for s in received["series"]] == ["phone", "e-mail"]
    assert [s["values"][-1] for s in received["series"]] == [1, 1]
    open_now = chart(page, "chart-open")
    assert open_now["labels"] == ["front office"] and open_now["series"][0]["name"] == "open"
    assert open_now["series"][0]["values"] == [1]  # the paid one is resolved, no longer open
    money = chart(page, "chart-paid-pln")
    assert money["series"][0]["values"][-1] == 250.0 and money["money"] == "PLN"
    assert "PLN250.00" in page.replace("\xa0", "")  # the figures under it, as money
    client.post("/language", data={"language": "pl", "next": "/reports"})
    page = client.get("/reports").data.decode()
    assert "Reklamacje przyjęte w tygodniu, według kanału" in page and "2 otwarte reklamacje" not in page
    assert "1 otwarta reklamacja" in page
    assert [s["name"] for s in chart(page, "chart-received")["series"]] == ["telefon", "e-mail"]
    assert "250,00" in page and "zł" in page
    client.post("/language", data={"language": "en", "next": "/inbox"})


def test_reports_are_for_supervisors_owners_and_admins_and_count_only_what_the_reader_may_see(
        people, register, make_user, login):
    register(people.staff, channel="phone")
    db.session.commit()
    assert login(people.staff).get("/reports").status_code == 403
    assert login(people.investigator).get("/reports").status_code == 403
    assert "Reports" not in login(people.staff).get("/inbox").data.decode()
    other = make_user("supervisor", team="billing_team")
    page = login(other).get("/reports").data.decode()
    assert 'id="chart-received"' not in page and "No complaint was received in the last 12 weeks." in page
    assert 'id="chart-received"' in login(people.owner).get("/reports").data.decode()
