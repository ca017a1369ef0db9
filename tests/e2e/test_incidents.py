"""A complaint a failed step stopped, as the supervisor and the process owner see it in the browser."""

from __future__ import annotations

from playwright.sync_api import expect

from complaints_app.domain import services
from tests.e2e.test_journey import log_in, log_out, register


def test_a_stopped_complaint_is_marked_on_its_diagram_and_set_going_again(page, monkeypatch, shoot):
    def broken(context, call):
        raise services.ServiceFailed("the letter store is down")

    log_in(page, "sara")
    with monkeypatch.context() as patch:  # the live server runs in this process: its letters fail meanwhile
        patch.setitem(services.SERVICES, "create_letter", broken)
        reference = register(page, "Ewa Lis", "ewa.lis@example.com", "email", "product", "The handle broke.")
    expect(page.locator(".flash.incident")).to_contain_text("The process stopped at")
    expect(page.get_by_role("button", name="Retry the step")).to_have_count(0)  # not staff's to do
    log_out(page)

    log_in(page, "olga")
    page.goto("/processes")
    page.locator("table.list a").first.click()
    stuck = page.locator(".stuck-badge")
    expect(stuck.first).to_be_visible(timeout=20_000)
    expect(stuck.first).to_have_text("⚠ 1")
    shoot(page, "heatmap-stuck")
    page.locator("table.list a.overdue-text").first.click()  # the count leads to the list of stopped complaints
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list")).to_contain_text(reference)
    log_out(page)

    log_in(page, "sophie")
    page.goto(f"/complaints/{reference}")
    expect(page.locator("#diagram[data-ready=true] .djs-element.failed")).to_have_count(1)
    expect(page.locator(".diagram-tools .key.failed")).to_be_visible()
    expect(page.locator(".flash.incident")).to_contain_text(  # who may retry reads why it failed
        "Problem at “Send acknowledgement”: service 'create_letter' failed: the letter store is down")
    shoot(page, "stopped")
    page.get_by_role("button", name="Retry the step").click()
    expect(page.locator(".flash.info")).to_contain_text("The step ran again; the complaint goes on.")
    expect(page.locator(".flash.incident")).to_have_count(0)
    expect(page.locator("#diagram[data-ready=true]")).to_be_visible()
    expect(page.locator("#diagram .djs-element.failed")).to_have_count(0)
    expect(page.locator(".diagram-tools .key.failed")).to_be_hidden()
    assert page.console_errors == []
