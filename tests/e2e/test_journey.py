"""The whole journey in a real browser, as people would click and type it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def register(page, name: str, email: str, channel: str, category: str, description: str,
             product: str | None = None, amount: str | None = None, shoot=None) -> str:
    """Fill in the registration form as staff do; returns the new complaint's reference."""
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Customer name").fill(name)
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Channel").select_option(channel)
    page.get_by_label("Category").select_option(category)
    if product:
        page.get_by_label("Product or order").fill(product)
    page.get_by_label("What happened").fill(description)
    if amount:
        page.get_by_label("Amount claimed").fill(amount)
    if shoot:
        shoot(page, "register")
    page.get_by_role("button", name="Register").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("C-")
    return re.search(r"C-\d{4}-\d{6}", heading.inner_text()).group(0)


def open_task(page, reference: str, task: str) -> None:
    page.goto(f"/complaints/{reference}")
    page.get_by_role("link", name=task, exact=True).click()
    expect(page.get_by_role("heading", name=task, exact=True)).to_be_visible()


def test_staff_to_manager_to_resolution(page, worker, shoot):
    log_in(page, "sara")
    shoot(page, "inbox-staff")
    reference = register(page, "Anna Nowak", "anna.nowak@example.com", "phone", "product",
                         "The machine leaks after two weeks; the customer wants a refund.",
                         product="Espresso machine EM-200", amount="4800", shoot=shoot)
    expect(page.locator("tr.letter")).to_contain_text("acknowledgement")
    shoot(page, "complaint-registered")

    open_task(page, reference, "First contact")
    page.get_by_role("radio", name="No").check()
    page.get_by_label("What was done").fill("Offered a repair; the customer insists on a refund.")
    shoot(page, "first-contact")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".flash")).to_contain_text("Done")
    log_out(page)

    log_in(page, "sophie")
    page.get_by_role("link", name="Approvals").click()
    shoot(page, "approvals-escalation")
    page.get_by_role("row", name=re.compile(reference)).get_by_role("link", name="Approve escalation").click()
    page.get_by_role("radio", name="Yes").check()
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#f-escalation_comment-error")).to_be_visible()  # a decision needs its reason
    summary = page.locator(".error-summary")  # read first, and where the keyboard starts
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("1 field to correct")
    summary.get_by_role("link", name=re.compile("Reason for the decision")).click()
    expect(page.get_by_label("Reason for the decision")).to_be_focused()
    page.get_by_role("radio", name="Yes").check()
    page.get_by_label("Reason for the decision").fill("A refund is beyond the desk's authority.")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".status")).to_have_text("escalated")
    log_out(page)

    log_in(page, "ivan")
    page.get_by_role("link", name="For my roles").click()
    shoot(page, "inbox-customer-centre")
    page.get_by_role("row", name=re.compile(reference)).get_by_role("link", name="Investigate").click()
    page.get_by_label("Root cause").select_option("product_defect")
    page.get_by_label(re.compile(r"^Decision")).select_option("upheld")
    page.get_by_label("Reasons for the decision").fill("A known defect of the batch.")
    shoot(page, "investigate")
    page.get_by_role("button", name="Complete").click()
    open_task(page, reference, "Adjust compensation")
    expect(page.get_by_label("Compensation amount")).to_have_value(re.compile(r"^4800"))
    shoot(page, "adjust-compensation")
    page.get_by_role("button", name="Complete").click()
    log_out(page)

    log_in(page, "sophie")
    page.get_by_role("link", name="Approvals").click()
    row = page.get_by_role("row", name=re.compile(reference))
    expect(row).to_contain_text("manager")
    row.get_by_role("link", name="Approve compensation").click()
    expect(page.locator(".notice")).to_contain_text("this decision needs the role manager")  # told before typing
    expect(page.locator(".task-facts")).to_contain_text("4,800.00")  # what the manager will be deciding
    expect(page.get_by_role("button", name="Complete")).to_have_count(0)
    shoot(page, "supervisor-refused")
    log_out(page)

    log_in(page, "marek")
    page.get_by_role("link", name="Approvals").click()
    page.get_by_role("row", name=re.compile(reference)).get_by_role("link", name="Approve compensation").click()
    page.get_by_role("radio", name="Yes").check()
    page.get_by_label("Reason for the decision").fill("Defective batch, full refund.")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("tr.letter").filter(has_text="final response")).to_contain_text("draft")
    expect(page.locator(".status")).to_have_text("escalated")  # the answer is written, not yet sent
    shoot(page, "manager-approved")
    log_out(page)
    worker()  # the answer's PDF made

    # Whoever investigated signs the answer: they read the PDF as the customer will, then send it.
    log_in(page, "ivan")
    open_task(page, reference, "Review the final response")
    frame = page.locator("iframe.letter-frame")
    expect(frame).to_be_visible()
    pdf = page.request.get(frame.get_attribute("src"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    shoot(page, "review-final-response")
    page.get_by_role("radio", name="Yes").check()
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".status")).to_have_text("awaiting customer")
    expect(page.locator("tr.letter").filter(has_text="final response")).not_to_contain_text("waits for review")
    log_out(page)

    log_in(page, "sara")
    open_task(page, reference, "Record customer reply")
    page.get_by_label("Customer's reply").select_option("accept")
    page.get_by_label("Reply received by").select_option("phone")
    page.get_by_role("button", name="Complete").click()
    open_task(page, reference, "Record payout")
    page.get_by_label("Payout reference").fill("TRX-2026-001")
    page.get_by_label("Paid on").fill("2026-11-23")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".status")).to_have_text("resolved")
    diagram = page.locator("#diagram[data-ready=true]")
    expect(diagram).to_be_visible()
    expect(diagram.locator(".djs-element.done").first).to_be_attached()
    expect(diagram.locator(".djs-element.active")).to_have_count(1)
    shoot(page, "resolved-with-diagram")
    # A form sent back with its errors answers 400 on purpose; anything else in the console is a fault.
    assert [e for e in page.console_errors if "status of 400" not in e] == []


def contrast(css_colour: str, background=(255, 255, 255)) -> float:
    """WCAG contrast ratio of an ``rgb(r, g, b)`` colour against ``background``."""
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    colour = [int(v) for v in re.findall(r"\d+", css_colour)[:3]]
    light, dark = sorted([luminance(colour), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_pages_fit_a_phone_and_work_by_keyboard(browser, live_server, shoot):
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}, locale="pl-PL",
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto("/login")
        expect(page.get_by_role("button", name="Zaloguj")).to_be_visible()  # the browser asks for Polish
        page.keyboard.type("sara")  # the username field has the focus
        page.keyboard.press("Tab")
        ring, border = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                                     " return [s.outlineColor, s.borderTopColor]; }")
        assert contrast(ring) >= 3 and contrast(border) >= 3, (ring, border)  # WCAG 1.4.11 on the white page
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Inbox")).to_be_visible()  # then Sara's own choice
        # The main menu folds behind one button, so the page starts near the top of the screen.
        toggle = page.get_by_role("button", name="Menu")
        expect(page.get_by_role("link", name="Register")).to_be_hidden()
        assert page.evaluate("document.querySelector('header.top').offsetHeight") < 70
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_role("link", name="Register")).to_be_visible()
        page.keyboard.press("Escape")  # closes it again, back on the button
        expect(page.get_by_role("link", name="Register")).to_be_hidden()
        expect(toggle).to_be_focused()
        toggle.click()
        reference = register(page, "Ola Nowak", "aleksandra.nowakowska-kowalczyk.reklamacje@example.com", "phone", "product", "The kettle leaks.")
        expect(page.locator(".top nav a[aria-current=page]")).to_have_count(0)  # a complaint: no list of the nav
        for path, name in (("/inbox?scope=available", "phone-inbox"), ("/complaints", "phone-complaints"),
                           ("/complaints/new", "phone-register"), (f"/complaints/{reference}", "phone-complaint")):
            page.goto(path)
            shoot(page, name)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        # The lists stack their rows on a phone; each value still says which column it is.
        page.goto("/complaints")
        expect(page.locator(".top nav a[aria-current=page]")).to_have_text("Complaints")
        cell = page.locator("table.list tbody tr").first.locator("td").nth(1)
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label == '"Received: "', label  # Sara reads English
    finally:
        context.close()


def test_the_heatmap_gives_a_task_done_in_seconds_in_seconds(page):
    log_in(page, "sara")
    reference = register(page, "Piotr Wójcik", "piotr.wojcik@example.com", "phone", "product", "Wrong colour.")
    open_task(page, reference, "First contact")
    page.get_by_role("radio", name="No").check()
    page.get_by_label("What was done").fill("Asked for photos.")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".flash")).to_contain_text("Done")
    log_out(page)
    log_in(page, "olga")
    page.goto("/processes")
    page.locator("table.list a").first.click()  # the newest version: the one the complaint runs on
    badge = page.locator(".heat-badge[data-element=Task_FirstContact]")
    expect(badge).to_be_visible(timeout=20_000)
    assert re.search(r"· \d+ s$", badge.inner_text()), badge.inner_text()  # not rounded up to "1 min"
    text, background = badge.evaluate("b => { const s = getComputedStyle(b); return [s.color, s.backgroundColor]; }")
    background = tuple(int(v) for v in re.findall(r"\d+", background)[:3])
    assert contrast(text, background) >= 4.5, (text, background)  # small white text on its colour


def shapes_outside(page) -> int:
    """How many of the diagram's shapes lie (partly) outside the visible box."""
    return page.evaluate("""() => {
      const box = document.getElementById('diagram').getBoundingClientRect();
      return [...document.querySelectorAll('#diagram .djs-shape')].filter(el => {
        const r = el.getBoundingClientRect();
        return r.left < box.left - 2 || r.right > box.right + 2 || r.top < box.top - 2 || r.bottom > box.bottom + 2;
      }).length; }""")


def test_the_diagram_zooms_shows_it_whole_and_comes_back_to_the_current_step(page, shoot):
    log_in(page, "sara")
    reference = register(page, "Nina Zając", "nina.zajac@example.com", "email", "product", "The lid cracked.")
    page.goto(f"/complaints/{reference}")
    diagram = page.locator("#diagram[data-ready=true]")
    expect(diagram).to_be_visible()
    tools = page.locator(".diagram-tools")
    expect(tools.locator(".legend")).to_contain_text("waiting here now")
    assert shapes_outside(page) > 0  # opened on the current step, close enough to read: not all of it fits
    page.get_by_role("button", name="Whole diagram").click()
    assert shapes_outside(page) == 0
    shoot(page, "whole-diagram")
    whole = float(diagram.get_attribute("data-zoom"))
    page.get_by_role("button", name="Zoom in").click()
    assert float(diagram.get_attribute("data-zoom")) > whole
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Zoom out").click()
    assert float(diagram.get_attribute("data-zoom")) < whole
    page.get_by_role("button", name="Current step").click()
    assert float(diagram.get_attribute("data-zoom")) == 0.8
    inside = page.evaluate("""() => {  // the task waiting, not only the deadline timer on its edge
      const box = document.getElementById('diagram').getBoundingClientRect();
      const r = document.querySelector('#diagram .djs-element.active[data-element-id=Task_FirstContact]')
        .getBoundingClientRect();
      return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom; }""")
    assert inside
    shoot(page, "current-step")
    # The overview in the corner frames the part shown; a click on it goes there (here: the start).
    overview = page.locator("#diagram .djs-minimap.open")
    expect(overview).to_be_visible()
    frame, whole_map = page.locator("#diagram .djs-minimap .viewport-dom").bounding_box(), overview.bounding_box()
    assert 0 < frame["width"] < whole_map["width"] / 2, (frame, whole_map)
    page.locator("#diagram .djs-minimap .map").click(position={"x": 6, "y": whole_map["height"] / 2})
    start = page.evaluate("""() => {
      const box = document.getElementById('diagram').getBoundingClientRect();
      const r = document.querySelector('#diagram [data-element-id=StartEvent_ComplaintReceived]').getBoundingClientRect();
      return r.left >= box.left && r.right <= box.right; }""")
    assert start
    page.locator("#diagram .djs-minimap .toggle").click()
    expect(page.locator("#diagram .djs-minimap")).not_to_have_class(re.compile(r"\bopen\b"))
    expect(page.locator("#diagram .djs-minimap .toggle")).to_have_attribute("title", "Show the overview")
    assert page.console_errors == []
