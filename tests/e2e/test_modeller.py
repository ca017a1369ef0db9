"""A process owner redraws the diagram in the browser and a new complaint follows the new version."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_journey import log_in, log_out, register

FIELD = "Task_FirstContact-formField-3"  # after its three fields


def test_rename_a_task_add_a_form_field_deploy_and_a_new_complaint_gets_it(page, shoot):
    log_in(page, "olga")
    page.get_by_role("link", name="Processes").click()
    page.locator("table.list a").first.click()
    original = page.url
    page.get_by_role("button", name="Redraw in the browser").click()
    expect(page.locator("#modeller[data-ready=true]")).to_be_attached(timeout=20_000)
    # The whole diagram is in view and the tool palette covers none of it (not even the start event).
    palette = page.locator(".djs-palette").bounding_box()
    start = page.locator("g[data-element-id=StartEvent_ComplaintReceived]").bounding_box()
    pool = page.locator("g[data-element-id=Participant_Complaint]").bounding_box()
    assert pool["x"] >= palette["x"] + palette["width"], (palette, pool)
    assert start["x"] > palette["x"] + palette["width"]

    # Rename "First contact" by editing its label on the canvas.
    page.locator("g[data-element-id=Task_FirstContact]").dblclick(force=True)
    editor = page.locator(".djs-direct-editing-parent")
    expect(editor).to_be_visible()
    editor.press("Control+A")
    editor.type("First call")
    page.locator("#properties").click()
    # Add a form field in the properties panel.
    page.locator("g[data-element-id=Task_FirstContact]").click(force=True)
    fields = page.locator(".bio-properties-panel-group-header", has_text="Form fields")
    fields.locator("button.bio-properties-panel-add-entry").click()
    page.locator(f"#bio-properties-panel-{FIELD}-formFieldID").fill("contact_note")
    page.locator(f"#bio-properties-panel-{FIELD}-formFieldLabel").fill("How the customer was reached")
    page.locator(f"#bio-properties-panel-{FIELD}-formFieldType").select_option("string")
    shoot(page, "modeller")

    # The decision tables open in dmn-js beside the diagram.
    page.get_by_role("tab", name="approval_level.dmn").click()
    expect(page.locator(".tjs-table").first).to_be_visible()
    page.get_by_role("tab", name="complaint.bpmn").click()
    # By keyboard: the arrow keys move between the files, End and Home to the last and the first.
    first = page.get_by_role("tab", name="complaint.bpmn")
    expect(first).to_be_focused()
    page.keyboard.press("ArrowRight")
    second = page.locator("#modeller-tabs [role=tab]").nth(1)
    expect(second).to_be_focused()
    expect(second).to_have_attribute("aria-selected", "true")
    expect(page.locator("#" + second.get_attribute("aria-controls"))).to_be_visible()
    page.keyboard.press("End")
    expect(page.locator("#modeller-tabs [role=tab]").last).to_be_focused()
    page.keyboard.press("Home")
    expect(first).to_have_attribute("aria-selected", "true")
    assert first.get_attribute("tabindex") == "0" and second.get_attribute("tabindex") == "-1"
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#modeller-status")).to_contain_text("Draft saved")
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#modeller-status")).to_contain_text("No problem found")
    page.get_by_label("Comment").fill("First contact is a call; note how the customer was reached")
    page.once("dialog", lambda dialog: dialog.dismiss())  # thought better of it: nothing is deployed
    page.get_by_role("button", name="Deploy as a new version").click()
    page.wait_for_timeout(500)
    assert "/drafts/" in page.url
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Deploy as a new version").click()
    expect(page.locator(".flash")).to_contain_text("new complaints follow it")
    assert asked and "new version" in asked[0]  # the deploy asked first
    expect(page.locator("ul.changes")).to_contain_text("Task_FirstContact")
    shoot(page, "deployed")
    assert not page.console_errors, page.console_errors
    log_out(page)

    log_in(page, "sara")
    reference = register(page, "Jan Zieliński", "jan.zielinski@example.com", "email", "delivery",
                         "The parcel never arrived.")
    page.get_by_role("link", name="First call", exact=True).click()
    expect(page.get_by_label("How the customer was reached")).to_be_visible()
    shoot(page, "new-form")
    page.get_by_role("radio", name="Yes").check()
    page.get_by_label("What was done").fill("Resent the parcel")
    page.get_by_label("How the customer was reached").fill("By phone")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator(".flash")).to_contain_text("Done")
    page.goto(f"/complaints/{reference}")
    expect(page.locator(".timeline")).to_contain_text("First call")
    log_out(page)

    # Roll back for the other tests: the first version, deployed again as the newest.
    log_in(page, "olga")
    page.goto(original)
    page.get_by_role("button", name="Deploy this version again as the newest").click()
    expect(page.locator(".flash")).to_contain_text("new complaints follow it")


def test_the_modeller_speaks_polish_to_a_polish_process_owner(page, shoot):
    log_in(page, "olga")
    page.get_by_role("button", name="polski").click()
    page.goto("/processes")
    page.locator("table.list a").first.click()
    page.get_by_role("button", name="Przerysuj w przeglądarce").click()
    expect(page.locator("#modeller[data-ready=true]")).to_be_attached(timeout=20_000)
    expect(page.locator(".djs-palette .entry[aria-label='Utwórz zadanie']")).to_be_attached()
    page.locator("g[data-element-id=Task_FirstContact]").click(force=True)
    panel = page.locator("#properties")
    expect(panel.locator(".bio-properties-panel-group-header", has_text="Pola formularza")).to_be_visible()
    expect(panel.locator(".bio-properties-panel-group-header", has_text="Ogólne")).to_be_visible()
    expect(panel).not_to_contain_text("Form fields")
    header_type = panel.locator(".bio-properties-panel-header-type")
    expect(header_type).to_have_text("Zadanie użytkownika")  # the selected element's type, not "USER TASK"
    page.locator("g[data-element-id=Event_FirstContactSla]").click(force=True)
    expect(header_type).to_have_text("Zdarzenie brzegowe: czas")
    expect(page.locator(".djs-context-pad .entry[aria-label='Dołącz zadanie'], .djs-context-pad .entry[title='Dołącz zadanie']")).to_be_attached()
    page.get_by_role("tab", name="triage.dmn").click()
    table = page.locator("#modeller-panes .modeller-canvas:not([hidden])")
    expect(table.locator(".tjs-table")).to_be_visible()
    expect(table).to_contain_text("Zasada trafienia")
    shoot(page, "modeller-pl")
    assert not page.console_errors, page.console_errors
    page.goto("/inbox")
    page.get_by_role("button", name="English").click()
