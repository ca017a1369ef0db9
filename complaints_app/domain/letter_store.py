"""Where PDFs are kept: rendered letters, enclosures and print runs, each named by its SHA-256 (written
once, atomically; the same content is kept once). A folder every web and worker process shares."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ..config import current_settings


def _root() -> Path:
    path = Path(current_settings().letters_store)
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(digest: str) -> Path:
    return _root() / digest[:2] / f"{digest}.pdf"


def keep(data: bytes) -> str:
    """Store ``data`` (once) and return its SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, target)
    return digest


def read(digest: str) -> bytes:
    return path_of(digest).read_bytes()
