"""What people do about correspondence from the pages: internal notes, letters written in free text, the
review of an answer, the customer's postal address and their request for e-mail, the company's letterhead,
the published procedure."""

from __future__ import annotations

import re

from sqlalchemy import select

from complaints_app.domain.letters import render_letter
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, Complaint, Customer, Letter, Letterhead, Note, PublishedText
from tests.test_letters import flat, text_of
from tests.test_paths import escalate, render_drafts


def test_internal_notes_are_kept_searchable_and_never_reach_the_customer(people, register, login, open_task,
                                                                          complete):
    complaint = register(people.staff)
    client = login(people.staff)
    assert client.post(f"/complaints/{complaint.reference}/notes",
                       data={"body": "Customer sounded <b>angry</b>; offered a voucher"}).status_code == 302
    assert client.post(f"/complaints/{complaint.reference}/notes", data={"body": "  "}).status_code == 302
    assert db.session.scalars(select(Note).where(Note.complaint_id == complaint.id)).one().body.startswith("Customer")
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "Customer sounded &lt;b&gt;angry&lt;/b&gt;; offered a voucher" in page  # escaped, in the history
    assert "Internal note" in page
    found = client.get("/complaints?q=voucher").data.decode()
    assert complaint.reference in found
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True, fc_summary="Fixed",
             fc_answer="We fixed it")
    render_drafts(complaint)
    for letter in db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id)):
        _, path = __import__("complaints_app.domain.letters", fromlist=["letter_pdf"]).letter_pdf(people.staff,
                                                                                                   letter.id)
        assert "voucher" not in text_of(path.read_bytes())
    kinds = db.session.scalars(select(AuditEvent.data).where(AuditEvent.complaint_id == complaint.id,
                                                             AuditEvent.kind == "note_added")).all()
    assert kinds and "voucher" not in str(kinds)  # the audit keeps the note's id, not its text


def test_a_letter_written_in_free_text_is_previewed_numbered_sent_and_kept(people, register, login):
    complaint = register(people.staff)
    client = login(people.staff)
    page = client.get(f"/complaints/{complaint.reference}/write").data.decode()
    assert "Write to the customer" in page and "Polish" in page
    empty = client.post(f"/complaints/{complaint.reference}/write", data={"subject": "x", "body": "", "action": "send"})
    assert empty.status_code == 400 and db.session.scalar(select(Letter).where(
        Letter.complaint_id == complaint.id, Letter.letter_type == "correspondence")) is None
    body = "Prosimy o przesłanie zdjęcia paragonu.\n\n<script>alert(1)</script> {{ 7*7 }}"
    preview = client.post(f"/complaints/{complaint.reference}/write",
                          data={"subject": "Prośba o paragon", "body": body, "action": "preview"}).data.decode()
    assert "Szanowny Panie," in preview or "Szanowni Państwo," in preview
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in preview and "Send this letter" in preview
    assert f"{complaint.reference}/2" in preview  # the number it will have
    sent = client.post(f"/complaints/{complaint.reference}/write",
                       data={"subject": "Prośba o paragon", "body": body, "action": "send"})
    assert sent.status_code == 302
    letter = db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                     Letter.letter_type == "correspondence")).one()
    assert letter.number == 2 and letter.signed_by_id == people.staff.id and letter.context["subject"] == "Prośba o paragon"
    render_letter(letter.id)
    db.session.commit()
    text = flat(text_of(__import__("complaints_app.domain.letter_store", fromlist=["read"]).read(letter.pdf_sha256)))
    assert "Prośba o paragon" in text and "<script>alert(1)</script> {{ 7*7 }}" in text
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "Letter written: Prośba o paragon" in page and f"{complaint.reference}/2" in page


def test_an_answer_sent_back_at_review_never_goes_out_and_its_revision_does(people, register, open_task, complete):
    from complaints_app.tasks.jobs import deliver_letter

    complaint = register(people.staff)
    escalate(people, complaint, open_task, complete)
    complete(people.investigator, open_task(complaint, "Investigate"), root_cause="policy", decision="rejected",
             decision_reasons="Wear and tear is not covrered")
    render_drafts(complaint)
    first = db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                    Letter.letter_type == "final_response")).one()
    assert first.delivery_state == "review" and deliver_letter(first.id) is False
    review = open_task(complaint, "Review the final response")
    assert review.assignee_id == people.investigator.id  # whoever decided reviews
    from complaints_app.domain import tasks as task_ops
    from complaints_app.domain.errors import Forbidden

    try:
        task_ops.complete_task(people.investigator2, review.id, {"letter_approved": True})
    except Forbidden:
        db.session.rollback()
    else:
        raise AssertionError("another investigator approved someone else's letter")
    complete(people.investigator, review, letter_approved=False, review_comment="Typo in the reasons")
    db.session.refresh(first)
    assert first.status == "withdrawn" and deliver_letter(first.id) is False
    revise = open_task(complaint, "Revise the answer")
    assert revise.assignee_id == people.investigator.id
    complete(people.investigator, revise, decision_reasons="Wear and tear is not covered", remedy="")
    render_drafts(complaint)
    second = db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                     Letter.letter_type == "final_response",
                                                     Letter.id != first.id)).one()
    assert second.context["texts"]["decision_reasons"] == "Wear and tear is not covered"
    complete(people.investigator, open_task(complaint, "Review the final response"), letter_approved=True)
    db.session.refresh(second)
    assert second.reviewed_by_id == people.investigator.id and deliver_letter(second.id) is True
    assert complaint.status == "awaiting_customer"


def test_registration_takes_a_postal_address_checked_per_country_and_the_request_for_email(people, login):
    client = login(people.staff)
    form = {"customer_name": "Jan Kowalski", "customer_email": "jan.k@example.com", "language": "pl",
            "channel": "phone", "category": "product", "description": "Czajnik przecieka", "currency": "PLN",
            "jurisdiction": "PL", "regime": "financial", "customer_title": "mr", "customer_given_name": "Jan",
            "customer_family_name": "Kowalski", "customer_street": "ul. Długa 5", "customer_postcode": "00238",
            "customer_city": "Warszawa", "customer_country": "PL"}
    bad = client.post("/complaints/new", data={**form, "customer_postcode": "0023"})
    assert bad.status_code == 400 and "A postcode in PL looks like 00-001." in bad.data.decode()
    partial = client.post("/complaints/new", data={**form, "customer_street": ""})
    assert partial.status_code == 400 and "Give the street and number of the postal address." in partial.data.decode()
    assert db.session.scalar(select(Customer).where(Customer.email == "jan.k@example.com")) is None
    made = client.post("/complaints/new", data={**form, "answer_by_email": "y"})
    assert made.status_code == 302
    complaint = db.session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()
    customer = complaint.customer
    assert (customer.postcode, customer.title, customer.given_name) == ("00-238", "mr", "Jan")
    assert complaint.answer_by == "email" and complaint.answer_by_recorded_by_id == people.staff.id
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "ul. Długa 5, 00-238 Warszawa, PL" in page and "as the customer asked" in page


def test_the_api_takes_the_address_and_refuses_a_wrong_postcode_changing_nothing(people, client):
    from complaints_app.domain.users import create_token

    token = create_token(people.staff, "t")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"customer": {"name": "Sarah Jones", "email": "sarah.j@example.com", "title": "ms",
                         "family_name": "Jones", "address": {"street": "12 High Street", "postcode": "M1 1XX1",
                                                             "city": "Manchester", "country": "GB"}},
            "channel": "email", "category": "service", "description": "Late delivery", "currency": "GBP",
            "language": "en", "jurisdiction": "GB", "regime": "financial"}
    refused = client.post("/api/v1/complaints", json=body, headers=headers)
    assert refused.status_code == 400 and "customer.address.postcode" in refused.json["error"]["details"]["fields"]
    body["customer"]["address"]["postcode"] = "m11ae"
    made = client.post("/api/v1/complaints", json=body, headers=headers)
    assert made.status_code == 201
    assert made.json["customer"]["address"] == {"street": "12 High Street", "postcode": "M1 1AE",
                                                "city": "Manchester", "country": "GB"}
    noted = client.post(f"/api/v1/complaints/{made.json['reference']}/notes", json={"body": "Called back"},
                        headers=headers)
    assert noted.status_code == 201 and noted.json["notes"][0]["body"] == "Called back"
    letters = client.get(f"/api/v1/complaints/{made.json['reference']}", headers=headers).json["letters"]
    assert letters[0]["number"] == 1


def test_recording_how_the_customer_wants_answers(people, register, login):
    complaint = register(people.staff, regime="financial")
    client = login(people.staff)
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "by post" in page and "art. 5 of the Act of 5 August 2015" in page
    assert client.post(f"/complaints/{complaint.reference}/answer-channel", data={"channel": "email"}).status_code == 302
    db.session.refresh(complaint)
    assert complaint.answer_by == "email"
    assert "The customer asked for answers by e-mail" in client.get(f"/complaints/{complaint.reference}").data.decode()


def test_the_letterhead_is_the_admins_per_country_checked_field_by_field(people, login):
    client = login(people.admin)
    page = client.get("/admin/letterheads").data.decode()
    assert "example data: replace it before letters go to customers" in page
    head = db.session.get(Letterhead, "GB")
    form = {"legal_name": "Kettles UK Ltd", "street": "2 Mill Lane", "postcode": "eh1 1aa", "city": "Edinburgh",
            "phone": "+44 131 000 0000", "email": "complaints@kettles.example", "website": "www.kettles.example",
            "registration_company_number": "SC123456", "registration_registered_in": "Scotland",
            "registration_fca_frn": "12345", "signatory_name": "Morag Reid", "signatory_position_en": "Head of Complaints",
            "adr_name": "Retail ADR", "adr_website": "www.retailadr.org.uk", "adr_participation": "willing"}
    bad = client.post("/admin/letterheads/GB", data=form)
    assert bad.status_code == 400 and "Not a valid FCA firm reference number." in bad.data.decode()
    db.session.refresh(head)
    assert head.legal_name == "Example Retail UK Ltd"  # nothing changed
    assert client.post("/admin/letterheads/GB", data={**form, "registration_fca_frn": "123456",
                                                      "fos_waiver_consent": "1"}).status_code == 302
    db.session.refresh(head)
    assert (head.legal_name, head.postcode, head.is_example, head.fos_waiver_consent) == (
        "Kettles UK Ltd", "EH1 1AA", False, True)
    assert head.registration == {"company_number": "SC123456", "registered_in": "Scotland", "fca_frn": "123456"}
    sample = client.get("/admin/letters/final_response/en?place=GB-financial").data.decode()
    assert "Kettles UK Ltd" in sample and "company number SC123456" in sample
    assert "We consent to the Ombudsman considering your complaint" in sample
    assert "Example Retail Sp. z o.o." not in sample


def test_positions_are_kept_per_language_and_sign_the_letters(people, login):
    client = login(people.admin)
    response = client.post(f"/admin/users/{people.investigator.id}", data={
        "roles": ["customer_centre"], "language": "en", "active": "1", "position_pl": "Ekspert ds. reklamacji",
        "position_en": "Complaints expert", "position_uk": ""})
    assert response.status_code == 302
    db.session.refresh(people.investigator)
    assert people.investigator.position == {"pl": "Ekspert ds. reklamacji", "en": "Complaints expert"}
    assert people.investigator.position_in("uk") == "Ekspert ds. reklamacji"


def test_the_published_procedure_is_edited_per_language_and_rendered_safely(people, login, client):
    admin = login(people.admin)
    text = "# Nasze zasady\n\n- Odpowiadamy szybko\n\n<script>alert(1)</script> [x](javascript:alert(1))"
    assert admin.post("/admin/procedure", data={"language": "pl", "body": text}).status_code == 302
    assert db.session.get(PublishedText, ("standards", "pl")).body == text.strip()
    admin.post("/logout")
    page = client.get("/standards?lang=pl").data.decode()
    assert "<h1>Nasze zasady</h1>" in page and "<li>Odpowiadamy szybko</li>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page
    assert "Terminy odpowiedzi" in page and "14 dni; bez odpowiedzi w terminie reklamację uważa się za uznaną" in page
    ukrainian = client.get("/standards?lang=uk").data.decode()
    assert "Як ми розглядаємо скарги" in ukrainian and 'lang="uk"' in ukrainian
    assert re.search(r"ТОВ «Приклад Рітейл Україна»", ukrainian)
