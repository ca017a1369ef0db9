"""Letters: every type in every language for every jurisdiction and regime, rendered from real rows the way
the worker renders them, read back from the PDF; what the law requires, element by element; the wording a
native editor expects; hostile text printed as text."""

from __future__ import annotations

import io
import re
import threading
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pdfplumber
import pytest
from sqlalchemy import select

from complaints_app.domain.complaints import register_complaint
from complaints_app.domain.customers import customer_for
from complaints_app.domain.deadlines import receipt_date
from complaints_app.domain.letters import issue_letter, letter_pdf, render_letter
from complaints_app.domain.letter_templates import renderer
from complaints_app.extensions import db
from complaints_app.letters import LANGUAGES, LetterError, LetterRenderer, SafeFetcher, wording
from complaints_app.models import Letter, Letterhead

ROOT = Path(__file__).resolve().parent.parent / "letters"
PLACES = [("PL", "consumer"), ("PL", "financial"), ("PL", "payment_services"), ("GB", "consumer"),
          ("GB", "financial"), ("GB", "payment_services"), ("UA", "consumer")]
CURRENCY = {"PL": "PLN", "GB": "GBP", "UA": "UAH"}
CUSTOMERS = {
    "pl": dict(name="Anna Nowak", title="ms", given_name="Anna", family_name="Nowak", street="ul. Długa 5 m. 2",
               postcode="00-238", city="Warszawa", country="PL"),
    "en": dict(name="Sarah Jones", title="ms", given_name="Sarah", family_name="Jones", street="12 High Street",
               postcode="M1 1AE", city="Manchester", country="GB"),
    "uk": dict(name="Олена Петренко", title="ms", given_name="Олена", family_name="Петренко",
               street="вул. Січових Стрільців, 10, кв. 4", postcode="04053", city="Київ", country="UA"),
}
TEXTS = {
    "pl": {"decision_reasons": "Wadę uszczelki potwierdził serwis.", "legal_basis": "Punkt 7 regulaminu usługi.",
           "remedy": "Wymienimy uszczelkę.", "fc_answer": "Wymieniliśmy czajnik od ręki.",
           "delay_reasons": "Czekamy na opinię producenta.", "circumstances": "Czy przeciek to wada fabryczna.",
           "deemed_remedy": "Zwrot 120 zł.", "body": "Prosimy o zdjęcie paragonu."},
    "en": {"decision_reasons": "Our engineer confirmed the faulty seal.", "legal_basis": "Clause 7 of the terms.",
           "remedy": "We will replace the seal.", "fc_answer": "We replaced the kettle on the spot.",
           "delay_reasons": "We are waiting for the maker's report.", "circumstances": "Whether the leak is a defect.",
           "deemed_remedy": "A refund of the price.", "body": "Please send us a photo of the receipt."},
    "uk": {"decision_reasons": "Сервіс підтвердив несправність ущільнювача.", "legal_basis": "Пункт 7 умов.",
           "remedy": "Ми замінимо ущільнювач.", "fc_answer": "Ми одразу замінили чайник.",
           "delay_reasons": "Ми чекаємо висновку виробника.", "circumstances": "Чи є протікання дефектом.",
           "deemed_remedy": "Повернення коштів.", "body": "Просимо надіслати фото чека."},
}
# What each letter type is written from (the rest of its facts come from the complaint's rows).
FACTS = {
    "acknowledgement": {}, "escalation_notice": {}, "withdrawal_confirmation": {},
    "holding_letter": {"expected_on": "2026-12-20"}, "delay_response": {"expected_on": "2026-12-20"},
    "final_response": {"decision": "partly_upheld", "compensation_amount": 450.5, "compensation_approved": True},
    "summary_resolution": {"decision": "resolved_first_contact"},
    "correspondence": {"subject": "Prośba o dokument"},
}


def text_of(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def flat(text: str) -> str:
    return wording.normalise(text)


@pytest.fixture
def complaint_at(app, people):
    """A complaint registered as staff do (real rows: a customer with a postal address and a salutation)."""
    def make(jurisdiction: str, regime: str, language: str, **fields):
        details = {**CUSTOMERS[language]}
        name = details.pop("name")
        customer, _ = customer_for(people.staff, name, f"c{uuid.uuid4().hex[:8]}@example.test", None, language,
                                   details=details, new=True)
        complaint = register_complaint(
            people.staff, customer=customer, channel="phone", category=fields.pop("category", "product"),
            description=fields.pop("description", "Czajnik przecieka."), product="Kettle K1",
            claimed_amount=Decimal("900.00"), currency=CURRENCY[jurisdiction], language=language,
            jurisdiction=jurisdiction, regime=regime,
            received_at=fields.pop("received_at", datetime(2026, 11, 2, 23, 30, tzinfo=timezone.utc)), **fields)
        db.session.commit()
        return complaint
    return make


def written(people, complaint, letter_type: str, **facts) -> tuple[Letter, str]:
    """A letter of ``letter_type`` written for the complaint and rendered by the worker's own code; its text."""
    texts = {**TEXTS[complaint.language]}
    context = {**FACTS.get(letter_type, {}), **facts, "texts": texts, "text_labels": {}}
    letter = issue_letter(complaint, letter_type, task_id=f"t-{uuid.uuid4().hex[:8]}", context=context,
                          actor=people.investigator)
    db.session.commit()
    assert render_letter(letter.id), letter.error
    db.session.commit()
    _, path = letter_pdf(people.admin, letter.id)
    return letter, flat(text_of(path.read_bytes()))


MATRIX = [(t, lang, place) for t in sorted(FACTS) for lang in LANGUAGES for place in PLACES
          if not (t == "delay_response" and place[0] != "GB") and not (t == "summary_resolution" and place[0] != "GB")]


@pytest.mark.parametrize("letter_type, language, place", MATRIX,
                         ids=[f"{t}-{lang}-{p[0]}-{p[1]}" for t, lang, p in MATRIX])
def test_every_letter_in_every_language_for_every_place_from_real_rows(people, complaint_at, letter_type,
                                                                      language, place):
    complaint = complaint_at(*place, language)
    letter, text = written(people, complaint, letter_type)
    head = db.session.get(Letterhead, place[0])
    received = wording.long_date(receipt_date(complaint.received_at, place[0]), language)  # the customer's day
    for expected in (complaint.reference, f"{complaint.reference}/{letter.number}", received, head.legal_name,
                     CUSTOMERS[language]["street"], CUSTOMERS[language]["postcode"],
                     {"pl": "Strona 1", "en": "Page 1", "uk": "Сторінка 1"}[language]):
        assert flat(expected) in text, (letter_type, language, place, expected)
    assert f"/standards?lang={language}" in text.replace(" ", "")  # the published procedure, linked
    others = {"PL", "GB", "UA"} - {place[0]}
    for country in others:  # a UK letter never carries the Polish letterhead, and so on
        assert db.session.get(Letterhead, country).legal_name not in text
    assert "ec.europa.eu/consumers/odr" not in text  # the EU ODR platform closed in 2025
    double = re.search(r"(?<!\.)\.\.(?!\.)", text)
    assert not double, ("a double full stop", text[max(0, double.start() - 80):double.end() + 20])
    assert not re.search(r"\w'\w", text), "a straight apostrophe"
    if language == "uk":
        assert f"№ {complaint.reference}" in text


# -- What the law requires, element by element, checked in the PDF's text ---------------------------------
# (letter type, place, facts, language, the rule, the phrases that carry it)
ELEMENTS = [
    ("final_response", ("GB", "financial"), {"decision": "rejected"}, "en",
     "FCA DISP 1.6.2R(1)(c): rejects the complaint and gives reasons",
     ["We do not uphold your complaint", "Our reasons: Our engineer confirmed the faulty seal."]),
    ("final_response", ("GB", "financial"), {"decision": "upheld"}, "en",
     "FCA DISP 1.6.2R(1)(a): accepts the complaint and offers redress",
     ["We uphold your complaint", "What we will do: We will replace the seal."]),
    ("final_response", ("GB", "financial"), {"decision": "rejected"}, "en",
     "FCA DISP 1.6.2R(1)(da), (e): the website, the right to refer now",
     ["you may now refer your complaint to the Financial Ombudsman Service", "www.financial-ombudsman.org.uk"]),
    ("final_response", ("GB", "financial"), {"decision": "rejected"}, "en",
     "Financial Ombudsman Service's phone and address",
     ["0800 023 4567", "Exchange Tower, London E14 9SR"]),
    ("final_response", ("GB", "financial"), {"decision": "rejected"}, "en",
     "DISP 1 Annex 3R (1): the firm does not consent to waive the six-month limit, verbatim",
     ["You have the right to refer your complaint to the Financial Ombudsman Service, free of charge – but you "
      "must do so within six months of the date of this letter.",
      "If you do not refer your complaint in time, the Ombudsman will not have our permission to consider your "
      "complaint and so will only be able to do so in very limited circumstances. For example, if the Ombudsman "
      "believes that the delay was as a result of exceptional circumstances."]),
    ("final_response", ("GB", "financial"), {"decision": "rejected", "outside_time_limits": True}, "en",
     "DISP 1 Annex 3R (2): the complaint is already out of time and the firm does not consent, verbatim",
     ["what you’re complaining about happened more than six years ago, and",
      "We think that your complaint was made outside of these time limits but this is a matter for the Ombudsman "
      "to decide."]),
    ("final_response", ("GB", "payment_services"), {"decision": "rejected"}, "pl",
     "FCA DISP 1 Annex 3R in a Polish letter: the required English wording and its translation; FOS never "
     "'Rzecznik'", ["You have the right to refer your complaint to the Financial Ombudsman Service, free of charge",
                    "W tłumaczeniu:"]),
    ("final_response", ("GB", "consumer"), {"decision": "rejected"}, "en",
     "ADR Regulations 2015 reg. 19(2) (DMCC Act 2024 s. 308): cannot settle; the ADR body, its website; "
     "prepared to use it", ["we cannot settle your complaint with you", "Retail ADR (www.retailadr.org.uk)",
                            "We are prepared to take part in its procedure."]),
    ("delay_response", ("GB", "financial"), {}, "en",
     "FCA DISP 1.6.2R(2): why not yet, when it is expected, the right to refer now, the website",
     ["Why we need more time: We are waiting for the maker’s report.", "by 20 December 2026",
      "you may now refer your complaint to the Financial Ombudsman Service", "www.financial-ombudsman.org.uk"]),
    ("summary_resolution", ("GB", "financial"), {}, "en",
     "FCA DISP 1.5.4R (1)-(5): resolved; may later refer; Annex 3R wording; the website; more information there",
     ["We now consider your complaint to have been resolved", "you may be able to refer it to the Financial "
      "Ombudsman Service", "You have the right to refer your complaint to the Financial Ombudsman Service, free of "
      "charge", "You can find further information on its website, www.financial-ombudsman.org.uk"]),
    ("acknowledgement", ("GB", "financial"), {}, "en",
     "FCA DISP 1.6.1R(1)(b): the eight-week statement; DISP 1.2.1R(3)(b): the complaints procedure summary",
     ["within eight weeks of receiving your complaint", "Our complaints procedure in brief",
      "Financial Ombudsman Service (www.financial-ombudsman.org.uk)"]),
    ("acknowledgement", ("GB", "payment_services"), {}, "en",
     "FCA DISP 1.6.1R(1)(b)(i): 15 business days, exceptionally a holding response and 35",
     ["within 15 business days of receiving it", "final response within 35 business days"]),
    ("final_response", ("PL", "financial"), {"decision": "rejected"}, "pl",
     "Act of 5 August 2015 art. 9(1): reasons of fact and law",
     ["Uzasadnienie faktyczne i prawne", "Stan faktyczny i nasze stanowisko: Wadę uszczelki potwierdził serwis.",
      "Podstawa prawna: Punkt 7 regulaminu usługi."]),
    ("final_response", ("PL", "financial"), {"decision": "rejected"}, "pl",
     "Act of 5 August 2015 art. 9(3): the name and position of the person answering",
     ["p-investigator", "Specjalista ds. reklamacji"]),  # the tests' investigator, by their display name
    ("final_response", ("PL", "financial"), {"decision": "rejected"}, "pl",
     "Act of 5 August 2015 art. 10(1)-(4): appeal and how; mediation or arbitration; the Rzecznik Finansowy as "
     "its own right; the common court, the defendant and the court",
     ["wnieść do nas odwołanie od stanowiska zawartego w tej odpowiedzi — w ciągu 30 dni",
      "skorzystać z mediacji albo sądu polubownego",
      "wystąpić z wnioskiem o rozpatrzenie sprawy do Rzecznika Finansowego",
      "wystąpić z powództwem do sądu powszechnego. Pozwanym powinna być Example Retail Sp. z o.o.",
      "sąd siedziby pozwanego (art. 30 Kodeksu postępowania cywilnego)"]),
    ("final_response", ("PL", "financial"), {"decision": "upheld"}, "pl",
     "Act of 5 August 2015 art. 9(4): the day by which an upheld claim is carried out (at most 30 days)",
     ["Roszczenie uwzględnione w tej odpowiedzi zrealizujemy do dnia", "nie później niż 30 dni"]),
    ("final_response", ("PL", "financial"), {"decision": "upheld", "deemed_accepted": True}, "pl",
     "Act of 5 August 2015 art. 8: unanswered in time, deemed decided in the customer's favour",
     ["zgodnie z art. 8 ustawy z dnia 5 sierpnia 2015 r.", "reklamację uważa się za rozpatrzoną zgodnie z "
      "Pani wolą"]),
    ("holding_letter", ("PL", "financial"), {}, "pl",
     "Act of 5 August 2015 art. 7: the reason, what is still to be established, the expected date (≤ 60 days)",
     ["Informacja na podstawie art. 7 ustawy", "Przyczyna opóźnienia: Czekamy na opinię producenta.",
      "Okoliczności, które muszą zostać ustalone dla rozpatrzenia sprawy: Czy przeciek to wada fabryczna.",
      "Przewidywany termin rozpatrzenia reklamacji i udzielenia odpowiedzi: 20 grudnia 2026 r.",
      "nie później niż 60 dni"]),
    ("holding_letter", ("PL", "payment_services"), {}, "pl",
     "Act of 5 August 2015 art. 7a(2): payment services, at most 35 business days",
     ["art. 7a ust. 2", "nie później niż 35 dni roboczych"]),
    ("acknowledgement", ("PL", "financial"), {}, "pl",
     "Act of 5 August 2015 art. 5: on paper, by e-mail only at the customer's request",
     ["Odpowiedź prześlemy w postaci papierowej, a pocztą elektroniczną wyłącznie na Pani wniosek"]),
    ("final_response", ("PL", "consumer"), {"decision": "partly_upheld"}, "pl",
     "The decision in Polish legal wording", ["reklamację uwzględniliśmy w części"]),
    ("final_response", ("PL", "consumer"), {"decision": "rejected"}, "pl",
     "The rejection in Polish legal wording", ["reklamacji nie uwzględniliśmy"]),
    ("final_response", ("PL", "consumer"), {"decision": "rejected"}, "pl",
     "Consumer Rights Act art. 43a ff. (goods, since 2023) and art. 7a named correctly",
     ["art. 43a i następnych ustawy z dnia 30 maja 2014 r. o prawach konsumenta",
      "Odpowiadamy w terminie określonym w art. 7a tej ustawy"]),
    ("final_response", ("PL", "consumer"), {"decision": "rejected"}, "pl",
     "Act of 23 September 2016 art. 32: the statement on out-of-court resolution and the competent body",
     ["wyrażamy zgodę na udział w postępowaniu w sprawie pozasądowego rozwiązywania sporów konsumenckich",
      "Podmiotem uprawnionym właściwym dla nas jest Wojewódzki Inspektorat Inspekcji Handlowej w Warszawie"]),
    ("final_response", ("PL", "consumer"), {"decision": "partly_upheld"}, "pl",
     "How and when the money is paid", ["Rekompensata 450,50 zł", "przelejemy na rachunek, który Pani "
                                                                 "wskaże"]),
    ("final_response", ("PL", "consumer"), {"decision": "upheld", "deemed_accepted": True}, "pl",
     "Consumer Rights Act art. 7a(2): unanswered in 14 days, deemed accepted",
     ["zgodnie z art. 7a ust. 2 ustawy z dnia 30 maja 2014 r.", "uważa się, że reklamacja została uznana"]),
    ("final_response", ("UA", "consumer"), {"decision": "rejected"}, "uk",
     "Law on Citizens' Appeals art. 15: signed by the head", ["Олена Шевченко", "Директор"]),
    ("final_response", ("UA", "consumer"), {"decision": "rejected"}, "uk",
     "Law on Citizens' Appeals arts 16-17: the appeal to the body above within one year / one month, or a court",
     ["протягом одного року з моменту його прийняття, але не пізніше одного місяця з часу ознайомлення з ним",
      "Держпродспоживслужба", "до суду"]),
    ("acknowledgement", ("UA", "consumer"), {}, "uk",
     "Law on Citizens' Appeals art. 20: one month, 15 days, 45 days at most",
     ["не більше одного місяця", "не пізніше 15 днів", "не може перевищувати 45 днів"]),
    ("final_response", ("UA", "consumer"), {"decision": "partly_upheld"}, "uk",
     "Amounts as Ukrainian writes them", ["1 234,50 грн"]),
    ("final_response", ("GB", "financial"), {"decision": "partly_upheld"}, "en",
     "Amounts as English writes them", ["£1,234.50"]),
]


@pytest.mark.parametrize("letter_type, place, facts, language, rule, phrases", ELEMENTS,
                         ids=[f"{e[0]}-{e[1][0]}-{e[1][1]}-{e[4][:40]}" for e in ELEMENTS])
def test_each_element_the_law_requires_is_in_the_letter(people, complaint_at, letter_type, place, facts,
                                                        language, rule, phrases):
    people.investigator.position = {"pl": "Specjalista ds. reklamacji", "en": "Complaints specialist"}
    complaint = complaint_at(*place, language)
    if "compensation_amount" not in facts and facts.get("decision") in ("partly_upheld",):
        facts = {**facts, "compensation_amount": 1234.5 if place[0] != "PL" else 450.5,
                 "compensation_approved": True}
    _letter, text = written(people, complaint, letter_type, **facts)
    for phrase in phrases:
        assert flat(phrase) in text, (rule, phrase)
    if language == "pl":
        assert "Rzecznik Financial" not in text and "Rzecznik nie" not in text  # the FOS is never "Rzecznik"


# In Polish a letter to Ms Nowak says "Pani" and "może Pani" throughout; "Państwo" is for the neutral greeting
# ("Szanowni Państwo"): a single person written to as "Państwo" reads to a Polish editor as an error.
FORMS = {"ms": (re.compile(r"\bPani(ą)?\b"), re.compile(r"\bPaństw(o|a|u|em)\b|\bPan(a|u|em)?\b")),
         "mr": (re.compile(r"\bPan(a|u|em)?\b"), re.compile(r"\bPaństw(o|a|u|em)\b|\bPani(ą)?\b")),
         None: (re.compile(r"\bPaństw(o|a|u|em)\b"), re.compile(r"\bPani(ą)?\b|\bPan(a|u|em)?\b"))}


@pytest.mark.parametrize("title", ["ms", "mr", None])
def test_a_polish_letter_speaks_to_its_addressee_in_one_form_throughout(app, title):
    from complaints_app.domain.letters import letter_context_for, sample
    from complaints_app.letters import plain_text

    said, never = FORMS[title]
    for letter_type in renderer().letter_types():
        for jurisdiction, regime in PLACES:
            for facts in ({"decision": "upheld"}, {"decision": "rejected", "deemed_accepted": True},
                          {"decision": "partly_upheld", "outside_time_limits": True}):
                letter, complaint = sample(letter_type, "pl", jurisdiction, regime)
                letter.context.update(facts)
                if "body" in letter.context["texts"]:  # staff's own words in a free letter are theirs to choose
                    letter.context["texts"]["body"] = "Prosimy o zdjęcie paragonu."
                complaint.customer.title = title
                text = plain_text(renderer().html(letter_type, "pl", letter_context_for(letter, complaint)))
                text = text.replace(complaint.customer.name, "")
                wrong = never.search(text)
                assert wrong is None, (letter_type, jurisdiction, regime, facts, wrong.group(0))
                if letter_type in ("acknowledgement", "final_response"):  # these speak to the customer in person
                    assert said.search(text), (letter_type, jurisdiction, regime)


def test_a_ukrainian_letter_with_real_dates_passes_its_own_check(people, complaint_at):
    """Babel writes Ukrainian dates with a narrow no-break space; both sides of the check are normalised."""
    complaint = complaint_at("UA", "consumer", "uk", received_at=datetime(2026, 12, 5, 9, 41, tzinfo=timezone.utc))
    letter, text = written(people, complaint, "final_response", decision="rejected")
    assert letter.status == "rendered" and letter.error is None
    assert "5 грудня 2026 року" in text and "Шановна пані Олено!" in text


def test_salutations_by_form_of_address_with_a_neutral_fallback():
    assert wording.salutation("pl", "ms", "Anna", "Nowak", "Anna Nowak") == "Szanowna Pani,"
    assert wording.salutation("pl", "mr", "Jan", "Nowak", "Jan Nowak") == "Szanowny Panie,"
    assert wording.salutation("pl", None, None, None, "Firma X") == "Szanowni Państwo,"
    assert wording.salutation("en", "ms", "Sarah", "Smith", "Sarah Smith") == "Dear Ms Smith,"
    assert wording.salutation("en", None, None, None, "Sarah Smith") == "Dear Sarah Smith,"
    assert wording.salutation("uk", "ms", "Олена", "Петренко", "x") == "Шановна пані Олено!"
    assert wording.salutation("uk", "mr", "Іван", "Петренко", "x") == "Шановний пане Іване!"
    assert wording.salutation("uk", "mr", "Петро", "Іваненко", "x") == "Шановний пане Петре!"
    assert wording.salutation("uk", "ms", "Ольга", "x", "x") == "Шановна пані Ольго!"
    assert wording.salutation("uk", "ms", "Sarah", "Smith", "x") == "Добрий день!"  # no vocative: neutral
    assert wording.salutation("uk", None, "Олена", None, "x") == "Добрий день!"


def test_dates_amounts_references_and_punctuation_as_each_language_writes_them():
    from datetime import date

    assert wording.long_date(date(2026, 12, 5), "pl") == "5 grudnia 2026\u00a0r."
    assert wording.long_date(date(2026, 12, 5), "en") == "5 December 2026"
    assert wording.long_date(date(2026, 12, 5), "uk") == "5 грудня 2026\u00a0року"
    assert flat(wording.amount("1234.5", "PLN", "pl")) == "1 234,50 zł"
    assert wording.amount("1234.5", "GBP", "en") == "£1,234.50"
    assert flat(wording.amount("1234.5", "PLN", "en")) == "PLN 1,234.50"
    assert flat(wording.amount("1234.5", "UAH", "uk")) == "1 234,50 грн"
    assert flat(wording.reference("C-2026-000123", "uk")) == "№ C-2026-000123"
    assert wording.typographic("з'ясує, don't", "uk") == "з’ясує, don’t"
    assert [wording.sentence(t) for t in ("Done", "Done.", "Done..", "Done...", "Done!")] == [
        "Done.", "Done.", "Done.", "Done...", "Done!"]
    assert wording.normalise("5\u202fгрудня\u00a02026  р.") == "5 грудня 2026 р."


def test_a_letter_quotes_only_what_the_diagram_marks_for_the_customer(people, register, open_task, complete):
    """First contact's 'What was done' is for colleagues; 'What we tell the customer' is for the letter."""
    from tests.test_paths import render_drafts

    complaint = register(people.staff, description="Kettle <b>leaks</b> – internal remark")
    complete(people.staff, open_task(complaint, "First contact"), fc_resolved=True,
             fc_summary="Customer was rude; gave a voucher to calm them", fc_answer="We replaced your kettle")
    render_drafts(complaint)
    letters = list(db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id).order_by(Letter.id)))
    text = " ".join(flat(text_of(letter_pdf(people.staff, letter.id)[1].read_bytes())) for letter in letters)
    assert "We replaced your kettle" in text
    assert "rude" not in text and "voucher" not in text  # staff's own note never reaches the customer
    assert "internal remark" not in text  # the description is not quoted unless marked
    final = letters[-1]
    assert final.context["texts"] == {"fc_answer": "We replaced your kettle"}


def test_a_description_marked_as_the_customers_own_words_is_quoted_back(people, complaint_at):
    complaint = complaint_at("PL", "consumer", "pl", quote_description=True,
                             description="Czajnik przecieka od spodu.")
    _letter, text = written(people, complaint, "acknowledgement")
    assert "Reklamacja w Pani słowach: Czajnik przecieka od spodu." in text


def test_a_letter_without_its_countrys_letterhead_fails_with_the_reason_and_is_made_again_once_set(
        people, complaint_at, login):
    complaint = complaint_at("GB", "financial", "en")
    head = db.session.get(Letterhead, "GB")
    saved = {c.key: getattr(head, c.key) for c in Letterhead.__table__.columns}
    db.session.delete(head)
    db.session.commit()
    letter = issue_letter(complaint, "acknowledgement", task_id="t-gb", context={"texts": {}}, actor=people.staff)
    db.session.commit()
    assert render_letter(letter.id) is False
    db.session.commit()
    assert letter.status == "failed" and "no letterhead for GB" in letter.error  # never the Polish one
    db.session.add(Letterhead(**saved))
    db.session.commit()
    client = login(people.staff)
    assert client.post(f"/letters/{letter.id}/render").status_code == 302
    db.session.refresh(letter)
    assert letter.status == "draft" and render_letter(letter.id) is True


def test_a_ukrainian_answer_without_a_signatory_is_refused(people, complaint_at):
    complaint = complaint_at("UA", "consumer", "uk")
    db.session.get(Letterhead, "UA").signatory_name = None
    db.session.commit()
    letter = issue_letter(complaint, "final_response", task_id="t-ua", actor=people.investigator,
                          context={"decision": "rejected", "texts": {}})
    db.session.commit()
    assert render_letter(letter.id) is False
    assert "signed by the head" in letter.error


class _Spy(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        _Spy.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_hostile_name_address_and_text_are_printed_literally_and_fetch_nothing(people, complaint_at):
    server = HTTPServer(("127.0.0.1", 0), _Spy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/x"
    hostile = (f'<img src="{url}"><link rel="attachment" href="file:///etc/passwd">'
               f'<style>body{{background:url({url})}}</style>{{{{ company.email }}}}{{% raw %}}')
    try:
        complaint = complaint_at("PL", "consumer", "pl")
        complaint.customer.name = hostile[:200]
        complaint.customer.street = f'<p style="background:url({url})">ul. X</p>'[:200]
        complaint.customer.city = "{{ 7*7 }}"
        db.session.commit()
        letter, text = written(people, complaint, "correspondence", subject="{{ config }}")
        pdf = letter_pdf(people.staff, letter.id)[1].read_bytes()
    finally:
        server.shutdown()
        server.server_close()
    assert _Spy.hits == []
    assert b"root:x:0:0" not in pdf and b"/EmbeddedFile" not in pdf
    assert flat('<img src="http://127.0.0.1') in text and "{{ company.email }}" in text
    assert "{{ 7*7 }}" in text and "{{ config }}" in text  # never evaluated


def test_both_sides_of_the_mandatory_text_check_are_normalised(people, complaint_at):
    from complaints_app.domain.letters import letter_context_for

    complaint = complaint_at("UA", "consumer", "uk")
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    context = letter_context_for(letter, complaint)
    for space in ("\u202f", "\u00a0", "\u2009", " "):  # however Babel or a template spaces a date
        varied = {**context, "received_on": context["received_on"].replace(" ", space)}
        html = renderer().html("acknowledgement", "uk", varied).replace("\u00a0", "\u202f")
        assert renderer().missing_clauses("acknowledgement", "uk", varied, html) == []


def test_a_letter_lacking_what_the_law_requires_is_refused_never_sent(people, complaint_at):
    """A UK consumer's final letter must name the ADR body: without one configured it is not made."""
    complaint = complaint_at("GB", "consumer", "en")
    head = db.session.get(Letterhead, "GB")
    head.adr_name = None
    db.session.commit()
    letter = issue_letter(complaint, "final_response", task_id="t-adr", actor=people.investigator,
                          context={"decision": "rejected", "texts": {}})
    db.session.commit()
    assert render_letter(letter.id) is False
    assert letter.status == "failed" and "alternative dispute resolution" in letter.error
    assert letter.pdf_sha256 is None and letter.next_attempt_at is None


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
    complete(people.staff, open_task(complaint), fc_resolved=True, fc_summary="Replaced the kettle",
             fc_answer="We replaced the kettle")
    drafts = list(db.session.scalars(select(Letter).where(Letter.complaint_id == complaint.id).order_by(Letter.id)))
    assert [(d.letter_type, d.status, d.number) for d in drafts] == [("acknowledgement", "draft", 1),
                                                                     ("final_response", "draft", 2)]
    final = drafts[1]
    assert render_letter(final.id) is True
    assert render_letter(final.id) is False  # a second message for the same letter changes nothing
    db.session.commit()
    db.session.refresh(final)
    assert final.status == "rendered" and final.template_version == renderer().meta("final_response")["version"]
    assert final.signed_by_id == people.staff.id  # who resolved it at first contact answers
    _, path = letter_pdf(people.staff, final.id)
    text = flat(text_of(path.read_bytes()))
    assert complaint.reference in text and "We replaced the kettle" in text and "Podstawa prawna" in text


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
    written_file = outbox / outbox_name(letter.message_id)
    assert written_file.stat().st_mtime == pytest.approx(letter.sent_at.timestamp(), abs=5)  # not written again
    message = BytesParser(policy=policy.default).parsebytes(written_file.read_bytes())
    assert message["Message-ID"] == letter.message_id and message["To"] == complaint.customer.email
    assert f"{complaint.reference}/1" in message["Subject"]
    assert "/standards?lang=pl" in message.get_body(("plain",)).get_content()  # the procedure, linked
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
    assert correction.corrects_id == letter.id and correction.number == letter.number + 1
    render_letter(correction.id)
    send_letter(correction.id)
    db.session.commit()
    db.session.refresh(letter)
    assert letter.pdf_sha256 == sent_hash and letter.status == "sent"  # the sent one never changes
    _, path = letter_pdf(people.staff, correction.id)
    assert "The reference date was wrong." in flat(text_of(path.read_bytes()))
    assert correction.status == "sent" and correction.message_id != letter.message_id
    refused = client.post(f"/letters/{correction.id}/correct", data={"note": ""})
    assert refused.status_code == 302 and correction.version == 2


def test_without_fonts_for_polish_and_ukrainian_the_renderer_refuses_to_start(monkeypatch):
    import subprocess

    from complaints_app import letters as letters_module

    monkeypatch.setattr(letters_module.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout="", stderr=""))
    with pytest.raises(LetterError, match="install fonts-dejavu-core"):
        LetterRenderer(ROOT)


def test_the_outbox_page_lists_each_written_message_with_its_letter(people, register, open_task, complete, login):
    from complaints_app.mail import outbox_name
    from complaints_app.tasks.jobs import deliver_letter as send_letter

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
    complaint = register(people.staff, description="<script>alert(1)</script> kettle", quote_description=True)
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    page = login(people.staff).get(f"/letters/{letter.id}").data.decode()
    assert letter.status == "draft" and 'class="letter-sheet"' in page and complaint.reference in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
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


def test_the_day_of_receipt_is_the_customers_day(people, complaint_at):
    from complaints_app.domain.letters import letter_context_for

    # Received at 00:30 in Warsaw on 3 November: 2 November in UTC, but the customer's day is the 3rd.
    complaint = complaint_at("PL", "consumer", "pl", received_at=datetime(2026, 11, 2, 23, 30, tzinfo=timezone.utc))
    letter = db.session.scalar(select(Letter).where(Letter.complaint_id == complaint.id))
    assert letter_context_for(letter, complaint)["received_on"] == "3 listopada 2026\u00a0r."
    letter.language = "en"
    assert letter_context_for(letter, complaint)["received_on"] == "3 November 2026"
