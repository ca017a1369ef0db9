"""Letters: every template in every language, mandatory clauses by jurisdiction, hostile text, one PDF."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pdfplumber
import pytest
from sqlalchemy import select

from complaints_app.domain.letters import letter_pdf, render_letter, renderer
from complaints_app.extensions import db
from complaints_app.letters import LANGUAGES, LetterError, LetterRenderer, SafeFetcher
from complaints_app.models import Letter

ROOT = Path(__file__).resolve().parent.parent / "letters"
COMPANY = {"name": "Example Sp. z o.o.", "address": "ul. Prosta 1", "email": "r@example.com", "phone": "+48 1"}


def text_of(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def context(**overrides) -> dict:
    values = {"reference": "C-2026-000042", "received_on": "2026-11-02", "today": "2026-11-23",
              "customer_name": "Zażółć gęślą jaźń / Ґанна Єрмак-Їжак і", "customer_email": "z@example.com",
              "description": "Ґанок: є і ї", "decision": "partly_upheld",
              "decision_reasons": "Ґанок: є і ї", "remedy": "", "compensation_amount": "120.00", "currency": "PLN",
              "jurisdiction": "PL", "regime": "consumer", "due_on": ""}
    values.update(overrides)
    return values


@pytest.fixture(scope="module")
def letters():
    return LetterRenderer(ROOT, COMPANY)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("letter_type", ["acknowledgement", "escalation_notice", "final_response", "holding_letter",
                                         "summary_resolution", "withdrawal_confirmation"])
def test_every_template_renders_in_every_language(letters, letter_type, language):
    assert letter_type in letters.letter_types()
    pdf, _ = letters.render(letter_type, language, context(delay_reasons="Ekspertyza: ґ", due_on="2026-12-20"))
    text = text_of(pdf)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert "OutputIntents" in document.doc.catalog  # PDF/A: the colour profile it declares
    # The name holds every Polish letter (ąćęłńóśźż) and the Ukrainian іїєґ.
    for expected in ("C-2026-000042", "2026-11-02", "r@example.com", "Zażółć gęślą jaźń / Ґанна Єрмак-Їжак і",
                     {"pl": "Strona 1", "en": "Page 1", "uk": "Сторінка 1"}[language]):
        assert expected in text, (letter_type, language, expected)
    assert "odr" not in text.lower()  # the EU ODR platform closed in 2025


CLAUSES = {
    ("PL", "consumer"): (["Podstawa prawna"], ["Rzecznik Finansowy", "Financial Ombudsman Service"]),
    ("PL", "financial"): (["odwołanie", "mediacja", "Rzecznik Finansowy"], ["Financial Ombudsman Service"]),
    ("GB", "financial"): (["Financial Ombudsman Service", "www.financial-ombudsman.org.uk", "sześciu miesięcy",
                           "we do not waive"], ["Rzecznik Finansowy"]),
    ("GB", "consumer"): ([], ["Financial Ombudsman Service", "Rzecznik Finansowy"]),
    ("UA", "consumer"): (["zaskarżyć"], ["Rzecznik Finansowy", "Financial Ombudsman Service"]),
}


@pytest.mark.parametrize("where", sorted(CLAUSES))
def test_each_jurisdiction_gets_its_own_clauses_only(letters, where):
    present, absent = CLAUSES[where]
    text = " ".join(text_of(letters.render("final_response", "pl", context(jurisdiction=where[0],
                                                                            regime=where[1]))[0]).split())
    for phrase in present:
        assert phrase in text, (where, phrase)
    for phrase in absent:
        assert phrase not in text, (where, phrase)


def test_english_financial_ombudsman_wording(letters):
    text = " ".join(text_of(letters.render("final_response", "en", context(jurisdiction="GB",
                                                                            regime="financial"))[0]).split())
    for phrase in ("Financial Ombudsman Service", "www.financial-ombudsman.org.uk", "six months", "we do not waive"):
        assert phrase in text


def test_a_letter_missing_its_data_is_refused(letters):
    with pytest.raises(LetterError, match="decision"):
        letters.render("final_response", "en", context(decision=""))


class _Spy(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        _Spy.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_hostile_customer_text_is_text_and_fetches_nothing(letters):
    server = HTTPServer(("127.0.0.1", 0), _Spy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/x"
    hostile = (f'<img src="{url}"><link rel="attachment" href="file:///etc/passwd">'
               f'<style>body{{background:url({url})}}</style><p style="background:url({url})">x</p>')
    try:
        pdf, _ = letters.render("acknowledgement", "en", context(description=hostile, customer_name=hostile))
    finally:
        server.shutdown()
        server.server_close()
    assert _Spy.hits == []
    assert b"root:x:0:0" not in pdf and b"/EmbeddedFile" not in pdf
    assert '<img src="http://127.0.0.1' in text_of(pdf).replace("\n", "")


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "https://example.com/a.css", "file:///etc/passwd",
                                 "file://host/etc/passwd", "ftp://example.com/x"])
def test_the_fetcher_refuses_everything_outside_its_static_folder(tmp_path, url):
    (tmp_path / "static").mkdir()
    with pytest.raises(ValueError):
        SafeFetcher(tmp_path / "static").fetch(url)


def test_the_fetcher_allows_its_own_files_and_data_urls(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "logo.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("no")
    (static / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = SafeFetcher(static)
    assert fetcher.fetch((static / "logo.svg").as_uri()).read() == b"<svg/>"
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"
    for sneaky in ((static / "link.txt").as_uri(), static.as_uri() + "/../secret.txt",
                   static.as_uri() + "/%2e%2e/secret.txt"):
        with pytest.raises(ValueError):
            fetcher.fetch(sneaky)


def test_the_diagram_step_creates_one_letter_rendered_once(people, register, open_task, complete, app):
    complaint = register(people.staff)
    complete(people.staff, open_task(complaint), fc_resolved=True, fc_summary="Replaced the kettle")
    drafts = list(db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id).order_by(Letter.id)))
    assert [(d.letter_type, d.status) for d in drafts] == [("acknowledgement", "draft"), ("final_response", "draft")]
    final = drafts[1]
    assert render_letter(final.id) is True
    assert render_letter(final.id) is False  # a second message for the same letter changes nothing
    db.session.commit()
    db.session.refresh(final)
    assert final.status == "rendered" and final.template_version == renderer().meta("final_response")["version"]
    _, path = letter_pdf(people.staff, final.id)
    text = " ".join(text_of(path.read_bytes()).split())
    assert complaint.reference in text and "Replaced the kettle" in text and "Podstawa prawna" in text


def _rendered(people, register, open_task, complete):
    complaint = register(people.staff)
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    render_letter(letter.id)
    db.session.commit()
    return complaint, letter


def test_a_rendered_letter_goes_to_the_outbox_once_with_a_stable_message_id(people, register, open_task,
                                                                           complete, app):
    from email import policy
    from email.parser import BytesParser

    from complaints_app.mail import outbox_name
    from complaints_app.tasks.jobs import deliver_letter as send_letter

    complaint, letter = _rendered(people, register, open_task, complete)
    assert send_letter(letter.id) is True
    assert send_letter(letter.id) is False  # sent already
    db.session.commit()
    outbox = Path(app.extensions["complaints.settings"].outbox_path)
    written = outbox / outbox_name(letter.message_id)
    assert written.stat().st_mtime == pytest.approx(letter.sent_at.timestamp(), abs=5)  # not written again
    message = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert message["Message-ID"] == letter.message_id and message["To"] == complaint.customer.email
    assert complaint.reference in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert complaint.reference in text_of(attachment.get_content())
    assert letter.status == "sent" and letter.sent_at is not None


def test_resend_keeps_the_message_id(people, register, open_task, complete, login):
    from complaints_app.tasks.jobs import deliver_letter as send_letter

    complaint, letter = _rendered(people, register, open_task, complete)
    send_letter(letter.id)
    db.session.commit()
    first_id = letter.message_id
    client = login(people.staff)
    assert client.post(f"/letters/{letter.id}/resend").status_code == 302
    db.session.refresh(letter)
    assert letter.status == "rendered"
    send_letter(letter.id)
    db.session.commit()
    assert letter.status == "sent" and letter.message_id == first_id and letter.delivery_attempts == 2


def test_uk_summary_resolution_names_the_ombudsman_and_polish_extensions_the_limit(letters):
    text = " ".join(text_of(letters.render("summary_resolution", "en", context(jurisdiction="GB",
                                                                              regime="financial"))[0]).split())
    assert "Financial Ombudsman Service" in text and "www.financial-ombudsman.org.uk" in text
    text = " ".join(text_of(letters.render("holding_letter", "pl", context(
        jurisdiction="PL", regime="financial", delay_reasons="Potrzebna opinia rzeczoznawcy",
        due_on="2026-12-20"))[0]).split())
    assert "60 dni" in text and "2026-12-20" in text and "opinia rzeczoznawcy" in text


def test_a_sent_letter_stays_as_sent_and_a_correction_is_a_new_version(people, register, open_task, complete,
                                                                       login):
    from complaints_app.tasks.jobs import deliver_letter as send_letter

    complaint, letter = _rendered(people, register, open_task, complete)
    send_letter(letter.id)
    db.session.commit()
    sent_hash = letter.pdf_sha256
    client = login(people.staff)
    assert client.post(f"/letters/{letter.id}/correct", data={"note": "The reference date was wrong."}).status_code == 302
    versions = list(db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                            Letter.task_id == letter.task_id).order_by(Letter.version)))
    assert [(v.version, v.status) for v in versions] == [(1, "sent"), (2, "draft")]
    correction = versions[1]
    assert correction.corrects_id == letter.id
    render_letter(correction.id)
    send_letter(correction.id)
    db.session.commit()
    db.session.refresh(letter)
    assert letter.pdf_sha256 == sent_hash and letter.status == "sent"  # the sent one never changes
    _, path = letter_pdf(people.staff, correction.id)
    assert "The reference date was wrong." in " ".join(text_of(path.read_bytes()).split())
    assert correction.status == "sent" and correction.message_id != letter.message_id
    refused = client.post(f"/letters/{correction.id}/correct", data={"note": ""})
    assert refused.status_code == 302 and correction.version == 2


def test_a_letter_the_diagram_marks_for_review_waits_for_a_person(people, register, open_task, complete, login):
    from complaints_app.tasks.jobs import deliver_letter as send_letter

    complaint, letter = _rendered(people, register, open_task, complete)
    letter.needs_review = True  # as a create_letter step with the property review=true would make it
    letter.status, letter.next_attempt_at = "draft", None
    db.session.commit()
    render_letter(letter.id)
    db.session.commit()
    assert letter.status == "rendered" and letter.next_attempt_at is None
    assert send_letter(letter.id) is False  # not before someone has read it
    page = login(people.staff).get(f"/complaints/{complaint.reference}").data.decode()
    assert "Reviewed: send it" in page
    assert login(people.staff).post(f"/letters/{letter.id}/approve").status_code == 302
    db.session.refresh(letter)
    assert letter.reviewed_by_id == people.staff.id
    assert send_letter(letter.id) is True


def test_without_fonts_for_polish_and_ukrainian_the_renderer_refuses_to_start(monkeypatch):
    import subprocess

    from complaints_app import letters as letters_module

    monkeypatch.setattr(letters_module.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout="", stderr=""))
    with pytest.raises(LetterError, match="install fonts-dejavu-core"):
        LetterRenderer(ROOT, COMPANY)


def test_the_outbox_page_lists_each_written_message_with_its_letter(people, register, open_task, complete, login):
    from complaints_app.tasks.jobs import deliver_letter as send_letter
    from complaints_app.mail import outbox_name

    _, letter = _rendered(people, register, open_task, complete)
    send_letter(letter.id)
    db.session.commit()
    page = login(people.supervisor).get("/outbox").data.decode()
    row = page.split(outbox_name(letter.message_id))[1].split("</tr>")[0]
    assert f"/letters/{letter.id}" in row


def test_a_letter_that_cannot_be_made_is_failed_with_its_reason_not_retried_forever(people, register, monkeypatch):
    from complaints_app.domain.letters import letters_to_render

    complaint = register(people.staff)
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))

    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(renderer(), "render", broken)
    assert render_letter(letter.id) is False
    db.session.commit()
    db.session.refresh(letter)
    assert letter.status == "failed" and "surrogates not allowed" in letter.error
    assert letter.id not in letters_to_render(older_than_seconds=0)


def test_the_letter_page_shows_the_pdf_framed_by_this_site_only_and_leads_back(people, register, open_task,
                                                                            complete, login):
    complaint, letter = _rendered(people, register, open_task, complete)
    client = login(people.staff)
    page = client.get(f"/letters/{letter.id}").data.decode()
    assert f'href="/complaints/{complaint.reference}"' in page and f"/letters/{letter.id}.pdf" in page
    assert f'<iframe class="letter-frame" src="/letters/{letter.id}/view.pdf"' in page
    with client.get(f"/letters/{letter.id}/view.pdf") as shown:
        pdf = shown.data
    assert shown.mimetype == "application/pdf" and shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["X-Frame-Options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in shown.headers[
        "Content-Security-Policy"]
    assert complaint.reference in text_of(pdf)


def test_a_draft_letter_page_shows_its_text_escaped(people, register, login):
    complaint = register(people.staff, description="<script>alert(1)</script> kettle")
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    page = login(people.staff).get(f"/letters/{letter.id}").data.decode()
    assert letter.status == "draft" and 'class="letter-sheet"' in page and complaint.reference in page
    assert "<script>alert(1)</script>" not in page
    assert login(people.staff).get(f"/letters/{letter.id}/view.pdf").status_code == 409


def test_a_sent_letter_names_the_address_it_went_to_even_after_the_customer_moved(people, register, open_task,
                                                                                 complete, login):
    from complaints_app.tasks.jobs import deliver_letter

    complaint, letter = _rendered(people, register, open_task, complete)
    sent_to = complaint.customer.email
    assert deliver_letter(letter.id) is True
    complaint.customer.email = "moved@example.test"
    db.session.commit()
    page = login(people.staff).get(f"/letters/{letter.id}").data.decode()
    assert f"to {sent_to}" in page and "moved@example.test" not in page


def test_letters_write_dates_and_amounts_as_their_language_does(people, register, open_task, complete):
    from datetime import datetime, timezone

    from complaints_app.domain.letters import letter_context

    # Received at 00:30 in Warsaw on 3 November: 2 November in UTC, but the customer's day is the 3rd.
    complaint = register(people.staff, received_at=datetime(2026, 11, 2, 23, 30, tzinfo=timezone.utc))
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    letter.context = {**letter.context, "compensation_amount": 1200.5, "compensation_approved": True}
    context = letter_context(letter, complaint)
    assert context["received_on"] == "3 listopada 2026"
    assert context["compensation_amount"] == "1\u00a0200,50"
    letter.language = "en"
    assert letter_context(letter, complaint)["received_on"] == "3 November 2026"
