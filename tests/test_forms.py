"""Forms drawn in the diagram are validated generically, with a message per field."""

from __future__ import annotations

import pytest

from complaints_app.domain.errors import InvalidInput
from complaints_app.domain.forms import clean_form

FORM = [
    {"id": "amount", "type": "decimal", "validation": {"required": None, "min": "0"}},
    {"id": "count", "type": "long", "validation": {"min": "1", "max": "5"}},
    {"id": "when", "type": "date", "validation": {}},
    {"id": "ok", "type": "boolean", "validation": {"required": None}},
    {"id": "kind", "type": "enum", "validation": {}, "options": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]},
    {"id": "note", "type": "string", "validation": {"maxlength": "5", "minlength": "2"}},
    {"id": "fixed", "type": "string", "validation": {"readonly": None}},
]


def errors(values: dict) -> dict:
    with pytest.raises(InvalidInput) as err:
        clean_form(FORM, values, {"fixed": "kept"})
    return err.value.details["fields"]


def test_good_values_are_typed_and_every_field_is_present():
    cleaned = clean_form(FORM, {"amount": "12,50", "count": "3", "when": "2026-11-20", "ok": "on", "kind": "b",
                                "fixed": "ignored"}, {"fixed": "kept"})
    assert cleaned == {"amount": 12.5, "count": 3, "when": "2026-11-20", "ok": True, "kind": "b", "note": None,
                       "fixed": "kept"}


@pytest.mark.parametrize("field,value", [
    ("amount", "1e400"), ("amount", "1e20"), ("amount", "12.345"), ("amount", "-1"), ("amount", "NaN"),
    ("amount", True), ("count", "9"), ("count", "1.5"), ("count", "²"), ("count", True), ("when", "20.11.2026"),
    ("ok", "maybe"), ("kind", "c"), ("note", "x"), ("note", "toolong"), ("note", 5),
])
def test_each_bad_value_is_named(field, value):
    values = {"amount": "1", "ok": True, field: value}
    assert field in errors(values)


def test_missing_required_and_unknown_fields():
    found = errors({"surprise": 1})
    assert set(found) == {"amount", "ok", "surprise"}
