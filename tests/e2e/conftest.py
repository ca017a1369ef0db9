"""A live server on its own database and a real headless Chromium (Debian's package) driven by Playwright."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from complaints_app.domain.users import create_user
from complaints_app.extensions import db
from tests.conftest import LIMITS, MANAGER_LIMITS, build_app, drop_database, fresh_database_url, init_database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "correct horse battery"
PEOPLE = {"sara": (["staff"], None), "sophie": (["supervisor"], LIMITS), "marek": (["manager"], MANAGER_LIMITS),
          "ivan": (["customer_centre"], None), "olga": (["process_owner"], None)}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    url = fresh_database_url(tmp)
    app = build_app(tmp, url)
    init_database(app)
    with app.app_context():
        for name, (roles, limits) in PEOPLE.items():
            create_user(name, PASSWORD, roles, display_name=name.capitalize(), limits=limits)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    with app.app_context():
        db.engine.dispose()
    drop_database(url)


@pytest.fixture(scope="session")
def live_server(live_app):
    return live_app.config["LIVE_URL"]


@pytest.fixture
def worker(live_app):
    """One pass of the Celery worker as beat's sweep would drive it, in the server's process: the letters
    written are made into PDFs, e-mailed, and print runs assembled (the server runs tasks eagerly, so
    nothing else would)."""
    def run() -> None:
        from complaints_app.domain import letter_delivery, letters, post
        from complaints_app.tasks import jobs

        def due(query):
            with live_app.app_context():
                ids = query()
                db.session.remove()  # as the sweep does: no transaction held while the jobs run
            return ids

        for letter_id in due(lambda: letters.letters_to_render(older_than_seconds=0)):
            jobs.render_letter(letter_id)
        for letter_id in due(letter_delivery.letters_to_send):
            jobs.send_letter(letter_id)
        for batch_id in due(post.batches_to_assemble):
            jobs.assemble_batch(batch_id)
    return run


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (make install does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda err: page.console_errors.append(str(err)))
    yield page
    context.close()


@pytest.fixture
def shoot(request):
    """Save a screenshot of the page as it is now: screenshots/<test>-<nn>-<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    counter = iter(range(1, 1000))
    prefix = request.node.name.removeprefix("test_")[:40]

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{prefix}-{next(counter):02d}-{name}.png"), full_page=True)
    return take
