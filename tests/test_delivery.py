"""E-mail delivery of letters and notifications: handed over with no transaction open, retried after a
growing pause, stopped after too many failures with the people on the complaint told."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from sqlalchemy import select

from complaints_app.domain import notify
from complaints_app.domain.complaints import find_or_create_customer, register_complaint
from complaints_app.domain.letter_delivery import GIVE_UP_AFTER, letters_to_send
from complaints_app.domain.letters import render_letter
from complaints_app.domain.users import create_token, create_user
from complaints_app.extensions import db
from complaints_app.models import AuditEvent, Letter, Notification
from complaints_app.models.base import utcnow
from complaints_app.tasks.jobs import deliver_letter, deliver_notification
from tests.conftest import build_app, drop_database, fresh_database_url, init_database
from tests.test_letters import _rendered, text_of

NOBODY = "smtp://127.0.0.1:9"  # a port nothing listens on: every attempt is refused


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Collect(MessageHandler):
    def __init__(self):
        super().__init__()
        self.received = []

    def handle_message(self, message):
        self.received.append(message)


@pytest.fixture
def mail_url(app, monkeypatch):
    """Point the app's mail at a URL for this test."""
    settings = app.extensions["complaints.settings"]

    def point(url: str) -> None:
        monkeypatch.setattr(type(settings), "mail_url", property(lambda self: url))
    return point


def kinds(complaint) -> list[str]:
    return [e.kind for e in db.session.scalars(select(AuditEvent).where(AuditEvent.complaint_id == complaint.id))]


def test_delivery_through_a_real_smtp_server_and_a_retry_after_failure(people, register, open_task, complete,
                                                                     mail_url, login):
    complaint, letter = _rendered(people, register, open_task, complete)
    mail_url(NOBODY)
    assert deliver_letter(letter.id) is False
    assert letter.status == "rendered" and letter.delivery_attempts == 1 and letter.failed_attempts == 1
    assert "ConnectionRefusedError" in letter.delivery_error
    assert letter.next_attempt_at > utcnow() + timedelta(minutes=1)  # a pause before the next attempt
    assert deliver_letter(letter.id) is False and letter.delivery_attempts == 1  # not due: nothing tried
    assert letter.id not in letters_to_send()
    page = login(people.staff).get(f"/complaints/{complaint.reference}").data.decode()
    assert "Not delivered yet (1 failed attempt: ConnectionRefusedError" in page

    handler, port = Collect(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail_url(f"smtp://127.0.0.1:{port}")
        with time_machine.travel(letter.next_attempt_at + timedelta(seconds=1)):
            assert letter.id in letters_to_send()
            assert deliver_letter(letter.id) is True
    finally:
        controller.stop()
    (message,) = handler.received
    assert message["Message-ID"] == letter.message_id and message["To"] == complaint.customer.email
    pdf = next(part for part in message.walk() if part.get_content_type() == "application/pdf")
    assert complaint.reference in text_of(pdf.get_payload(decode=True))
    assert letter.status == "sent" and letter.delivery_attempts == 2 and letter.failed_attempts == 0
    assert kinds(complaint).count("letter_delivery_failed") == 1 and kinds(complaint).count("letter_sent") == 1


def test_the_pause_grows_and_delivery_stops_after_the_limit_telling_the_supervisors(people, register, open_task,
                                                                                 complete, mail_url, login):
    complaint, letter = _rendered(people, register, open_task, complete)
    mail_url(NOBODY)
    pauses = []
    for _ in range(GIVE_UP_AFTER):
        due = letter.next_attempt_at
        with time_machine.travel(due + timedelta(seconds=1), tick=False):
            assert deliver_letter(letter.id) is False
            if letter.next_attempt_at is not None:
                pauses.append(letter.next_attempt_at - utcnow())
    assert pauses == sorted(pauses) and pauses[0] == timedelta(minutes=2) and pauses[-1] == timedelta(hours=4)
    assert letter.next_attempt_at is None and letter.failed_attempts == GIVE_UP_AFTER
    assert letter.delivery_attempts == GIVE_UP_AFTER and letter.status == "rendered"
    assert letter.id not in letters_to_send()  # the sweep leaves it alone now
    assert kinds(complaint).count("letter_delivery_abandoned") == 1
    alert = db.session.scalars(select(Notification).where(Notification.user_id == people.supervisor.id,
                                                          Notification.kind == "letter_undelivered",
                                                          Notification.complaint_id == complaint.id)).one()
    assert f"{GIVE_UP_AFTER} attempts" in notify.sentence(alert) and "Print and post" in notify.sentence(alert)
    client = login(people.staff)
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert f"Not delivered after {GIVE_UP_AFTER} attempts" in page and "Try sending again" in page

    assert client.post(f"/letters/{letter.id}/resend").status_code == 302  # a person asks once more
    db.session.refresh(letter)
    assert letter.failed_attempts == 0 and letter.id in letters_to_send()
    mail_url("")  # the embedded outbox: always takes it
    assert deliver_letter(letter.id) is True and letter.status == "sent"
    assert "letter_retry_requested" in kinds(complaint)


def test_a_letter_to_a_customer_without_address_waits_for_one(people, register, open_task, complete, login,
                                                             client):
    complaint, letter = _rendered(people, register, open_task, complete)
    complaint.customer.email = None
    db.session.commit()
    assert deliver_letter(letter.id) is False
    assert letter.next_attempt_at is None and letter.delivery_attempts == 0
    token = create_token(people.staff, "test")
    db.session.commit()
    shown = client.get(f"/api/v1/complaints/{complaint.reference}", headers={"Authorization": f"Bearer {token}"})
    (item,) = [x for x in shown.json["letters"] if x["id"] == letter.id]
    assert item["delivery_state"] == "no_address" and item["sent_at"] is None
    client = login(people.staff)
    assert "The customer has no e-mail address: print and post the PDF." in client.get(
        f"/complaints/{complaint.reference}").data.decode()
    complaint.customer.email = "found@example.test"
    db.session.commit()
    assert client.post(f"/letters/{letter.id}/resend").status_code == 302
    assert deliver_letter(letter.id) is True and letter.status == "sent"


def test_send_again_asks_first_and_refuses_a_letter_still_on_its_way(people, register, open_task, complete, login):
    complaint, letter = _rendered(people, register, open_task, complete)
    client = login(people.staff)
    refused = client.post(f"/letters/{letter.id}/resend", follow_redirects=True).data.decode()
    assert "only a sent letter, or one whose delivery stopped, can be sent again" in refused  # it is queued
    assert deliver_letter(letter.id) is True
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "so the customer can see it is a copy" in page and complaint.customer.email in page
    assert "letter_resend_requested" not in kinds(complaint)


def _reader_note(make_user, register, people):
    reader = make_user("supervisor")
    reader.email = "reader@example.test"
    complaint = register(people.staff)
    note = notify.notify_people(complaint, "statutory_near", {"reference": complaint.reference}, None)
    note = next(n for n in note if n.user_id == reader.id)
    db.session.commit()
    return reader, note


def test_a_notification_email_is_retried_with_a_pause_then_left_to_the_inbox(people, register, make_user,
                                                                           mail_url):
    reader, note = _reader_note(make_user, register, people)
    mail_url(NOBODY)
    attempts = 0
    while note.mail_due_at is not None:
        with time_machine.travel(note.mail_due_at + timedelta(seconds=1), tick=False):
            assert note.id in notify.notifications_to_mail()
            assert deliver_notification(note.id) is False
            attempts += 1
            assert deliver_notification(note.id) is False and note.mail_attempts == attempts  # not due again yet
    assert attempts == notify.GIVE_UP_AFTER and "ConnectionRefusedError" in note.mail_error
    assert note.emailed_at is None and note.read_at is None  # still unread in the inbox
    assert note.id not in notify.notifications_to_mail()


def test_a_notification_read_in_the_app_is_not_emailed_afterwards(people, register, make_user, mail_url):
    reader, note = _reader_note(make_user, register, people)
    notify.mark_read(reader, note.id)
    db.session.commit()
    assert deliver_notification(note.id) is False
    assert note.mail_due_at is None and note.emailed_at is None and note.mail_attempts == 0


@pytest.fixture
def own_with_mail(tmp_path):
    """An app on its own database whose SMTP server holds every message until told to let go."""
    entered, release = threading.Event(), threading.Event()

    class Stall(Collect):
        async def handle_DATA(self, server, session, envelope):
            entered.set()
            release.wait(30)
            return await super().handle_DATA(server, session, envelope)

    handler, port = Stall(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    url = fresh_database_url(tmp_path)
    app = build_app(tmp_path, url, mail_url=f"smtp://127.0.0.1:{port}")
    init_database(app)
    try:
        yield app, entered, release, handler
    finally:
        release.set()
        controller.stop()
        with app.app_context():
            db.engine.dispose()
        drop_database(url)


def test_a_stalled_mail_server_holds_neither_the_database_nor_the_letter(own_with_mail):
    app, entered, release, handler = own_with_mail
    with app.app_context():
        staff = create_user("staff", "correct horse battery", ["staff"])
        customer = find_or_create_customer("Ewa", "ewa@example.test", None, "pl")
        fields = dict(channel="phone", category="product", description="Broken", claimed_amount=Decimal("10"),
                      currency="PLN", language="pl", jurisdiction="PL", regime="consumer")
        complaint = register_complaint(staff, customer=customer, **fields)
        db.session.commit()
        letter_id = db.session.scalar(select(Letter.id).where(Letter.complaint_id == complaint.id))
        render_letter(letter_id)
        db.session.commit()
        staff_id = staff.id
        db.session.remove()
    outcome = []

    def deliver():
        with app.app_context():
            outcome.append(deliver_letter(letter_id))
            db.session.remove()

    worker = threading.Thread(target=deliver)
    worker.start()
    try:
        assert entered.wait(10), "the delivery never reached the mail server"
        with app.app_context():  # meanwhile: another complaint is registered, the letter's row is free
            staff = db.session.get(type(staff), staff_id)
            other = find_or_create_customer("Olek", "olek@example.test", None, "pl")
            register_complaint(staff, customer=other, **fields)
            db.session.commit()
            locked = db.session.scalar(select(Letter).where(Letter.id == letter_id).with_for_update(nowait=True))
            assert locked.status == "rendered" and locked.delivery_attempts == 1  # claimed, committed
            assert letter_id not in letters_to_send()  # and held by its claim: nobody else sends it
            db.session.commit()
            db.session.remove()
    finally:
        release.set()
        worker.join(30)
    assert outcome == [True] and len(handler.received) == 1
    with app.app_context():
        assert db.session.get(Letter, letter_id).status == "sent"



def test_any_failure_of_the_hand_over_is_counted_and_paused_like_a_refused_one(people, register, open_task,
                                                                              complete, app, monkeypatch, tmp_path):
    complaint, letter = _rendered(people, register, open_task, complete)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the outbox folder should be")
    settings = app.extensions["complaints.settings"]
    monkeypatch.setattr(type(settings), "outbox_path", property(lambda self: str(blocked)))
    assert deliver_letter(letter.id) is False
    assert letter.failed_attempts == 1 and letter.delivery_state == "retrying"
    assert letter.delivery_error.startswith(("FileExistsError", "NotADirectoryError"))
    assert letter.next_attempt_at < utcnow() + timedelta(minutes=3)  # the failure's pause, not the claim's lease


def test_a_letter_whose_stored_pdf_is_gone_waits_and_says_why(people, register, open_task, complete, app):
    from pathlib import Path

    complaint, letter = _rendered(people, register, open_task, complete)
    store = Path(app.extensions["complaints.settings"].letters_store)
    (store / letter.pdf_sha256[:2] / f"{letter.pdf_sha256}.pdf").rename(store / "moved-away.pdf")
    try:
        assert deliver_letter(letter.id) is False
        assert letter.failed_attempts == 1 and "the stored PDF cannot be read" in letter.delivery_error
        assert letter.id not in letters_to_send()  # paused: the sweep does not retry it every second
    finally:
        (store / "moved-away.pdf").rename(store / letter.pdf_sha256[:2] / f"{letter.pdf_sha256}.pdf")
