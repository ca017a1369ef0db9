"""Files sent with a complaint: checked by their content, stored by hash outside the database row."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select

from flask_babel import gettext as _

from ..config import current_settings
from ..extensions import db
from ..models import Attachment, Complaint, User
from .access import require_view
from .audit import audit
from .errors import InvalidInput, NotFound

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_COMPLAINT = 20
SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _storage() -> Path:
    path = Path(current_settings().attachments_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sniff(head: bytes, data: bytes) -> str:
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return "text/plain"
    raise InvalidInput(_("attachments can be PDF, PNG, JPEG or plain text files"))


def _clean_name(filename: str) -> str:
    name = unicodedata.normalize("NFC", os.path.basename(filename or "").strip())
    name = re.sub(r"[\x00-\x1f/\\\\]+", "_", name)[:200]
    return name or "attachment"


@dataclass(frozen=True)
class Upload:
    """A file read and checked, not yet kept."""

    filename: str
    content_type: str
    data: bytes


# The endings a kept file may have for the type its bytes show; any other ending gets the first one added,
# so a text file sent as ``run.bat`` or ``invoice.exe`` is downloaded as ``run.bat.txt``, never run.
EXTENSIONS = {"application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg"),
              "text/plain": (".txt", ".csv", ".log", ".md")}


def _named_for(name: str, content_type: str) -> str:
    endings = EXTENSIONS[content_type]
    return name if name.lower().endswith(endings) else f"{name[:195]}{endings[0]}"


def read_upload(filename: str, stream: BinaryIO) -> Upload:
    """Read and check a file: at most 10 MB, PDF, PNG, JPEG or text, judged by its bytes (not its name)."""
    name = _clean_name(filename)
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InvalidInput(_("“%(name)s” is larger than %(size)s MB", name=name, size=MAX_BYTES // 1024 // 1024))
    if not data:
        raise InvalidInput(_("“%(name)s” is empty", name=name))
    content_type = _sniff(data[:16], data)
    return Upload(_named_for(name, content_type), content_type, data)


def add_attachment(actor: User, complaint: Complaint, upload: Upload) -> Attachment:
    """Keep a checked file with the complaint."""
    require_view(actor, complaint)
    count = db.session.scalar(select(func.count(Attachment.id)).where(Attachment.complaint_id == complaint.id))
    if count >= MAX_PER_COMPLAINT:
        raise InvalidInput(_("a complaint keeps at most %(count)s attachments", count=MAX_PER_COMPLAINT))
    data, content_type = upload.data, upload.content_type
    digest = hashlib.sha256(data).hexdigest()
    target = _storage() / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)  # atomic: a reader never sees half a file
    attachment = Attachment(complaint_id=complaint.id, filename=upload.filename, content_type=content_type,
                            size_bytes=len(data), sha256=digest, uploaded_by_id=actor.id)
    db.session.add(attachment)
    audit(complaint, "attachment_added", actor, data={"filename": attachment.filename, "sha256": digest,
                                                      "size": len(data)})
    db.session.flush()
    return attachment


def open_attachment(actor: User, attachment_id: int) -> tuple[Attachment, Path]:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(_("no attachment %(id)s", id=attachment_id))
    require_view(actor, db.session.get(Complaint, attachment.complaint_id))
    path = _storage() / attachment.sha256[:2] / attachment.sha256
    if not path.exists():
        raise NotFound(_("the attachment’s file is missing from the store"))
    return attachment, path
