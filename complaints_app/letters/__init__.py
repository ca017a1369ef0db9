"""Letters to customers: sandboxed Jinja from a plain-data context, rendered to PDF by WeasyPrint.

The only module that imports WeasyPrint. One renderer per process keeps one FontConfiguration and the
parsed stylesheet (a new FontConfiguration per render leaks). Its URL fetcher refuses everything but
``data:`` URLs and files inside the templates' own ``static/`` folder, so customer text can neither reach
the network nor pull local files into a PDF.

What the law requires a letter to say lives in ``letters/clauses.json``: which clauses a letter type
carries for a jurisdiction and regime (and decision), the rule behind each, the phrases a rendered letter
must contain and the documents that go with it. A letter lacking one is refused, never sent.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlparse

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from . import wording

LANGUAGES = ("pl", "en", "uk")


class LetterError(ValueError):
    """A letter that cannot be rendered as asked (unknown type, missing data, missing clause)."""


class SafeFetcher(URLFetcher):
    """Fetch ``data:`` URLs and files under ``static`` only; refuse everything else."""

    def __init__(self, static: Path):
        super().__init__(allowed_protocols={"data", "file"})
        self.static = static.resolve()

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme == "data":
            return super().fetch(url, headers)
        if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
            path = Path(unquote(parsed.path)).resolve()
            if path.is_file() and path.is_relative_to(self.static) and not Path(unquote(parsed.path)).is_symlink():
                return URLFetcherResponse(url, path.read_bytes())
        raise ValueError(f"letters may not load {url[:100]}")


def _matches(entry: dict, context: dict) -> bool:
    """Whether a clause entry of ``clauses.json`` applies to the letter ``context`` describes."""
    place = f"{context.get('jurisdiction', '')}-{context.get('regime', '')}"
    places = entry.get("places")
    if places and place not in places and f"{context.get('jurisdiction', '')}-*" not in places:
        return False
    if entry.get("decisions") and context.get("decision") not in entry["decisions"]:
        return False
    if entry.get("if") and not context.get(entry["if"]):
        return False
    return not (entry.get("unless") and context.get(entry["unless"]))


class LetterRenderer:
    """Render letter types from ``root`` (the ``letters/`` folder)."""

    def __init__(self, root: Path):
        check_fonts()
        self.root = root
        self.env = ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(root)), autoescape=True,
                                                 undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["sentence"] = wording.sentence
        self.env.filters["typographic"] = wording.typographic
        self.fetcher = SafeFetcher(root / "static")
        self.fonts = FontConfiguration()
        self.css = CSS(filename=str(root / "base.css"), font_config=self.fonts, url_fetcher=self.fetcher)
        self.labels = json.loads((root / "labels.json").read_text("utf-8"))
        self.clauses = json.loads((root / "clauses.json").read_text("utf-8"))
        self._lock = threading.Lock()  # WeasyPrint and the shared font configuration are not thread-safe

    def letter_types(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/meta.json"))

    def meta(self, letter_type: str) -> dict:
        if letter_type not in self.letter_types():
            raise LetterError(f"no letter template '{letter_type}'")
        return json.loads((self.root / letter_type / "meta.json").read_text("utf-8"))

    def clause_ids(self, letter_type: str, context: dict) -> list[str]:
        """The clauses a letter of this type carries for the complaint ``context`` describes, in order."""
        return [entry["clause"] for entry in self.clauses["letters"].get(letter_type, [])
                if _matches(entry, context)]

    def enclosures(self, letter_type: str, context: dict) -> list[str]:
        """The documents that go with the letter (keys of uploaded enclosures), from its clauses."""
        keys = []
        for clause in self.clause_ids(letter_type, context):
            keys += [k for k in self.clauses["clauses"][clause].get("enclosures", []) if k not in keys]
        return keys

    def html(self, letter_type: str, language: str, context: dict) -> str:
        """The letter as HTML: the template for its language filled from the context."""
        meta = self.meta(letter_type)
        if language not in LANGUAGES:
            raise LetterError(f"letters are written in {', '.join(LANGUAGES)}, not '{language}'")
        missing = [field for field in meta["required"] if context.get(field) in (None, "")]
        if missing:
            raise LetterError(f"the letter needs {', '.join(missing)}")
        values = {
            **context, "language": language, "letter_type": letter_type,
            "title": context.get("subject") or meta["title"][language], "labels": self.labels[language],
            "clauses": [f"clauses/{clause}.html" for clause in self.clause_ids(letter_type, context)],
            "you": wording.PolishYou(context.get("form_of_address")),
        }
        return wording.bind_words(self.env.get_template(f"{letter_type}/{language}.html").render(values), language)

    def missing_clauses(self, letter_type: str, language: str, context: dict, text: str) -> list[str]:
        """What ``text`` (the letter's visible text) lacks of what the law and the letter's own facts require:
        each clause's phrases, the reference and the day of receipt. Both sides are compared with every kind
        of space as one (Babel writes dates and amounts with no-break and narrow no-break spaces), and a phrase
        opening a sentence is found however it is capitalised."""
        flat = wording.normalise(text).casefold()
        missing = []
        for clause in self.clause_ids(letter_type, context):
            must = self.clauses["clauses"][clause]["must"][language]
            missing += [phrase for phrase in must if wording.normalise(phrase).casefold() not in flat]
        for field in ("reference", "received_on"):
            if wording.normalise(str(context.get(field))).casefold() not in flat:
                missing.append(field)
        return missing

    def render(self, letter_type: str, language: str, context: dict) -> tuple[bytes, str]:
        """The PDF (PDF/A-3b) and the HTML it came from; refuses a letter lacking a mandatory clause."""
        html = self.html(letter_type, language, context)
        missing = self.missing_clauses(letter_type, language, context, plain_text(html))
        if missing:
            raise LetterError(f"the letter lacks mandatory text: {', '.join(missing)}")
        return self.pdf(html), html

    def pdf(self, html: str) -> bytes:
        """HTML of these templates as a PDF/A-3b."""
        with self._lock:
            document = HTML(string=html, base_url=str(self.root / "static") + "/", url_fetcher=self.fetcher)
            try:
                return document.write_pdf(stylesheets=[self.css], font_config=self.fonts, pdf_variant="pdf/a-3b")
            except FatalURLFetchingError as err:  # a BaseException: it would take the worker down with it
                raise LetterError(f"the letter refers to a resource it may not load: {err}") from None

    def page(self, template: str, context: dict) -> bytes:
        """A page of the letters' own (a print run's cover sheet) as a PDF."""
        return self.pdf(self.env.get_template(template).render(context))


def check_fonts() -> None:
    """Refuse to start without a font covering Polish and Ukrainian (with no fonts WeasyPrint crashes)."""
    try:
        found = {lang: subprocess.run(["fc-list", f":lang={lang}", "family"], capture_output=True, text=True,
                                      timeout=20).stdout.strip() for lang in ("pl", "uk")}
    except (OSError, subprocess.SubprocessError) as err:
        raise LetterError(f"fontconfig is missing ({err}): install fontconfig and fonts-dejavu-core") from None
    missing = [lang for lang, families in found.items() if not families]
    if missing:
        raise LetterError(f"no installed font covers {', '.join(missing)}: install fonts-dejavu-core")


_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)


def body_markup(html: str) -> Markup:
    """What a rendered letter's ``<body>`` holds, to show inside a page (the templates are autoescaped)."""
    found = _BODY.search(html)
    return Markup(found.group(1) if found else "")


def plain_text(html: str) -> str:
    """The visible text of rendered HTML (for clause checks)."""
    body = html.split("<body", 1)[-1]
    return unescape(re.sub(r"<[^>]+>", " ", body))
