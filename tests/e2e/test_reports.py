"""The reports page in a real browser: Chart.js draws every chart under the app's CSP."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_journey import log_in, log_out, register


def test_a_supervisor_sees_the_weeks_charts_drawn_with_their_figures_beside(page, shoot):
    log_in(page, "sara")
    register(page, "Zofia Lis", "zofia.lis@example.com", "email", "delivery", "The parcel never came.")
    log_out(page)
    log_in(page, "sophie")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    for chart in ("chart-received", "chart-statutory", "chart-open"):  # and one per currency paid in, if any
        expect(page.locator(f"canvas#{chart}[data-ready=true]")).to_be_attached()
    drawn = page.evaluate("""() => [...document.querySelectorAll('canvas[data-chart]')].map(c => {
      const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { inked++; } }
      return [c.id, c.chart.data.datasets.reduce((n, d) => n + d.data.reduce((a, b) => a + b, 0), 0), inked];
    })""")
    assert all(total >= 1 and inked > 500 for _id, total, inked in drawn), drawn
    page.get_by_text("The figures").first.click()
    expect(page.locator(".report details table").first).to_be_visible()
    shoot(page, "reports")
    assert page.console_errors == [], page.console_errors
