"""Every page works in Polish and in English: no message without its Polish translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "complaints_app" / "translations" / "pl" / "LC_MESSAGES" / "messages.po"
METHODS = [("complaints_app/**.py", "python"), ("complaints_app/web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}


def test_every_message_has_a_polish_translation():
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh)
    # A plural message's id and string are tuples: (singular, plural) and one string per Polish form.
    # A message with a context (pgettext: "open" as a status, "open" as a task) is its own entry.
    translated = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalog
                  if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string])
                  and "fuzzy" not in m.flags}
    found = {(msg[4], msg[2] if isinstance(msg[2], str) else msg[2][0])
             for msg in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)}
    found.discard((None, ""))
    missing = sorted((m for m in found if m not in translated), key=lambda m: (m[0] or "", m[1]))
    assert missing == [], f"add these to {CATALOG.relative_to(ROOT)} (pybabel update, then translate): {missing}"


def test_pages_follow_the_browser_and_then_the_users_choice(login, people, web):
    assert "Zaloguj" in web.get("/login", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).data.decode()
    assert "Log in" in web.get("/login", headers={"Accept-Language": "en-GB"}).data.decode()
    client = login(people.staff)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    page = client.get("/inbox", headers={"Accept-Language": "en"}).data.decode()
    assert "Skrzynka zadań" in page and "Moje zadania" in page
    client.post("/language", data={"language": "en", "next": "/inbox"})
    assert "My tasks" in client.get("/inbox").data.decode()


def test_errors_speak_the_users_language(login, people, register, open_task):
    complaint = register(people.staff)
    task = open_task(complaint)
    client = login(people.staff)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    page = client.post(f"/tasks/{task.id}", data={"fc_resolved": "maybe", "fc_summary": ""}).data.decode()
    assert "musi być „tak” lub „nie”" in page and "pole wymagane" in page
    assert "Pierwszy kontakt" in page  # the task's name as the diagram gives it in Polish
    client.post("/language", data={"language": "en", "next": "/inbox"})


def test_a_polish_page_names_statuses_channels_categories_and_letters_in_polish(login, people, register, open_task):
    complaint = register(people.staff)
    client = login(people.staff)
    client.post(f"/tasks/{open_task(complaint).id}/claim")
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    for word in ("otwarta", "telefon", "produkt", "konsumencki", "pierwsza linia", "potwierdzenie przyjęcia", "polski",
                 "Wyślij potwierdzenie przyjęcia", "Kwalifikacja", "obsługa klienta",  # the history, the role
                 "Kodeks cywilny art. 111", "reklamację uważa się za uznaną",  # the deadline's reasoning
                 "„Pierwszy kontakt”"):  # the claim, recorded without a diagram version
        assert word in page, word
    weekdays = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
    assert any(f"({day})" in page for day in weekdays)
    listed = client.get("/complaints").data.decode()
    assert ">czeka na klienta</option>" in listed  # the status filter
    assert ">telefon</option>" in client.get("/complaints/new").data.decode()
    client.post("/language", data={"language": "en", "next": "/inbox"})
    assert "acknowledgement" in client.get(f"/complaints/{complaint.reference}").data.decode()


def test_the_diagram_viewer_gets_the_diagram_named_in_the_readers_language(login, people, register):
    complaint = register(people.staff)
    client = login(people.staff)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    xml = client.get(f"/complaints/{complaint.reference}/diagram").json["xml"]
    assert 'name="Pierwszy kontakt"' in xml and 'name="First contact"' not in xml
    # the pool, the lanes and the labelled flows too, not only the steps
    for polish in ("Obsługa reklamacji", "Centrum obsługi klienta", "Przełożony", "Tak", "Odwołanie"):
        assert f'name="{polish}"' in xml
    assert not any(f'name="{english}"' in xml for english in ("Supervisor", "Yes", "Appeal"))
    assert 'id="Participant_Complaint" name="Obsługa reklamacji"' in xml
    # a form field's own Polish label stays on the field: it never renames the task that holds it
    assert 'label="Resolved with the customer?"' in xml and 'name="Sprawa rozwiązana z klientem?"' not in xml
    client.post("/language", data={"language": "en", "next": "/inbox"})
    xml = client.get(f"/complaints/{complaint.reference}/diagram").json["xml"]
    assert 'name="First contact"' in xml and 'name="Customer centre"' in xml and 'name="Appeal"' in xml


def test_every_moment_on_a_page_is_written_one_way_in_the_readers_time_zone(login, people, register):
    from datetime import datetime, timezone
    import re

    complaint = register(people.staff, received_at=datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc))
    client = login(people.staff)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    page = client.get(f"/complaints/{complaint.reference}").data.decode()
    assert "1 gru 2026, 00:30" in page  # received: 23:30 UTC is past midnight in Warsaw
    history = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', page)
    assert history and all(re.fullmatch(r"\d{1,2} [a-ząćęłńóśźż]{3} \d{4}, \d{2}:\d{2}", t) for t in history), history
    text = re.sub(r"<[^>]*>", " ", page)  # what the reader sees, not the machine-readable attributes
    assert not re.search(r"\d{2}\.\d{2}\.\d{4}|\d{2}:\d{2}:\d{2}", text)  # no numeric dates, no seconds
    client.post("/language", data={"language": "en", "next": "/inbox"})
    assert "Dec 1, 2026, 12:30\u202fAM" in client.get(f"/complaints/{complaint.reference}").data.decode()


def test_a_refusal_names_the_roles_in_the_readers_words(login, people):
    client = login(people.supervisor)
    client.post("/language", data={"language": "pl", "next": "/inbox"})
    refused = client.get("/processes")
    assert refused.status_code == 403
    page = refused.data.decode()
    assert "właściciel procesu" in page and "process_owner" not in page
    client.post("/language", data={"language": "en", "next": "/inbox"})


def test_the_way_to_the_login_page_speaks_the_readers_language(web):
    response = web.get("/complaints", headers={"Accept-Language": "pl-PL,pl;q=0.9"}, follow_redirects=True)
    page = response.data.decode()
    assert response.request.path == "/login"
    assert "Zaloguj się, aby zobaczyć tę stronę." in page and "Please log in" not in page
    page = web.get("/complaints", headers={"Accept-Language": "en-GB"}, follow_redirects=True).data.decode()
    assert "Please log in to see this page." in page
