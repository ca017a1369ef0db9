"""How each letter language writes what letters say: dates, amounts, salutations, addresses, punctuation.

Pure functions of plain values (no database, no request): the worker, the admin preview and the tests
write a letter's facts the same way.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

LOCALES = {"pl": "pl_PL", "en": "en_GB", "uk": "uk_UA"}
NBSP = "\u00a0"
# Every space Unicode knows (Babel writes U+202F and U+00A0 inside dates and amounts), for comparing texts.
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]+")


def normalise(text: str) -> str:
    """``text`` with every run of spaces of any kind as one plain space, for comparing texts."""
    return _SPACES.sub(" ", text or "").strip()


def long_date(day: date, language: str) -> str:
    """A day as a letter writes it: 5 grudnia 2026 r. · 5 December 2026 · 5 грудня 2026 року."""
    written = format_date(day, "d MMMM y", locale=LOCALES.get(language, "en_GB"))
    if language == "pl":
        return f"{written}{NBSP}r."
    if language == "uk":
        return f"{written}{NBSP}року"
    return written


_HOME = {"pl": {"PLN": "zł"}, "uk": {"UAH": "грн"}}
_EN_SYMBOLS = {"GBP": "£", "EUR": "€"}


def amount(value: Decimal | float | str, currency: str, language: str) -> str:
    """Money as the language writes it: 1 234,50 zł · £1,234.50 · PLN 1,234.50 · 1 234,50 грн."""
    number = format_decimal(Decimal(str(value)), "#,##0.00", locale=LOCALES.get(language, "en_GB"))
    if language == "en":
        symbol = _EN_SYMBOLS.get(currency)
        return f"{symbol}{number}" if symbol else f"{currency}{NBSP}{number}"
    return f"{number}{NBSP}{_HOME.get(language, {}).get(currency, currency)}"


def country_name(code: str, language: str) -> str:
    """The country's name in ``language`` (the code itself when Babel does not know it)."""
    return Locale.parse(LOCALES.get(language, "en_GB")).territories.get((code or "").upper(), code or "")


@functools.cache
def _morphology():
    import pymorphy3  # loads its Ukrainian dictionary once per process, on the first Ukrainian salutation

    return pymorphy3.MorphAnalyzer(lang="uk")


def vocative(given_name: str, title: str) -> str | None:
    """A Ukrainian given name in the vocative case (Олена -> Олено, Іван -> Іване), or None when the name is
    not one the dictionary knows as a given name of the person's gender."""
    name = (given_name or "").strip()
    if not name or not re.fullmatch(r"[А-Яа-яЄєІіЇїҐґ'’ʼ-]+", name):
        return None
    gender = "femn" if title == "ms" else "masc"
    for parse in _morphology().parse(name):
        if "Name" in parse.tag and parse.tag.gender == gender and parse.tag.case == "nomn":
            form = parse.inflect({"voct"})
            if form is not None:
                return form.word[:1].upper() + form.word[1:]
    return None


def salutation(language: str, title: str | None, given_name: str | None, family_name: str | None,
               name: str) -> str:
    """The opening line, with its punctuation: Szanowna Pani, · Dear Ms Nowak, · Шановна пані Олено!
    Without a form of address (or a name the language needs), a neutral one."""
    if language == "pl":
        return {"ms": "Szanowna Pani,", "mr": "Szanowny Panie,"}.get(title or "", "Szanowni Państwo,")
    if language == "uk":
        called = vocative(given_name or "", title or "") if title else None
        if called:
            return f"Шановна пані {called}!" if title == "ms" else f"Шановний пане {called}!"
        return "Добрий день!"
    if title and family_name:
        return f"Dear {'Ms' if title == 'ms' else 'Mr'} {family_name.strip()},"
    return f"Dear {name.strip()},"


class PolishYou:
    """How a Polish letter says "you" to its addressee: to one person by the form of address the salutation
    used (Pani, Pan), and "Państwo" only where the salutation is the neutral "Szanowni Państwo" (a single
    person written to as "Państwo" reads as an error to a Polish editor). In templates: ``you.gen`` ("z
    Pani strony"), and for a verb that agrees ``you("mogą Państwo", "może Pani", "może Pan")``."""

    _CASES = {"nom": ("Państwo", "Pani", "Pan"), "gen": ("Państwa", "Pani", "Pana"),
              "dat": ("Państwu", "Pani", "Panu"), "acc": ("Państwa", "Panią", "Pana"),
              "inst": ("Państwem", "Panią", "Panem"), "loc": ("Państwu", "Pani", "Panu")}

    def __init__(self, title: str | None):
        self.form = {"ms": 1, "mr": 2}.get(title or "", 0)

    def __call__(self, neutral: str, ms: str, mr: str) -> str:
        return (neutral, ms, mr)[self.form]

    def __getattr__(self, case: str) -> str:
        if case not in self._CASES:
            raise AttributeError(case)
        return self._CASES[case][self.form]


def typographic(text: str, language: str) -> str:
    """Apostrophes as type sets them (з’ясує, don’t), never a straight one."""
    return re.sub(r"(?<=\w)'(?=\w)", "’", text or "")


def sentence(text: str) -> str:
    """``text`` as a whole sentence: ending with exactly one full stop (or its own ! ? … or ellipsis), so
    that a template never puts a second stop after what a person wrote."""
    text = (text or "").rstrip()
    if not text or text.endswith(("...", "…", "!", "?")):
        return text
    return re.sub(r"\.+$", "", text) + "."


def reference(reference_number: str, language: str) -> str:
    """A reference as the language writes it: Ukrainian puts "№" before a number."""
    return f"№{NBSP}{reference_number}" if language == "uk" else reference_number


# What must not be split at the end of a line, as a typesetter keeps it: digit groups (50 000,00; +48 22 000)
# and an amount with its currency everywhere; in Polish and Ukrainian a one-letter word with the next word
# ("w terminie", "з дня"), which a native reader sees as an error when it ends a line.
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d)|zł\b|грн\b|PLN\b|GBP\b|UAH\b|EUR\b)")
_ONE_LETTER = {"pl": re.compile(r"(?<![\w\-])([aiouwzAIOUWZ]) (?=\S)"),
               "uk": re.compile(r"(?<![\w\-’])([авзіийоуАВЗІЙОУ]) (?=\S)")}
_TAG = re.compile(r"(<[^>]*>)")


def bind_words(html: str, language: str) -> str:
    """``html`` with no-break spaces where a line must not break: inside digit groups and amounts, and after
    one-letter words in Polish and Ukrainian. Only text between tags changes, never a tag or its attributes."""
    one_letter = _ONE_LETTER.get(language)
    parts = _TAG.split(html)
    for i in range(0, len(parts), 2):  # even parts are text, odd ones tags
        text = _DIGIT_GROUP.sub(NBSP, parts[i])
        if one_letter is not None:
            text = one_letter.sub(lambda m: m.group(1) + NBSP, text)
        parts[i] = text
    return "".join(parts)
