"""Form choices in the reader's language, from the domain's vocabularies (``domain.terms``)."""

from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from ..domain.terms import TERMS


def choices(kind: str, values) -> list[SelectChoice]:
    """A form select's choices, labels lazy: translated when the page is drawn."""
    return [SelectChoice(value, TERMS[kind].get(value, value)) for value in values]
