"""The statutory clock and task reminders, driven end to end with frozen time: holding letters before a
statutory deadline, deemed acceptance after it, reminders to holders and supervisors, e-mail."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from complaints_app.domain import clock, clock_tick, notify, reminders
from complaints_app.domain import tasks as task_ops
from complaints_app.domain.deadlines import working_days_before
from complaints_app.domain.complaints import extend_by_hand
from complaints_app.extensions import db
from complaints_app.mail import outbox_name
from complaints_app.models import AuditEvent, HumanTask, Letter, Notification
from complaints_app.domain.letters import letter_pdf, render_letter
from complaints_app.tasks.jobs import deliver_notification

from .test_letters import text_of
from .test_paths import escalate, letters

WARSAW = ZoneInfo("Europe/Warsaw")
# Received Monday 2 Nov 2026, 10:00 in Warsaw: pl-consumer-14d is due Monday 16 Nov.
RECEIVED = datetime(2026, 11, 2, 10, tzinfo=WARSAW).astimezone(timezone.utc)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def tick(complaint, moment):
    with at(moment):
        happened = clock_tick.tick(complaint.id)
        db.session.commit()
    db.session.refresh(complaint)
    return happened


def notes_for(user, kind):
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                               Notification.kind == kind)))


def open_names(complaint):
    return sorted(db.session.scalars(select(HumanTask.name).where(HumanTask.complaint_id == complaint.id,
                                                                  HumanTask.state == "open")))


def register_at(register, actor, moment=RECEIVED, **fields):
    with at(moment):
        return register(actor, received_at=moment, **fields)


def test_the_clock_is_armed_at_triage_for_the_warning_at_nine_local_time(people, register):
    complaint = register_at(register, people.staff)
    assert complaint.statutory_due_on == date(2026, 11, 16)
    # Three working days before Monday 16 Nov: Wed 11 Nov is Independence Day, so Tue 10 Nov... counted
    # back: Fri 13, Thu 12, Tue 10.
    assert working_days_before(date(2026, 11, 16), 3, "PL") == date(2026, 11, 10)
    assert complaint.clock_next_at == datetime.combine(date(2026, 11, 10), time(9), WARSAW)
    assert clock.due_clocks(complaint.clock_next_at - timedelta(seconds=1)).count(complaint.id) == 0
    assert complaint.id in clock.due_clocks(complaint.clock_next_at)


def test_near_a_consumer_deadline_supervisors_are_told_and_no_letter_promises_a_later_date(people, register):
    """A consumer's 14 days cannot be extended: a 'holding letter' would promise what the law forbids."""
    complaint = register_at(register, people.staff)
    assert tick(complaint, complaint.clock_next_at - timedelta(minutes=1)) is None
    assert tick(complaint, complaint.clock_next_at + timedelta(seconds=5)) == "statutory_near"
    assert letters(complaint) == ["acknowledgement"]
    left = db.session.scalars(select(AuditEvent.element_id).where(
        AuditEvent.complaint_id == complaint.id, AuditEvent.kind == "element_left")).all()
    assert "EndEvent_NearNoted" in left
    note = notes_for(people.supervisor, "statutory_near")[-1]
    assert note.complaint_id == complaint.id and note.data["working_days_left"] == 3
    assert note.data["extendable"] is False
    assert "Nov 16, 2026" in notify.sentence(note)  # the day as the reader's language writes it
    assert "(14 days, consumer complaint)" in notify.sentence(note)  # and the rule in words, not its code
    # The next look is the breach: the end of the due day in Warsaw.
    assert complaint.clock_next_at == datetime(2026, 11, 17, 0, tzinfo=WARSAW)
    assert tick(complaint, complaint.clock_next_at - timedelta(hours=1)) is None  # not twice


def test_near_a_financial_deadline_the_customer_centre_decides_whether_to_extend(people, register, open_task,
                                                                                 complete):
    """Act of 5 August 2015 art. 7: an extension only where it is really made, with its reasons, what is still
    to be established and the date; answering in time sends nothing."""
    from complaints_app.domain.errors import InvalidInput

    complaint = register_at(register, people.staff, regime="financial")  # pl-financial-30d, due 2 Dec
    assert tick(complaint, complaint.clock_next_at) == "statutory_near"
    decide = next(t for t in db.session.scalars(select(HumanTask).where(
        HumanTask.complaint_id == complaint.id, HumanTask.state == "open")) if t.name == "Extend the deadline?")
    assert decide.role == "customer_centre"
    with at(datetime(2026, 11, 27, 10, tzinfo=WARSAW)):
        try:
            task_ops.complete_task(people.investigator, decide.id, {"extend": True, "delay_reasons": "Too short"})
        except InvalidInput as refused:
            assert "reasons for the delay" in refused.message
        else:
            raise AssertionError("an extension without its reasons was accepted")
        db.session.rollback()
        complete(people.investigator, decide, extend=True,
                 delay_reasons="We are waiting for the card scheme's chargeback report",
                 circumstances="Whether the payment was authorised by you", expected_on="2026-12-20")
    db.session.refresh(complaint)
    assert (complaint.statutory_rule, complaint.statutory_due_on) == ("pl-financial-60d", date(2027, 1, 4))
    notice = db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                     Letter.letter_type == "holding_letter")).one()
    assert notice.context["texts"]["circumstances"] == "Whether the payment was authorised by you"
    assert notice.context["expected_on"] == "2026-12-20"
    render_letter(notice.id)
    db.session.commit()
    _, path = letter_pdf(people.supervisor, notice.id)
    text = " ".join(text_of(path.read_bytes()).split())
    for phrase in ("art. 7 ustawy z dnia 5 sierpnia 2015", "Przyczyna opóźnienia: We are waiting for the card",
                   "Okoliczności, które muszą zostać ustalone dla rozpatrzenia sprawy: Whether the payment",
                   "Przewidywany termin rozpatrzenia reklamacji i udzielenia odpowiedzi: 20 grudnia 2026 r."):
        assert phrase in text, phrase
    # Answering in time instead: nothing goes to the customer.
    other = register_at(register, people.staff, regime="financial")
    tick(other, other.clock_next_at)
    decide = next(t for t in db.session.scalars(select(HumanTask).where(
        HumanTask.complaint_id == other.id, HumanTask.state == "open")) if t.name == "Extend the deadline?")
    complete(people.investigator, decide, extend=False)
    assert letters(other) == ["acknowledgement"] and other.statutory_rule == "pl-financial-30d"


def test_before_eight_weeks_the_handler_writes_the_delay_response_which_answers_the_fca_rule(
        people, register, open_task, complete):
    """DISP 1.6.2R(2): why not yet, when, and the right to go to the ombudsman now; sent, it keeps the rule."""
    from complaints_app.tasks.jobs import deliver_letter

    complaint = register_at(register, people.staff, jurisdiction="GB", regime="financial", currency="GBP",
                            language="en")
    assert tick(complaint, complaint.clock_next_at) == "statutory_near"
    write = next(t for t in db.session.scalars(select(HumanTask).where(
        HumanTask.complaint_id == complaint.id, HumanTask.state == "open")) if t.name == "Write the delay response")
    with at(complaint.clock_next_at + timedelta(hours=1)):
        complete(people.investigator, write, delay_reasons="We are waiting for the bank's records.",
                 expected_on="2027-01-15")
    delay = db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                    Letter.letter_type == "delay_response")).one()
    render_letter(delay.id)
    db.session.commit()
    text = " ".join(text_of(letter_pdf(people.investigator, delay.id)[1].read_bytes()).split())
    for phrase in ("Why we need more time: We are waiting for the bank’s records.", "by 15 January 2027",
                   "you may now refer your complaint to the Financial Ombudsman Service",
                   "www.financial-ombudsman.org.uk"):
        assert phrase in text, phrase
    assert complaint.answered_at is None  # written is not sent
    assert deliver_letter(delay.id)
    db.session.commit()
    db.session.refresh(complaint)
    assert complaint.answered_at is not None and complaint.clock_next_at is None
    assert tick(complaint, datetime(2027, 1, 1, tzinfo=timezone.utc)) is None  # no breach of eight weeks


def test_an_unanswered_polish_consumer_complaint_is_deemed_accepted_and_a_supervisor_must_honour_it(
        people, register, complete, login):
    complaint = register_at(register, people.staff)
    tick(complaint, datetime(2026, 11, 10, 9, 1, tzinfo=WARSAW))
    assert tick(complaint, datetime(2026, 11, 17, 0, 0, 1, tzinfo=WARSAW)) == "statutory_breached"
    assert complaint.statutory_breached_at is not None and complaint.clock_next_at is None
    # The law has decided for the customer: the ordinary path (here the escalation the first-contact SLA
    # started) ends, so nobody can still reject the claim; a supervisor must honour it.
    assert open_names(complaint) == ["Honour the deemed acceptance"]
    honour = db.session.scalar(select(HumanTask).where(HumanTask.complaint_id == complaint.id,
                                                       HumanTask.element_id == "Task_HonourDeemedAcceptance"))
    assert honour.role == "supervisor"
    assert "deemed accepted" in notify.sentence(notes_for(people.supervisor, "statutory_breached")[-1])
    complete(people.supervisor, honour, deemed_remedy="Refund of 120 PLN")
    db.session.refresh(complaint)
    assert open_names(complaint) == [] and complaint.status == "closed"
    final = db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                    Letter.letter_type == "final_response")).one()
    assert final.context["decision"] == "upheld" and final.context["texts"]["deemed_remedy"] == "Refund of 120 PLN"
    render_letter(final.id)
    db.session.commit()
    _, path = letter_pdf(people.supervisor, final.id)
    text = " ".join(text_of(path.read_bytes()).split())
    assert "art. 7a ust. 2" in text and "uważa się, że reklamacja została uznana" in text
    assert "Refund of 120 PLN" in text
    assert "czy akceptuje" not in text and "czy akceptują" not in text  # nothing is asked of the customer any more
    assert tick(complaint, datetime(2026, 11, 20, tzinfo=WARSAW)) is None
    page = login(people.supervisor).get(f"/complaints/{complaint.reference}").data.decode()
    assert "“Deemed accepted” (14 days, consumer complaint, due Nov 16, 2026)" in page  # the rule in words
    assert "Claim honoured, closed" in page


def test_a_breach_without_deemed_acceptance_only_records_it(people, register):
    complaint = register_at(register, people.staff, jurisdiction="GB", regime="financial", currency="GBP",
                            language="en")  # uk-disp-final-8w: the customer may go to the ombudsman
    assert complaint.statutory_rule == "uk-disp-final-8w"
    with at(complaint.clock_next_at + timedelta(days=70)):  # the warning and the breach at once, after a pause
        assert clock_tick.tick(complaint.id) == "statutory_breached"
        db.session.commit()
    db.session.refresh(complaint)
    assert open_names(complaint) == ["Approve escalation"]
    kinds = db.session.scalars(select(AuditEvent.element_id).where(
        AuditEvent.complaint_id == complaint.id, AuditEvent.kind == "element_left")).all()
    assert "EndEvent_BreachRecorded" in kinds


def test_an_answer_stops_the_clock_when_it_goes_out_not_when_it_is_written(people, register, open_task,
                                                                            complete):
    from complaints_app.tasks.jobs import deliver_letter

    complaint = register_at(register, people.staff)
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True, fc_summary="Replaced",
             fc_answer="We replaced the kettle")
    assert complaint.status == "awaiting_customer"
    answer = db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id,
                                                     Letter.letter_type == "final_response")).one()
    assert tick(complaint, datetime(2026, 11, 10, 9, 1, tzinfo=WARSAW)) == "statutory_near"  # not sent yet
    render_letter(answer.id)
    db.session.commit()
    assert deliver_letter(answer.id)
    db.session.commit()
    db.session.refresh(complaint)
    assert complaint.answered_at is not None and complaint.clock_next_at is None
    assert tick(complaint, datetime(2026, 11, 17, 0, 1, tzinfo=WARSAW)) is None  # no breach
    assert "holding_letter" not in letters(complaint)


def test_an_extension_moves_the_clock_and_its_notice_is_the_holding_letter(people, register):
    complaint = register_at(register, people.staff, regime="financial")  # due 2 Dec 2026
    first_warning = complaint.clock_next_at
    with at(RECEIVED + timedelta(days=5)):
        extend_by_hand(people.supervisor, complaint, "We wait for the card scheme's chargeback report.",
                       "Whether the payment was authorised", "2026-12-28")
        db.session.commit()
    assert complaint.statutory_rule == "pl-financial-60d" and complaint.statutory_due_on == date(2027, 1, 4)
    assert complaint.clock_next_at > first_warning + timedelta(days=25)  # re-armed on the new date
    assert tick(complaint, first_warning + timedelta(minutes=1)) is None  # the old warning never comes
    assert tick(complaint, complaint.clock_next_at) == "statutory_near"
    assert letters(complaint).count("holding_letter") == 1  # the extension's notice was enough
    assert "Extend the deadline?" not in open_names(complaint)  # extended once: no second decision


def test_moments_keep_local_time_across_daylight_saving(people, register):
    # Received 13 Mar 2026: due 27 Mar (Friday, winter time); the breach is at local midnight on the 28th,
    # the eve of the change to summer time on 29 Mar.
    complaint = register_at(register, people.staff, moment=datetime(2026, 3, 13, 12, tzinfo=timezone.utc))
    warn, breach = clock.moments(complaint)
    assert warn.astimezone(WARSAW).hour == 9 and warn.utcoffset() == timedelta(0)
    assert breach.astimezone(WARSAW).time() == time(0) and breach == datetime(2026, 3, 27, 23, tzinfo=timezone.utc)
    summer = register_at(register, people.staff, moment=datetime(2026, 3, 20, 12, tzinfo=timezone.utc))
    warn, breach = clock.moments(summer)  # due 3 Apr, in summer time (UTC+2)
    assert warn == datetime(2026, 3, 31, 7, tzinfo=timezone.utc) and breach == datetime(2026, 4, 3, 22,
                                                                                             tzinfo=timezone.utc)


def test_reminders_at_half_and_four_fifths_of_a_tasks_time(people, register, open_task):
    complaint = register_at(register, people.staff)
    task = open_task(complaint, "First contact")  # 48 hours, drawn as the boundary timer
    assert task.next_reminder_at == task.created_at + timedelta(hours=24)
    assert not reminders.remind(task.id, task.created_at + timedelta(hours=23))
    with at(task.created_at + timedelta(hours=24, seconds=1)):
        assert task.id in reminders.due_reminders()
        assert reminders.remind(task.id)
        db.session.commit()
    first = notes_for(people.supervisor, "reminder")[-1]
    assert first.data["percent"] == 50 and first.task_id == task.id
    assert notes_for(people.staff, "reminder") == []  # nobody holds it yet
    task_ops.claim(people.staff, task.id)
    db.session.commit()
    db.session.refresh(task)
    assert task.next_reminder_at == task.created_at + timedelta(hours=38, minutes=24)
    with at(task.created_at + timedelta(hours=39)):
        assert reminders.remind(task.id)
        db.session.commit()
    assert notes_for(people.staff, "reminder")[-1].data["percent"] == 80
    assert "80%" in notify.sentence(notes_for(people.staff, "reminder")[-1])
    db.session.refresh(task)
    assert task.next_reminder_at is None


def test_after_a_pause_only_the_latest_reminder_is_sent(people, register, open_task):
    complaint = register_at(register, people.staff)
    task = open_task(complaint, "First contact")
    before = len(notes_for(people.supervisor, "reminder"))
    with at(task.created_at + timedelta(hours=47)):
        assert reminders.remind(task.id)
        assert not reminders.remind(task.id)
        db.session.commit()
    sent = notes_for(people.supervisor, "reminder")[before:]
    assert [n.data["percent"] for n in sent] == [80]


def test_tasks_without_a_drawn_deadline_are_reminded_against_the_statutory_one(people, register, open_task,
                                                                               complete):
    complaint = register_at(register, people.staff)
    with at(RECEIVED + timedelta(hours=1)):
        escalate(people, complaint, open_task, complete)
    investigate = open_task(complaint, "Investigate")
    assert investigate.due_at is None
    end = datetime(2026, 11, 17, 0, tzinfo=WARSAW)
    assert investigate.next_reminder_at == investigate.created_at + (end - investigate.created_at) * 0.5


def test_notifications_are_emailed_once_in_the_readers_language(app, people, register, make_user):
    reader = make_user("supervisor", username="mail-reader")
    reader.email, reader.language = "reader@example.test", "pl"
    db.session.commit()
    complaint = register_at(register, people.staff)
    tick(complaint, complaint.clock_next_at)
    note = notes_for(reader, "statutory_near")[-1]
    assert deliver_notification(note.id)
    db.session.commit()
    assert not deliver_notification(note.id)
    outbox = Path(app.extensions["complaints.settings"].outbox_path)
    mail = message_from_bytes((outbox / outbox_name(f"<notification-{note.id}@example.com>")).read_bytes(),
                              policy=policy.default)
    assert mail["To"] == "reader@example.test"
    assert complaint.reference in mail["Subject"]
    assert "ustawowy termin" in mail.get_content() and "(-ych)" not in mail.get_content()
    assert re.search(r"za \d+ (dzień roboczy|dni robocze|dni roboczych),", mail.get_content())


def test_the_inbox_lists_unread_alerts_until_they_are_marked_read(people, register, login):
    complaint = register_at(register, people.staff)
    tick(complaint, complaint.clock_next_at)
    page = login(people.supervisor).get("/complaints").data.decode()
    assert "unread reminders and alerts" in page  # the badge beside Inbox, on every page
    page = login(people.supervisor).get("/inbox").data.decode()
    assert "Reminders and alerts" in page and complaint.reference in page and "Nov 16, 2026" in page
    assert ">Mark read</button>" in page and ">Mark all read</button>" in page  # one alert, or all of them
    client = login(people.supervisor)
    client.post("/notifications/read")
    after = client.get("/inbox").data.decode()
    assert complaint.reference not in after and "unread reminders and alerts" not in after


def test_an_extension_re_arms_the_diagrams_timers_that_read_the_deadline(people, register, open_task):
    from complaints_app.domain import processes
    from complaints_app.models import WorkflowInstance

    files = processes.read_files(sorted((Path(__file__).parent.parent / "bpmn").glob("*.*mn")))
    drawn = files["complaint.bpmn"].decode()
    files["complaint.bpmn"] = drawn.replace(
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">sla_first_contact_due</bpmn:timeDate>',
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">statutory_due + "T09:00:00+01:00"</bpmn:timeDate>').encode()
    assert files["complaint.bpmn"].decode() != drawn
    processes.deploy(files, people.owner, "first contact due on the statutory day")
    complaint = register_at(register, people.staff, regime="financial")  # pl-financial-30d: due 2 Dec
    task = open_task(complaint, "First contact")
    assert task.due_at == datetime(2026, 12, 2, 8, tzinfo=timezone.utc)
    with at(RECEIVED + timedelta(days=5)):
        extend_by_hand(people.supervisor, complaint, "We wait for the card scheme's chargeback report.",
                       "Whether the payment was authorised")
        db.session.commit()
    db.session.refresh(task)
    assert task.due_at == datetime(2027, 1, 4, 8, tzinfo=timezone.utc)  # pl-financial-60d
    instance = db.session.scalar(select(WorkflowInstance).where(WorkflowInstance.complaint_id == complaint.id))
    assert instance.next_timer_due_at == task.due_at
    with at(datetime(2026, 12, 3, tzinfo=timezone.utc)):  # the old due time fires nothing
        assert not task_ops.fire_timers(complaint.id)
    assert open_names(complaint) == ["First contact"]
