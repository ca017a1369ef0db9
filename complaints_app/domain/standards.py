"""The complaints procedure the company publishes at /standards (customers' right to be told the policies,
procedures and standards): Markdown per language, edited by admins, seeded from ``letters/standards/``.
Every letter and e-mail links it."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..config import current_settings
from ..extensions import db
from ..models import PublishedText, User
from ..models.base import utcnow
from .access import require_role
from .errors import InvalidInput

KEY = "standards"
LANGUAGES = ("pl", "en", "uk")
MAX_CHARS = 50_000


def _defaults() -> Path:
    return Path(current_settings().letters_path) / "standards"


def published(language: str) -> PublishedText | None:
    """The procedure in ``language``, else in English, else in any language it is written in."""
    rows = {row.language: row for row in db.session.scalars(select(PublishedText).where(PublishedText.key == KEY))}
    return rows.get(language) or rows.get("en") or next(iter(rows.values()), None)


def save(actor: User, language: str, body: str) -> PublishedText:
    require_role(actor, "admin")
    if language not in LANGUAGES:
        raise InvalidInput(_("The procedure is published in %(languages)s.", languages=", ".join(LANGUAGES)))
    body = (body or "").replace("\r\n", "\n").strip()
    if not body or len(body) > MAX_CHARS:
        raise InvalidInput(_("Write the procedure (up to %(count)d characters).", count=MAX_CHARS))
    row = db.session.get(PublishedText, (KEY, language)) or PublishedText(key=KEY, language=language)
    row.body = body
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    db.session.add(row)
    db.session.flush()
    return row


def seed_standards() -> list[str]:
    """The shipped procedure in each language that has none yet (``complaints init``)."""
    made = []
    for language in LANGUAGES:
        if db.session.get(PublishedText, (KEY, language)) is None:
            body = (_defaults() / f"{language}.md").read_text("utf-8").strip()
            db.session.add(PublishedText(key=KEY, language=language, body=body))
            made.append(language)
    db.session.flush()
    return made


def standards_url(language: str) -> str:
    """The published procedure's address in ``language``, for letters and e-mails."""
    return f"{current_app.extensions['complaints.settings'].public_url}/standards?lang={language}"
