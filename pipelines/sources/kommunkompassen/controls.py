"""Control characters in a text file: a binary file is refused whole, a stray one quarantines
its row.

A single BEL or NUL typed (or pasted) into one cell used to reject the whole file as "not a
text file", so the good rows of a 300-row file waited for one invisible character. Now a file
is binary only when control characters are more than a trace of it; otherwise each row
holding one is rejected with the row, the column and the character named, and the rest land.
"""

from __future__ import annotations

import unicodedata

from pipelines.sources.kommunkompassen.columns import Header
from pipelines.sources.kommunkompassen.problems import Problem

ALLOWED_CONTROLS = frozenset("\t\n\r\x0b\x0c")
SAMPLE = 65536
# More than one control character, and more than this share of the sample, is a binary file
# (an image, a zip, UTF-16 without its BOM: half of it NULs), not a text file with a typo.
BINARY_SHARE = 0.01


def _is_control(ch: str) -> bool:
    return ch not in ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc"


def looks_binary(text: str) -> bool:
    sample = text[:SAMPLE]
    controls = sum(1 for ch in sample if _is_control(ch))
    return controls > 1 and controls > BINARY_SHARE * len(sample)


def control_problem(file: str, header: Header, number: int, cells: list[str]) -> Problem | None:
    """The row's first cell with a control character, as a Problem (the row is rejected)."""
    names = {position: header.written[column] for column, position in header.index.items()}
    for position, cell in enumerate(cells):
        bad = next((ch for ch in cell if _is_control(ch)), None)
        if bad is not None:
            shown = "".join(f"\\x{ord(c):02x}" if _is_control(c) else c for c in cell)
            return Problem(file, number, names.get(position), shown,
                           f"cellen innehåller ett osynligt styrtecken (U+{ord(bad):04X}); "
                           "ta bort det och läs in filen igen")
    return None
