"""Letters on paper in a real browser: a customer with only a postal address, a letter written by hand,
the print run and the day posted; and the published procedure a Ukrainian customer reads."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from complaints_app.letters import wording

from tests.e2e.test_journey import log_in


def register_by_post(page) -> str:
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Customer name").fill("Jan Kowalski")
    page.get_by_label("How to address them").select_option("mr")
    page.get_by_label("Given name", exact=True).fill("Jan")
    page.get_by_label("Family name").fill("Kowalski")
    page.get_by_label("Phone", exact=True).fill("+48 600 100 200")
    page.get_by_label("Street and number").fill("ul. Długa 5 m. 3")
    page.get_by_label("Postcode").fill("00-950")
    page.get_by_label("Town").fill("Warszawa")
    page.get_by_label("Channel").select_option("letter")
    page.get_by_label("Category").select_option("product")
    page.get_by_label("What happened").fill("Czajnik przecieka od pierwszego dnia.")
    page.get_by_label("Customer's language").select_option("pl")
    page.get_by_role("button", name="Register").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("C-")
    return re.search(r"C-\d{4}-\d{6}", heading.inner_text()).group(0)


def test_a_customer_without_email_gets_paper_letters_printed_in_one_run(page, worker, shoot):
    log_in(page, "sara")
    reference = register_by_post(page)
    worker()  # the acknowledgement's PDF made
    page.reload()
    acknowledgement = page.locator("tr.letter").filter(has_text="acknowledgement")
    expect(acknowledgement).to_contain_text("by post")
    expect(page.locator(".address")).to_contain_text("00-950 Warszawa")

    # A letter in free text, in the customer's language and the company's frame: previewed before it goes.
    page.get_by_role("link", name="Write to the customer").click()
    page.get_by_label("Subject").fill("Prośba o zdjęcia")
    page.get_by_label(re.compile("^The letter")).fill("Prosimy o zdjęcia czajnika.\n\nDziękujemy za cierpliwość.")
    page.get_by_role("button", name="Preview").click()
    sheet = page.locator("article.letter-sheet")
    expect(sheet).to_contain_text("Szanowny Panie")  # the greeting is added, in the vocative
    expect(sheet).to_contain_text("Prosimy o zdjęcia czajnika.")
    expect(sheet).to_contain_text("00-950 Warszawa")  # the window envelope's address
    expect(sheet).to_contain_text(f"{reference}/2")
    shoot(page, "write-preview")
    page.get_by_role("button", name="Send this letter").click()
    expect(page.locator(".flash")).to_contain_text(f"{reference}/2")
    worker()  # its PDF made: both letters wait in the print queue
    page.reload()
    expect(page.locator("tr.letter").filter(has_text="Prośba o zdjęcia")).to_contain_text("In the print queue")
    page.goto("/post")
    waiting = page.locator("table.list").first
    expect(waiting).to_contain_text(f"{reference}/1")
    expect(waiting).to_contain_text(f"{reference}/2")
    shoot(page, "post-waiting")
    page.get_by_role("button", name="Make today’s print run").click()
    expect(page.locator(".flash")).to_contain_text("its PDF is being made")
    worker()  # the run assembled into one PDF
    page.reload()
    run = page.locator("section.print-run").first
    download = run.get_by_role("link", name="Download the PDF to print")
    expect(download).to_be_visible()
    pdf = PdfReader(io.BytesIO(page.request.get(download.get_attribute("href")).body()))
    assert len(pdf.pages) % 2 == 0  # printed on both sides: each letter starts on a fresh sheet
    # Normalised: letters bind "o zdjęcia" with a no-break space.
    text = wording.normalise(" ".join(p.extract_text() for p in pdf.pages))
    assert "Prosimy o zdjęcia czajnika." in text and "ul. Długa 5 m. 3" in text
    run.get_by_role("button", name="Record the letters ticked as posted").click()
    expect(page.locator(".flash")).to_contain_text("2 letters recorded as posted")
    shoot(page, "post-recorded")

    page.goto(f"/complaints/{reference}")
    expect(page.locator("tr.letter").filter(has_text="Prośba o zdjęcia")).to_contain_text("posted")
    expect(page.locator("tr.letter").filter(has_text="acknowledgement")).to_contain_text("posted")
    assert page.console_errors == []


def test_the_published_procedure_speaks_the_readers_language(browser, live_server, shoot):
    context = browser.new_context(base_url=live_server, locale="uk-UA")
    page = context.new_page()
    try:
        page.goto("/standards")  # no login: every letter links it
        expect(page.get_by_role("heading", level=1)).to_have_text("Як ми розглядаємо скарги")
        expect(page.locator("html")).to_have_attribute("lang", "uk")
        expect(page.get_by_role("link", name="українська")).to_have_attribute("aria-current", "page")
        expect(page.locator("table.list")).to_contain_text("ст. 20 Закону «Про звернення громадян»")
        shoot(page, "standards-uk")
        page.get_by_role("link", name="polski").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Jak rozpatrujemy reklamacje")
    finally:
        context.close()
