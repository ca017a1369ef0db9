"""The published complaints procedure (/standards): no login, in Polish, English or Ukrainian. Every letter
and e-mail links it; the customer's right to be told the policies, procedures and standards."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, current_app, render_template, request

from ..config import current_settings
from ..domain.deadlines import RULES
from ..domain.letterheads import letterheads
from ..domain.standards import LANGUAGES, published
from .markdown import render

bp = Blueprint("standards", __name__)


def _page_words() -> dict:
    root = Path(current_settings().letters_path)
    return json.loads((root / "standards" / "page.json").read_text("utf-8"))


@bp.get("/standards")
def index():
    asked = request.args.get("lang", "")
    language = asked if asked in LANGUAGES else (request.accept_languages.best_match(LANGUAGES) or "en")
    words = _page_words()
    text = published(language)
    rules = [(RULES[rule].jurisdiction, texts[language]) for rule, texts in words["rules"].items() if rule in RULES]
    heads = [head for head in letterheads().values() if head is not None]
    response = current_app.make_response(render_template(
        "standards.html", language=language, words=words[language], body=render(text.body if text else ""),
        updated=text.updated_at if text else None, rules=rules, heads=heads, languages=LANGUAGES))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")  # a shared cache must not give the Polish page to a Ukrainian reader
    return response
