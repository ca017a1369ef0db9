"""The complaints list pages by cursor: however deep, a page reads only its own rows, and Previous and
Next walk the same complaints in the same order (ties in the received time broken by the complaint)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from complaints_app.extensions import db
from complaints_app.models import Complaint


def _references(page: str) -> list[str]:
    return re.findall(r'href="/complaints/(C-\d{4}-\d{6})"', page)


def _link(page: str, label: str) -> str | None:
    found = re.search(r'<a href="([^"]+)">' + label + "</a>", page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_next_and_previous_walk_the_list_by_cursor(login, people, register):
    made = [register(people.staff, description=f"Paged {i}") for i in range(55)]
    moment = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    for i, complaint in enumerate(made):  # pairs received at the same second: the id breaks the tie
        db.session.execute(update(Complaint).where(Complaint.id == complaint.id)
                           .values(received_at=moment + timedelta(seconds=i // 2)))
    db.session.commit()
    newest_first = [c.reference for c in sorted(made, key=lambda c: (c.received_at, c.id), reverse=True)]
    web = login(people.admin)
    first = web.get("/complaints?q=Paged").get_data(as_text=True)
    assert _references(first) == newest_first[:50]
    assert _link(first, "Previous") is None
    second = web.get(_link(first, "Next")).get_data(as_text=True)
    assert _references(second) == newest_first[50:]
    assert _link(second, "Next") is None and "q=Paged" in _link(second, "Previous")
    back = web.get(_link(second, "Previous")).get_data(as_text=True)
    assert _references(back) == newest_first[:50]


def test_a_damaged_cursor_is_a_clear_error(login, people):
    web = login(people.admin)
    response = web.get("/complaints?after=yesterday~1")
    assert response.status_code == 400
    assert "damaged" in response.get_data(as_text=True)
