"""The process's letter renderer: the templates in ``letters/``, fonts and stylesheet parsed once."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from ..config import current_settings
from ..letters import LetterRenderer


def renderer() -> LetterRenderer:
    found = current_app.extensions.get("complaints.letters")
    if found is None:
        found = LetterRenderer(Path(current_settings().letters_path))
        current_app.extensions["complaints.letters"] = found
    return found


def title(letter_type: str, language: str) -> str:
    """The letter type's title in ``language`` (its heading, an e-mail's subject)."""
    return renderer().meta(letter_type)["title"][language]
