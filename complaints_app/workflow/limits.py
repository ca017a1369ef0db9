"""Size checks for diagram code: operations done in one C call, which a line-based time budget cannot
interrupt, are refused before they run when their result would be too large to hold.

A script may still build a large value step by step (each line is timed); what it may not do is ask for
gigabytes in one expression: ``'x' * 10**9``, ``'x'.ljust(10**9)``, ``'%0999999999d' % 1``,
``f'{1:>999999999}'``, ``s.replace('x', s)`` or ``s + s`` repeated until memory runs out.
"""

from __future__ import annotations

import operator
import re

from RestrictedPython.Guards import safer_getattr

MAX_SEQUENCE = 100_000  # items or characters one operation may build
MAX_INT_BITS = 4_096
_SEQUENCES = (str, bytes, list, tuple)


class TooLarge(ValueError):
    """A diagram script asked for a value larger than the limits allow."""


def _refuse(what: str = f"a sequence of more than {MAX_SEQUENCE:,} items or characters"):
    raise TooLarge(f"{what} is not allowed in diagram scripts")


def _check_length(length: int) -> None:
    if length > MAX_SEQUENCE:
        _refuse()


def checked_add(a, b):
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_length(len(a) + len(b))
    return a + b


def checked_mul(a, b):
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, _SEQUENCES) and isinstance(n, int):
            _check_length(len(seq) * n)
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        _refuse("numbers this large")
    return a * b


def checked_pow(a, b, mod=None):
    if isinstance(a, int) and isinstance(b, int) and mod is None and abs(a) > 1 and b > 0:
        if b * max(a.bit_length(), 1) > MAX_INT_BITS:
            _refuse("numbers this large")
    return pow(a, b) if mod is None else pow(a, b, mod)


def checked_lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b > MAX_INT_BITS:
        _refuse("numbers this large")
    return a << b


# A printf directive's width and precision: digits, or ``*`` (taken from the arguments).
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def _check_spec_numbers(spec: str) -> None:
    if any(int(digits) > MAX_SEQUENCE for digits in _DIGITS.findall(spec)):
        _refuse(f"a width or precision above {MAX_SEQUENCE:,}")


def checked_mod(a, b):
    """``a % b``; for a format string, its widths and precisions are checked first."""
    if isinstance(a, (str, bytes)):
        text = a.decode("latin-1") if isinstance(a, bytes) else a
        for width, precision in _PRINTF.findall(text):
            if "*" in (width, precision):
                _refuse("a '*' width or precision")
            _check_spec_numbers(f"{width} {precision}")
    return a % b


_CONVERSIONS = {ord("r"): repr, ord("s"): str, ord("a"): ascii}


def checked_format(value, conversion: int, spec: str):
    """An f-string's ``{value!conversion:spec}``, with the spec's numbers checked."""
    if conversion in _CONVERSIONS:
        value = _CONVERSIONS[conversion](value)
    _check_spec_numbers(spec)
    return format(value, spec)


def checked_sum(iterable, start=0):
    if not isinstance(start, (int, float)):
        _refuse("sum() of anything but numbers")
    return sum(iterable, start)


# -- methods that build a value in one call -------------------------------------------------------

def _padded(method):
    def call(width, *args):
        if isinstance(width, int):
            _check_length(width)
        return method(width, *args)
    return call


def _expandtabs(seq):
    def call(tabsize=8):
        if isinstance(tabsize, int):
            _check_length(len(seq) * max(tabsize, 1))
        return seq.expandtabs(tabsize)
    return call


def _replace(seq):
    def call(old, new, count=-1):
        found = len(seq) + 1 if len(old) == 0 else seq.count(old)
        if count >= 0:
            found = min(found, count)
        _check_length(len(seq) + found * max(len(new) - len(old), 0))
        return seq.replace(old, new, count)
    return call


def _join(seq):
    def call(iterable):
        items = list(iterable)
        _check_length(sum(len(item) for item in items if isinstance(item, _SEQUENCES))
                      + len(seq) * max(len(items) - 1, 0))
        return seq.join(items)
    return call


def _extend(target):
    def call(iterable):
        items = list(iterable)
        _check_length(len(target) + len(items))
        target.extend(items)
    return call


_STRING_METHODS = {"ljust": _padded, "rjust": _padded, "center": _padded, "zfill": _padded}
_BUILDERS = {"expandtabs": _expandtabs, "replace": _replace, "join": _join}


def checked_getattr(obj, name, default=None, getattr=getattr):
    """RestrictedPython's ``safer_getattr``, with the value-building methods of strings and lists checked."""
    found = safer_getattr(obj, name, default, getattr)
    if isinstance(obj, (str, bytes)):
        if name in _STRING_METHODS:
            return _STRING_METHODS[name](found)
        if name in _BUILDERS:
            return _BUILDERS[name](obj)
    elif isinstance(obj, list) and name == "extend":
        return _extend(obj)
    return found


_INPLACE = {
    "+=": checked_add, "-=": operator.isub, "*=": checked_mul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": checked_mod, "**=": checked_pow, "<<=": checked_lshift,
    "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor, ">>=": operator.irshift,
}


def inplacevar(op, x, y):
    if isinstance(x, list) and op == "+=":
        _check_length(len(x) + len(y))
        x += y  # a list grows in place, as the script expects
        return x
    return _INPLACE[op](x, y)
