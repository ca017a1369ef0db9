"""How letters reach the customer: the channel the law and the customer's request give, the print queue (one
PDF per run, each letter followed by its enclosures), the day posted (what keeps a Polish financial
entity's deadline), post that comes back."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from complaints_app.domain import clock_tick, letter_store
from complaints_app.domain.enclosures import upload
from complaints_app.domain.letter_delivery import channel_for
from complaints_app.domain.letters import issue_letter, render_letter
from complaints_app.domain.post import assemble_batch, make_batch, record_posted
from complaints_app.extensions import db
from complaints_app.models import Letter, Notification, PrintBatch
from complaints_app.tasks.jobs import deliver_letter
from tests.test_letters import complaint_at, flat, text_of  # noqa: F401 (the fixture)

WARSAW = ZoneInfo("Europe/Warsaw")


def leaflet(pages: int = 3) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_channel_follows_the_law_and_the_customers_request(people, complaint_at):
    financial = complaint_at("PL", "financial", "pl")
    assert channel_for(financial) == "post"  # art. 5: on paper unless the customer asked for e-mail
    asked = complaint_at("PL", "financial", "pl", answer_by="email")
    assert channel_for(asked) == "email" and asked.answer_by_recorded_at is not None
    consumer = complaint_at("PL", "consumer", "pl")
    assert channel_for(consumer) == "email"
    consumer.customer.email = None
    assert channel_for(consumer) == "post"  # no e-mail address: paper
    british = complaint_at("GB", "financial", "en", answer_by="post")
    assert channel_for(british) == "post"


def test_a_paper_letter_waits_in_the_print_queue_and_its_posting_day_stops_the_clock(people, complaint_at,
                                                                                    login):
    complaint = complaint_at("PL", "financial", "pl", received_at=datetime.now(timezone.utc))  # 30 days, on paper
    ack = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    render_letter(ack.id)
    db.session.commit()
    assert (ack.channel, ack.delivery_state) == ("post", "to_post")
    assert deliver_letter(ack.id) is False  # a paper letter is never e-mailed
    answer = issue_letter(complaint, "final_response", task_id="t-final", actor=people.investigator,
                          context={"decision": "rejected", "texts": {"decision_reasons": "Autoryzowano PIN-em."}})
    db.session.commit()
    render_letter(answer.id)
    db.session.commit()
    client = login(people.staff)
    page = client.get("/post").data.decode()
    assert f"{complaint.reference}/{answer.number}" in page and "Anna Nowak" in page
    assert client.post("/post/runs").status_code == 302
    batch = db.session.scalars(select(PrintBatch)).one()
    assert batch.letter_count == 2 and batch.status == "assembling"
    assert assemble_batch(batch.id) is True and assemble_batch(batch.id) is False  # once
    db.session.commit()
    pdf = letter_store.read(batch.pdf_sha256)
    reader = PdfReader(io.BytesIO(pdf))
    cover = reader.pages[0].extract_text()
    assert "Wydruk pism do wysłania" in cover or "Letters to post" in cover
    assert f"{complaint.reference}/{ack.number}" in cover and f"{complaint.reference}/{answer.number}" in cover
    assert len(reader.pages) % 2 == 0  # every document starts on a front side
    assert complaint.clock_next_at is not None and complaint.answered_at is None  # written is not sent
    # Posted before the deadline: the law's deadline is kept by sending.
    posted_on = datetime.now(WARSAW).date()
    assert posted_on < complaint.statutory_due_on
    future = client.post(f"/post/runs/{batch.id}/posted", data={"posted_on": (posted_on + timedelta(days=9)).isoformat()})
    assert future.status_code == 302 and answer.status == "rendered"  # a day to come is refused
    response = client.post(f"/post/runs/{batch.id}/posted", data={"posted_on": posted_on.isoformat()})
    assert response.status_code == 302
    db.session.refresh(answer)
    db.session.refresh(complaint)
    assert answer.status == "sent" and answer.posted_on == posted_on
    assert complaint.answered_at.astimezone(WARSAW).date() == posted_on and complaint.clock_next_at is None
    assert clock_tick.tick(complaint.id, now=datetime.now(timezone.utc) + timedelta(days=90)) is None  # no breach
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "posted" in page and "The answer went out: the statutory deadline is kept" in page


def test_a_print_run_puts_each_letters_enclosures_behind_it(people, complaint_at):
    upload(people.admin, "fos_leaflet", "fos.pdf", leaflet(3))
    complaint = complaint_at("GB", "financial", "en", answer_by="post")
    letter = issue_letter(complaint, "final_response", task_id="t-fos", actor=people.investigator,
                          context={"decision": "rejected", "texts": {}})
    db.session.commit()
    render_letter(letter.id)
    db.session.commit()
    assert [item["key"] for item in letter.context["enclosed"]] == ["fos_leaflet"]
    text = flat(text_of(letter_store.read(letter.pdf_sha256)))
    assert "We enclose the Financial Ombudsman Service’s leaflet" in text
    assert "Enclosures: 1. Financial Ombudsman Service leaflet" in text
    ack = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id,
                                                 Letter.letter_type == "acknowledgement"))
    render_letter(ack.id)
    db.session.commit()
    batch = make_batch(people.staff, date.today())
    db.session.commit()
    assemble_batch(batch.id)
    db.session.commit()
    reader = PdfReader(io.BytesIO(letter_store.read(batch.pdf_sha256)))
    pages = [page.extract_text() or "" for page in reader.pages]
    final_at = next(i for i, t in enumerate(pages) if "Our final response to your complaint" in t)
    letter_pages = len(PdfReader(io.BytesIO(letter_store.read(letter.pdf_sha256))).pages)
    after = final_at + letter_pages + (letter_pages % 2)  # the letter, padded to a sheet, then the leaflet
    assert all(not pages[i].strip() for i in range(after, after + 3))  # the three blank leaflet pages
    assert batch.page_count == len(reader.pages)


def test_without_the_leaflet_the_letter_gives_the_ombudsmans_details_and_the_admin_is_warned(people, complaint_at,
                                                                                            login):
    complaint = complaint_at("GB", "payment_services", "en")
    letter = issue_letter(complaint, "final_response", task_id="t-nofos", actor=people.investigator,
                          context={"decision": "upheld", "texts": {}})
    db.session.commit()
    render_letter(letter.id)
    text = flat(text_of(letter_store.read(letter.pdf_sha256)))
    assert "You can find out how at www.financial-ombudsman.org.uk" in text and "Enclosures" not in text
    page = login(people.admin).get("/admin/letterheads").data.decode()
    assert "Not uploaded: UK final and delay responses give the ombudsman’s details" in page
    refused = login(people.admin).post("/admin/enclosures/fos_leaflet", data={
        "file": (io.BytesIO(b"%PDF-1.4 not really a pdf"), "leaflet.pdf")}, content_type="multipart/form-data")
    assert refused.status_code == 302 and db.session.scalar(select(PrintBatch)) is None
    from complaints_app.models import Enclosure

    assert db.session.get(Enclosure, "fos_leaflet") is None  # a broken file changes nothing


def test_returned_post_is_recorded_and_the_handlers_are_told(people, complaint_at, login):
    complaint = complaint_at("PL", "financial", "pl")
    ack = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    render_letter(ack.id)
    batch = make_batch(people.staff, date.today())
    assemble_batch(batch.id)
    record_posted(people.staff, batch.id, date.today())
    db.session.commit()
    client = login(people.staff)
    assert client.post(f"/letters/{ack.id}/returned", data={"reason": "Adresat nieznany"}).status_code == 302
    db.session.refresh(ack)
    assert ack.returned_reason == "Adresat nieznany" and ack.returned_at is not None
    alert = db.session.scalars(select(Notification).where(Notification.complaint_id == complaint.id,
                                                          Notification.kind == "letter_returned",
                                                          Notification.user_id == people.supervisor.id)).one()
    from complaints_app.domain import notify

    assert "Adresat nieznany" in notify.sentence(alert)
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "Came back" in page and "Adresat nieznany" in page
    # Sent again (the customer gave another address meanwhile): back in the print queue.
    assert client.post(f"/letters/{ack.id}/resend", data={"channel": "post"}).status_code == 302
    db.session.refresh(ack)
    assert ack.delivery_state == "to_post" and ack.print_batch_id is None


def test_a_paper_letter_to_a_customer_without_a_postal_address_stops_and_says_so(people, complaint_at, login):
    complaint = complaint_at("PL", "financial", "pl")
    customer = complaint.customer
    customer.street = customer.postcode = customer.city = customer.country = None
    db.session.commit()
    ack = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    render_letter(ack.id)
    db.session.commit()
    assert ack.delivery_state == "no_address"
    assert db.session.scalars(select(Notification).where(Notification.complaint_id == complaint.id,
                                                         Notification.kind == "letter_no_address")).first()
    page = login(people.staff).get(f"/complaints/{complaint.reference}").data.decode()
    assert "The customer has no postal address: add it, then send the letter." in page
    refused = login(people.staff).post(f"/letters/{ack.id}/resend", data={"channel": "post"})
    assert refused.status_code == 302
    db.session.refresh(ack)
    assert ack.delivery_state == "no_address"  # nothing changed
