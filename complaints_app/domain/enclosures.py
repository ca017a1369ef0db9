"""Documents that go with certain letters (the Financial Ombudsman Service's explanatory leaflet with UK
final and delay responses): uploaded by an admin as the official PDF, then attached to every such e-mail
and printed behind every such letter. Until it is uploaded the admin pages say so and letters give the
ombudsman's details instead of enclosing it."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..letters import LetterError
from ..letters.pdfs import page_count
from ..models import Enclosure, User
from ..models.base import utcnow
from . import letter_store
from .access import require_role
from .errors import InvalidInput, NotFound

MAX_BYTES = 10 * 1024 * 1024
# What each enclosure is, for people (admin pages) and in each letter language (the letter's list).
KNOWN = {
    "fos_leaflet": {
        "label": _l("The Financial Ombudsman Service's explanatory leaflet (DISP 1.6.2R)"),
        "letter": {"en": "Financial Ombudsman Service leaflet “Want to take your complaint further?”",
                   "pl": "Ulotka Financial Ombudsman Service „Want to take your complaint further?”",
                   "uk": "Інформаційна листівка Financial Ombudsman Service «Want to take your complaint further?»"},
        "source": "https://www.financial-ombudsman.org.uk/businesses/complaints-deal/send-information-customers",
    },
}


def enclosure(key: str) -> Enclosure | None:
    return db.session.get(Enclosure, key)


def available(keys: list[str]) -> list[Enclosure]:
    """The uploaded enclosures among ``keys``, in their order."""
    found = [enclosure(key) for key in keys]
    return [row for row in found if row is not None]


def upload(actor: User, key: str, filename: str, data: bytes) -> Enclosure:
    """Keep ``data`` as enclosure ``key`` (the official PDF), replacing the one before: later letters carry
    the new one; letters rendered before keep theirs."""
    require_role(actor, "admin")
    if key not in KNOWN:
        raise NotFound(_("no enclosure %(key)s", key=key))
    if len(data) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 10 MB."))
    try:
        pages = page_count(data)
    except LetterError as err:
        raise InvalidInput(_("The enclosure must be a PDF that opens: %(reason)s.", reason=str(err))) from None
    row = enclosure(key) or Enclosure(key=key)
    row.filename = (filename or f"{key}.pdf").replace("/", "_")[-200:]
    row.sha256 = letter_store.keep(data)
    row.size_bytes = len(data)
    row.pages = pages
    row.uploaded_at = utcnow()
    row.uploaded_by_id = actor.id
    db.session.add(row)
    db.session.flush()
    return row
