"""Pages: forms, errors beside fields, CSRF, headers, the login limit, CSV."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from babel.dates import format_date
from sqlalchemy import select

from complaints_app.extensions import db
from complaints_app.models import Complaint


def test_security_headers_and_a_strict_csp(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in response.data


def test_forms_without_a_csrf_token_are_refused(client, people):
    response = client.post("/login", data={"username": people.staff.username, "password": "correct horse battery"})
    assert response.status_code == 400 and b"reload the page" in response.data
    page = client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": people.staff.username, "password": "correct horse battery",
                                           "csrf_token": token})
    assert response.status_code == 302


def test_wrong_password_and_the_login_rate_limit(rate_limited, people):
    client = rate_limited
    statuses = [client.post("/login", data={"username": f"nobody-{i}", "password": "nope"},
                            environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code for i in range(11)]
    response = client.post("/login", data={"username": people.staff.username, "password": "nope"},
                           environ_base={"REMOTE_ADDR": "10.9.8.6"})
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    assert b"Wrong username or password" in response.data


def test_next_never_leaves_the_site(web, people):
    response = web.post("/login?next=https://evil.example/x",
                        data={"username": people.staff.username, "password": "correct horse battery"})
    assert response.headers["Location"] == "/inbox"


def test_register_shows_errors_beside_fields_and_creates_nothing(login, people):
    client = login(people.staff)
    before = db.session.scalar(select(Complaint.id).order_by(Complaint.id.desc()).limit(1))
    response = client.post("/complaints/new", data={"customer_name": "", "customer_email": "not-an-email",
                                                    "description": "", "claimed_amount": "-3", "channel": "pigeon"})
    assert response.status_code == 400
    html = response.data.decode()
    for field in ("customer_name", "customer_email", "description", "claimed_amount", "channel"):
        assert f'id="{field}-error"' in html, field
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]  # one list of it all, at the top
    assert "10 fields to correct" in summary  # the five above and the lists left empty
    assert '<a href="#customer_email">E-mail: Invalid email address.</a>' in summary
    assert html.index("error-summary") < html.index('id="customer_name"')
    assert 'aria-describedby="contact-hint customer_email-error"' in html  # the rule is read with the field
    neither = client.post("/complaints/new", data={"customer_name": "Ola", "description": "Broken"}).data.decode()
    assert '<a href="#customer_phone">Phone: Give the customer&#39;s e-mail or phone.</a>' in neither
    assert db.session.scalar(select(Complaint.id).order_by(Complaint.id.desc()).limit(1)) == before


def test_register_then_complete_a_task_with_a_bad_value_first(login, people):
    client = login(people.staff)
    response = client.post("/complaints/new", data={
        "customer_name": "Ola", "customer_phone": "+48 600 100 200", "channel": "phone", "category": "billing",
        "description": "Charged twice", "claimed_amount": "59.90", "currency": "PLN", "language": "pl",
        "jurisdiction": "PL", "regime": "consumer"})
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/complaints/{reference}").data.decode()
    task_path = re.search(r'href="(/tasks/[0-9a-f-]+)"', page).group(1)
    bad = client.post(task_path, data={"fc_resolved": "maybe", "fc_summary": ""})
    assert bad.status_code == 400
    html = bad.data.decode()
    assert 'id="f-fc_resolved-error"' in html and 'id="f-fc_summary-error"' in html
    assert "2 fields to correct" in html and 'href="#f-fc_resolved-true"' in html and 'id="f-fc_resolved-true"' in html
    assert "the form has errors" not in html  # the list says it; no second message above it
    good = client.post(task_path, data={"fc_resolved": "true", "fc_summary": "Refunded the double charge"})
    assert good.status_code == 302
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
    assert complaint.status == "awaiting_customer" and complaint.team == "billing_team"


def test_csv_export_lists_visible_complaints_and_defuses_formulas(login, people, register):
    register(people.staff, product="=HYPERLINK(\"http://x\")")
    client = login(people.staff)
    body = client.get("/complaints.csv").data.decode()
    assert body.splitlines()[0].startswith("reference,status")
    assert "'=HYPERLINK" in body


def test_the_list_finds_complaints_by_customer_and_the_csv_names_customer_and_deadlines(login, people, register):
    import csv
    import io

    complaint = register(people.staff, product="Toaster T2")
    client = login(people.staff)
    email = complaint.customer.email
    page = client.get(f"/complaints?q={email[:9].upper()}").data.decode()
    assert complaint.reference in page
    assert complaint.reference not in client.get("/complaints?q=nobody-like-this").data.decode()
    assert complaint.reference in client.get("/complaints?q=Kowalski+Jan+toaster").data.decode()  # any order
    assert complaint.reference not in client.get("/complaints?q=Kowalski+Anna").data.decode()
    rows = list(csv.DictReader(io.StringIO(client.get(f"/complaints.csv?q={email}").data.decode())))
    (row,) = [r for r in rows if r["reference"] == complaint.reference]
    assert (row["customer"], row["customer_email"]) == ("Jan Kowalski", email)
    assert row["statutory_due_on"] == complaint.statutory_due_on.isoformat() and row["closed_at"] == ""


def test_password_change(login, people):
    client = login(people.staff2)
    bad = client.post("/password", data={"current": "wrong", "new": "another long one", "repeat": "another long one"})
    assert bad.status_code == 400 and b"not right" in bad.data
    good = client.post("/password", data={"current": "correct horse battery", "new": "another long one",
                                          "repeat": "another long one"})
    assert good.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"username": people.staff2.username,
                                       "password": "another long one"}).status_code == 302


def test_a_supervisor_reassigns_and_filters_the_inbox(login, people, register, open_task):
    complaint = register(people.staff)
    task = open_task(complaint)
    client = login(people.supervisor)
    page = client.get(f"/tasks/{task.id}").data.decode()
    assert "Give this task to" in page and people.staff2.display_name in page
    assert people.investigator.display_name not in page.split("Give this task to")[1]
    assert client.post(f"/tasks/{task.id}/reassign", data={"assignee": str(people.staff2.id)}).status_code == 302
    db.session.refresh(task)
    assert task.assignee_id == people.staff2.id
    refused = client.post(f"/tasks/{task.id}/reassign", data={"assignee": str(people.investigator.id)})
    assert refused.status_code == 302
    db.session.refresh(task)
    assert task.assignee_id == people.staff2.id
    staff = login(people.staff)
    assert "Give this task to" not in staff.get(f"/tasks/{task.id}").data.decode()
    staff.post(f"/tasks/{task.id}/reassign", data={"assignee": str(people.staff.id)})
    db.session.refresh(task)
    assert task.assignee_id == people.staff2.id
    urgent = login(people.staff2).get("/inbox?scope=mine&priority=urgent").data.decode()
    assert complaint.reference not in urgent
    normal = login(people.staff2).get("/inbox?scope=mine&priority=normal").data.decode()
    assert complaint.reference in normal


def test_the_inbox_orders_by_priority_or_age(login, people, register):
    low = register(people.staff, claimed_amount=None)
    high = register(people.staff, claimed_amount=5000)
    client = login(people.staff)
    page = client.get("/inbox?scope=available&sort=priority").data.decode()
    assert page.index(high.reference) < page.index(low.reference)
    page = client.get("/inbox?scope=available&sort=newest").data.decode()
    assert page.index(high.reference) < page.index(low.reference)
    page = client.get("/inbox?scope=available&sort=oldest").data.decode()
    assert page.index(low.reference) < page.index(high.reference)


def test_a_task_added_to_the_diagram_gets_its_page(login, people, register, open_task, complete):
    from pathlib import Path

    from complaints_app.domain import processes

    variant = Path(__file__).resolve().parents[1] / "data" / "variant"
    processes.deploy(processes.read_files([variant]), people.owner, "adds a quality review")
    db.session.commit()
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint), fc_resolved=False, fc_summary="no")
    complete(people.supervisor, open_task(complaint), escalation_approved=True, escalation_comment="go")
    complete(people.investigator, open_task(complaint), root_cause="policy", decision="rejected",
             decision_reasons="Not covered")
    review = open_task(complaint, "Quality review")
    client = login(people.supervisor)
    page = client.get(f"/tasks/{review.id}").data.decode()
    assert "<h1>Quality review</h1>" in page and 'name="qr_ok"' in page and 'name="qr_note"' in page
    assert client.post(f"/tasks/{review.id}", data={"qr_ok": "true", "qr_note": "Fine"}).status_code == 302
    db.session.refresh(review)
    assert review.state == "completed"


def test_a_letter_received_earlier_keeps_its_receipt_time(login, people):
    client = login(people.staff)
    response = client.post("/complaints/new", data={**_FORM, "received_at": "2026-11-02T09:30"})
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[1]
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
    assert complaint.received_at.isoformat() == "2026-11-02T08:30:00+00:00"  # Warsaw is UTC+1 in November
    future = client.post("/complaints/new", data={**_FORM, "received_at": "2999-01-01T10:00"})
    assert future.status_code == 400 and b'id="received_at-error"' in future.data


_FORM = {"customer_name": "Ola", "customer_phone": "+48 600 100 200", "channel": "letter", "category": "billing",
         "description": "Charged twice", "claimed_amount": "59.90", "currency": "PLN", "language": "pl",
         "jurisdiction": "PL", "regime": "consumer"}


def test_the_complaint_page_shows_the_statutory_deadline_and_its_reasoning(login, people, register):
    complaint = register(people.staff)  # Polish consumer complaint: pl-consumer-14d
    page = login(people.staff).get(f"/complaints/{complaint.reference}").data.decode()
    assert "Statutory deadline" in page and "How it was counted" in page
    assert "The day of receipt is not counted; 14 days end on" in page


def test_deadlines_are_counted_at_triage_and_the_at_risk_view_lists_the_close_ones(login, people, register):
    from datetime import date, datetime, timezone

    import time_machine

    from complaints_app.domain.deadlines import compute

    soon = register(people.staff)  # received now: due in 14 days or so
    late = register(people.staff, received_at=datetime(2026, 10, 28, 9, tzinfo=timezone.utc))
    assert late.statutory_due_on == compute("pl-consumer-14d", date(2026, 10, 28)).due
    with time_machine.travel(datetime(2026, 11, 13, 12, tzinfo=timezone.utc), tick=False):
        page = login(people.supervisor).get("/at-risk?days=3").data.decode()
    assert late.reference in page and "breached" in page
    assert "<h2>front office" in page and "front_office" not in page  # the team by its name
    assert soon.reference not in page  # due in about two weeks
    assert login(people.staff).get("/at-risk").status_code == 403


def test_an_at_risk_window_that_is_not_a_number_of_days_says_so_and_shows_the_default(login, people, register):
    from datetime import datetime, timezone

    late = register(people.staff, received_at=datetime(2026, 10, 28, 9, tzinfo=timezone.utc))
    client = login(people.supervisor)
    for asked in ("ten", "100", "-2"):
        page = client.get(f"/at-risk?days={asked}").data.decode()
        assert f"“{asked}” is not a number of working days from 0 to 60; showing 3." in page
        assert f'value="{asked}" aria-invalid="true"' in page  # what was typed stays, marked
        assert late.reference in page  # the default window still answers
    page = client.get("/at-risk?days=<b>x</b>").data.decode()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "is not a number" not in client.get("/at-risk?days=60").data.decode()


def test_extending_a_financial_deadline_records_why_and_writes_the_holding_letter(login, people, register):
    from complaints_app.domain.deadlines import compute, receipt_date
    from complaints_app.domain.letters import letter_pdf, render_letter
    from complaints_app.models import AuditEvent, Letter
    from tests.test_letters import text_of

    complaint = register(people.staff, regime="financial")
    assert complaint.statutory_rule == "pl-financial-30d"
    staff, supervisor = login(people.staff), None
    assert "Extend to" not in staff.get(f"/complaints/{complaint.reference}").data.decode()
    supervisor = login(people.supervisor)
    assert "Extend to pl-financial-60d" in supervisor.get(f"/complaints/{complaint.reference}").data.decode()
    circumstances = "Whether the card payment was authorised by the customer."
    short = supervisor.post(f"/complaints/{complaint.reference}/extend", data={"reasons": "busy",
                                                                                "circumstances": circumstances})
    assert short.status_code == 302
    db.session.refresh(complaint)
    assert complaint.statutory_rule == "pl-financial-30d"  # refused: the customer must be told why
    reasons = "We are waiting for the card scheme's chargeback report."
    no_circumstances = supervisor.post(f"/complaints/{complaint.reference}/extend", data={"reasons": reasons})
    assert no_circumstances.status_code == 302
    db.session.refresh(complaint)
    assert complaint.statutory_rule == "pl-financial-30d"  # art. 7: what is still to be established, too
    assert supervisor.post(f"/complaints/{complaint.reference}/extend",
                           data={"reasons": reasons, "circumstances": circumstances}).status_code == 302
    db.session.refresh(complaint)
    expected = compute("pl-financial-60d", receipt_date(complaint.received_at, "PL")).due
    assert (complaint.statutory_rule, complaint.statutory_due_on) == ("pl-financial-60d", expected)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.complaint_id == complaint.id,
                                                       AuditEvent.kind == "deadline_extended"))
    assert event.data["reasons"] == reasons and event.data["from"] == "pl-financial-30d"
    letter = db.session.get(Letter, event.data["letter"])
    render_letter(letter.id)
    db.session.commit()
    _, path = letter_pdf(people.supervisor, letter.id)
    text = " ".join(text_of(path.read_bytes()).split())
    assert reasons.replace("'", "’") in text and circumstances in text and "60 dni" in text
    assert f"{format_date(expected, 'long', locale='pl_PL')} r." in text  # the expected day, the latest allowed
    again = supervisor.post(f"/complaints/{complaint.reference}/extend",
                            data={"reasons": reasons, "circumstances": circumstances})
    assert again.status_code == 302
    db.session.refresh(complaint)
    assert complaint.statutory_rule == "pl-financial-60d"  # 60 days is the most the law allows


def test_staff_record_a_withdrawal_from_the_complaint_page(login, people, register):
    complaint = register(people.staff)
    staff = login(people.staff)
    page = staff.get(f"/complaints/{complaint.reference}").data.decode()
    assert "Customer withdraws the complaint" in page or "Withdrawal received" in page
    assert "This ends every open task of the complaint." in page
    url = f"/complaints/{complaint.reference}/messages"
    blank = staff.post(url, data={"name": "complaint_withdrawn", "reason": ""}, follow_redirects=True)
    assert "give the reason" in blank.data.decode()
    db.session.refresh(complaint)
    assert complaint.status == "open"
    done = staff.post(url, data={"name": "complaint_withdrawn", "reason": "Customer changed their mind"},
                      follow_redirects=True).data.decode()
    db.session.refresh(complaint)
    assert complaint.status == "withdrawn"
    assert "Customer changed their mind" in done  # in the history
    assert "This ends every open task" not in done


def test_ids_beyond_any_row_are_404_pages(login, people):
    client = login(people.admin)
    for path in ("/letters/99999999999999999999", "/attachments/2147483648", "/letters/2147483647"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("typed, stored", [("1500,50", "1500.50"), ("1 500,50", "1500.50"), ("1500.50", "1500.50"),
                                           ("1\u00a0500", "1500.00")])
def test_an_amount_is_read_as_people_type_it(login, people, typed, stored):
    client = login(people.staff)
    response = client.post("/complaints/new", data={
        "customer_name": "Ola Lis", "customer_email": f"ola{abs(hash(typed))}@example.com", "language": "pl",
        "channel": "phone", "category": "product", "description": "Broken", "claimed_amount": typed,
        "currency": "PLN", "jurisdiction": "PL", "regime": "consumer"})
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[1]
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
    assert str(complaint.claimed_amount) == stored


@pytest.mark.parametrize("typed", ["1,500.50", "1.500,50", "1,500", "12e3", "-5"])
def test_an_amount_that_could_be_read_two_ways_is_refused_not_guessed(login, people, typed):
    page = login(people.staff).post("/complaints/new", data={
        "customer_name": "Ola Lis", "customer_email": "ola.refused@example.com", "language": "pl",
        "channel": "phone", "category": "product", "description": "Broken", "claimed_amount": typed,
        "currency": "PLN", "jurisdiction": "PL", "regime": "consumer"})
    assert page.status_code == 400 and 'id="claimed_amount-error"' in page.data.decode()
    assert f'value="{typed}"' in page.data.decode()  # what was typed stays, to correct


def test_the_history_names_people_for_what_they_did_not_for_steps_the_process_took(login, people, register):
    complaint = register(people.staff)
    page = login(people.staff).get(f"/complaints/{complaint.reference}").data.decode()
    entries = re.findall(r"<li class=\"ev-[^\"]+\">.*?</li>", page, re.S)
    registered = next(e for e in entries if "Registered" in e)
    acknowledged = next(e for e in entries if "Send acknowledgement" in e)
    assert 'class="who"' in registered and 'class="who"' not in acknowledged


def test_the_spreadsheet_csv_reads_in_excel_as_the_page_does(login, people, register):
    import csv
    import io
    from decimal import Decimal

    complaint = register(people.staff, product="-2+3", claimed_amount=Decimal("1500.50"),
                         received_at=datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc))
    client = login(people.staff)
    client.post("/language", data={"language": "pl", "next": "/complaints"})
    listing = client.get("/complaints").data.decode()
    assert "complaints.csv?spreadsheet=1" in listing
    got = client.get("/complaints.csv?spreadsheet=1")
    assert got.headers["Content-Disposition"].endswith("complaints-spreadsheet.csv")
    body = got.data.decode("utf-8")
    assert body.startswith("\ufeffNumer;")  # the BOM tells Excel it is UTF-8; Polish Excel splits on ';'
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))
    (row,) = [r for r in rows if r["Numer"] == complaint.reference]
    assert row["Status"] == "otwarta" and row["Kanał"] == "telefon"
    assert row["Żądana kwota"] == "1500,50"
    assert row["Otrzymano"] == "2026-12-01 00:30"  # Warsaw time, as the page shows it
    assert row["Produkt lub zamówienie"] == "'-2+3"  # not a formula
    client.post("/language", data={"language": "en", "next": "/complaints"})
    english = client.get("/complaints.csv?spreadsheet=1").data.decode("utf-8")
    assert english.startswith("\ufeffReference,Status,Received")
    assert "1500.50" in english
    machine = client.get("/complaints.csv").data.decode("utf-8")
    assert machine.startswith("reference,status") and "2026-11-30T23:30:00+00:00" in machine


def test_received_day_filters_mean_the_readers_days(login, people, register):
    complaint = register(people.staff, received_at=datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc))
    client = login(people.staff)  # pages in Warsaw time: received on 1 December
    assert complaint.reference in client.get("/complaints?from=2026-12-01&to=2026-12-01").data.decode()
    assert complaint.reference not in client.get("/complaints?to=2026-11-30").data.decode()
    assert complaint.reference in client.get("/complaints.csv?from=2026-12-01").data.decode()


def test_the_export_reads_every_match_in_batches(app, people, register):
    from complaints_app.domain.search import Filters, every_match

    made = {register(people.staff).reference for _ in range(5)}
    assert made <= {c.reference for c in every_match(people.admin, Filters(), batch=2)}


def test_the_approvals_page_writes_the_authority_limits_as_money(login, people):
    client = login(people.supervisor)
    client.post("/language", data={"language": "pl", "next": "/approvals"})
    page = client.get("/approvals").data.decode()
    assert "1 000,00 zł" in page.replace("\xa0", " ").replace("\u202f", " ")
    assert "1000.00 PLN" not in page
    client.post("/language", data={"language": "en", "next": "/approvals"})
