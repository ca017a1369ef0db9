"""Every letter type in every language through the whole path as it runs in production: registered, moved
by the diagram, rendered by a real Celery worker, e-mailed (to the outbox folder), read back from the
e-mail's PDF."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import select

from complaints_app.domain import clock_tick
from complaints_app.domain.complaints import register_complaint
from complaints_app.domain.correspondence import write_correspondence
from complaints_app.domain.customers import customer_for
from complaints_app.domain.complaints import extend_by_hand
from complaints_app.domain.messages import send_message
from complaints_app.domain.tasks import complete_task
from complaints_app.domain.users import create_user
from complaints_app.extensions import db
from complaints_app.letters import wording
from complaints_app.mail import outbox_name
from complaints_app.models import Complaint, HumanTask, Letter, User
from tests.conftest import build_app, drop_database, fresh_database_url, init_database
from tests.test_letters import CUSTOMERS, text_of
from tests.test_processes import _start, _stop

CURRENCY = {"PL": "PLN", "GB": "GBP", "UA": "UAH"}
# What each letter says in each language, read from the PDF the customer got.
SAYS = {
    "acknowledgement": {"pl": "dziękujemy za zgłoszenie reklamacji", "en": "Thank you for your complaint",
                        "uk": "Дякуємо за Вашу скаргу"},
    "escalation_notice": {"pl": "przekazaliśmy ją do naszego Centrum Obsługi Klienta",
                          "en": "passed it to our Customer Service Centre", "uk": "передали її до нашого Центру"},
    "holding_letter": {"pl": "Przyczyna opóźnienia", "en": "The reason for the delay", "uk": "Причина затримки"},
    "final_response": {"pl": "reklamacji nie uwzględniliśmy", "en": "We do not uphold your complaint",
                       "uk": "У задоволенні Вашої скарги відмовлено"},
    "summary_resolution": {"pl": "Uważamy ją obecnie za rozwiązaną",
                           "en": "We now consider your complaint to have been resolved",
                           "uk": "Тепер ми вважаємо її вирішеною"},
    "delay_response": {"pl": "Dlaczego potrzebujemy więcej czasu", "en": "Why we need more time",
                       "uk": "Чому нам потрібно більше часу"},
    "withdrawal_confirmation": {"pl": "wycofaliśmy reklamację", "en": "we have withdrawn your complaint",
                                "uk": "ми відкликали Вашу скаргу"},
    "correspondence": {"pl": "Prosimy o zdjęcie paragonu", "en": "Please send a photo of the receipt",
                       "uk": "Просимо надіслати фото чека"},
}
GREETING = {"pl": "Szanowna Pani,", "en": "Dear Ms Jones,", "uk": "Шановна пані Олено!"}
BODY = {"pl": "Prosimy o zdjęcie paragonu.", "en": "Please send a photo of the receipt.",
        "uk": "Просимо надіслати фото чека."}


def _register(staff, jurisdiction, regime, language, **fields) -> Complaint:
    details = {**CUSTOMERS[language]}
    name = details.pop("name")
    customer, _ = customer_for(staff, name, f"{uuid.uuid4().hex[:10]}@example.test", None, language,
                               details=details, new=True)
    complaint = register_complaint(staff, customer=customer, channel="phone", category="product",
                                   description="Czajnik przecieka", claimed_amount=Decimal("300"),
                                   currency=CURRENCY[jurisdiction], language=language, jurisdiction=jurisdiction,
                                   regime=regime, **fields)
    db.session.commit()
    return complaint


def _task(complaint, name) -> HumanTask:
    return next(t for t in db.session.scalars(select(HumanTask).where(HumanTask.complaint_id == complaint.id,
                                                                      HumanTask.state == "open")) if t.name == name)


def _do(user, complaint, name, **data):
    complete_task(user, _task(complaint, name).id, data)
    db.session.commit()


@pytest.mark.broker
@pytest.mark.slow
def test_every_letter_type_in_every_language_goes_through_the_worker_to_the_customer(tmp_path):
    url = fresh_database_url(tmp_path)
    broker = os.environ.get("COMPLAINTS_BROKER_URL") or f"sqlafast+sqlite:///{tmp_path / 'broker.sqlite'}"
    app = build_app(tmp_path, url, broker_url=broker, tasks_eager=False)
    init_database(app)
    env = {**os.environ, "COMPLAINTS_INSTANCE_PATH": str(tmp_path / "instance"), "COMPLAINTS_DATABASE_URL": url,
           "COMPLAINTS_BROKER_URL": broker, "COMPLAINTS_SECRET_KEY": "test-secret",
           "COMPLAINTS_TIMER_SWEEP_SECONDS": "0.5"}
    worker = _start(["worker", "--concurrency", "1"], env, tmp_path / "worker.log")
    beat = _start(["beat"], env, tmp_path / "beat.log")
    try:
        with app.app_context():
            staff = create_user("staff", "correct horse battery", ["staff"], display_name="Sara Staff",
                                position={"pl": "Specjalistka ds. reklamacji", "en": "Complaints adviser",
                                          "uk": "Фахівець зі скарг"})
            boss = create_user("boss", "correct horse battery", ["supervisor"], display_name="Sophie Boss",
                               position={"pl": "Kierowniczka zespołu", "en": "Team leader", "uk": "Керівник"})
            expert = create_user("expert", "correct horse battery", ["customer_centre"], display_name="Ivan Expert",
                                 position={"pl": "Ekspert", "en": "Investigator", "uk": "Експерт"})
            db.session.commit()
            expected: dict[int, tuple[str, str]] = {}  # complaint id -> its language (every letter in it)
            for language in ("pl", "en", "uk"):
                # UK, financial, resolved at once: the summary resolution communication.
                quick = _register(staff, "GB", "financial", language)
                _do(staff, quick, "First contact", fc_resolved=True, fc_summary="Refunded the fee",
                    fc_answer={"pl": "Zwróciliśmy opłatę.", "en": "We refunded the fee.",
                               "uk": "Ми повернули плату."}[language])
                # Poland, financial, answers by e-mail as asked: escalation, extension, review, final answer.
                long = _register(staff, "PL", "financial", language, answer_by="email")
                _do(staff, long, "First contact", fc_resolved=False, fc_summary="Needs the centre")
                _do(boss, long, "Approve escalation", escalation_approved=True, escalation_comment="Go")
                extend_by_hand(boss, long, "We are waiting for the bank's records.",
                               "Whether the payment was authorised.")
                db.session.commit()
                _do(expert, long, "Investigate", root_cause="policy", decision="rejected",
                    decision_reasons="The payment was authorised with your card and PIN.",
                    legal_basis="Art. 46 of the Payment Services Act.")
                write_correspondence(staff, long, "Paragon", BODY[language])
                db.session.commit()
                # UK, eight weeks nearly up: the delay response; and a withdrawal.
                slow = _register(staff, "GB", "financial", language,
                                 received_at=datetime.now(timezone.utc) - timedelta(days=55))
                clock_tick.tick(slow.id, now=slow.clock_next_at + timedelta(seconds=1))
                db.session.commit()
                _do(expert, slow, "Write the delay response", delay_reasons="We wait for the bank.",
                    expected_on=(datetime.now(timezone.utc) + timedelta(days=20)).date().isoformat())
                send_message(staff, slow, "complaint_withdrawn", "The customer withdrew it by phone")
                db.session.commit()
                for complaint in (quick, long, slow):
                    expected[complaint.id] = language
            db.session.remove()
            # The review waits for the PDF the worker makes, and is done by whoever investigated.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                reviews = db.session.scalars(select(HumanTask).where(HumanTask.state == "open",
                                                                     HumanTask.name == "Review the final response")).all()
                if len(reviews) == 3:
                    break
                db.session.remove()
                time.sleep(0.3)
            for review in reviews:
                complete_task(db.session.get(User, review.assignee_id), review.id, {"letter_approved": True})
                db.session.commit()
            db.session.remove()
            while time.monotonic() < deadline:
                states = db.session.execute(select(Letter.status, Letter.channel)).all()
                db.session.remove()
                if states and all(status in ("sent", "failed") for status, _channel in states):
                    break
                time.sleep(0.3)
            letters = db.session.scalars(select(Letter).order_by(Letter.id)).all()
            log = (tmp_path / "worker.log").read_text()[-3000:]
            assert {(x.letter_type, x.status) for x in letters if x.status != "sent"} == set(), log
            outbox = tmp_path / "instance" / "outbox"
            seen = set()
            for letter in letters:
                language = expected[letter.complaint_id]
                mail = BytesParser(policy=policy.default).parsebytes((outbox / outbox_name(letter.message_id))
                                                                     .read_bytes())
                pdf = next(part for part in mail.iter_attachments() if part.get_filename().endswith(
                    f"{letter.letter_type}.pdf"))
                text = wording.normalise(text_of(pdf.get_content()))
                greeting = mail.get_body(("plain",)).get_content().splitlines()[0]
                assert greeting == GREETING[language], greeting  # the e-mail greets as the letter does
                assert wording.normalise(SAYS[letter.letter_type][language]) in text, (letter.letter_type, language)
                seen.add((letter.letter_type, language))
            assert seen == {(t, lang) for t in SAYS for lang in ("pl", "en", "uk")}, sorted(seen)
            # The final answers e-mailed stopped their statutory clocks; the reviewer signed them.
            finals = [x for x in letters if x.letter_type == "final_response"]
            assert all(db.session.get(Complaint, x.complaint_id).answered_at is not None for x in finals)
            assert {x.signed_by_id for x in finals} == {db.session.scalar(select(User.id).where(
                User.username == "expert"))}
    finally:
        _stop(beat)
        _stop(worker)
        with app.app_context():
            db.engine.dispose()
        drop_database(url)
