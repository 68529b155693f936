"""Cell values as analysts type them in Swedish Excel: `73,5`, `73.5`, `51 %`, ` Arvika `.

Every cell reaches these functions as text (the table readers turn Excel numbers into text
first), so a CSV and an XLSX file with the same content give the same payload. Each parser
returns a value or raises `CellError` with a Swedish reason the reader puts in a Problem.
"""

from __future__ import annotations

import re
import unicodedata

_NUMBER = re.compile(r"^([+-]?)(\d+)(?:[.,](\d+))?$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


class CellError(ValueError):
    """A cell does not hold what its column needs; the message is the Swedish reason."""


def clean(text: str) -> str:
    """NFC, trimmed, line breaks as \\n: the canonical form of free text."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u00a0", " ").strip()


def one_line(text: str) -> str:
    """`clean` with runs of whitespace collapsed: the canonical form of a label or a name."""
    return _SPACES.sub(" ", clean(text))


def number(text: str, *, what: str, percent: bool = True) -> float:
    """`73`, `73,5`, `73.5`, and when `percent`, `51 %` / `51%` (percent of max = points)."""
    compact = _SPACES.sub("", text.strip()).replace("\u2212", "-")
    if compact.endswith("%"):
        if not percent:
            raise CellError(f"{what} anges i poäng, inte i procent")
        compact = compact[:-1]
    match = _NUMBER.match(compact)
    if not match:
        raise CellError(f"{what} är inte ett tal (skriv t.ex. 73 eller 73,5)")
    sign, whole, fraction = match.groups()
    value = float(f"{sign}{whole}.{fraction or '0'}")
    return value + 0.0  # -0.0 -> 0.0, so the canonical JSON never says "-0.0"


def integer(text: str, *, what: str) -> int:
    """A whole number, also `2014,0` as Excel may export it."""
    try:
        value = number(text, what=what, percent=False)
    except CellError:
        raise CellError(f"{what} måste vara ett heltal") from None
    if not value.is_integer():
        raise CellError(f"{what} måste vara ett heltal")
    return int(value)
