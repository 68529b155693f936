"""CSV as Swedish Excel saves it: `;` (or `,`), decimal comma, UTF-8 with or without BOM, or
Windows-1252 from an older "CSV (semikolonavgränsad)" save.

The separator is sniffed from the header line only: data rows hold decimal commas and free
text, so counting separators there would guess wrong.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

from pipelines.sources.kommunkompassen.controls import looks_binary
from pipelines.sources.kommunkompassen.grid import Table
from pipelines.sources.kommunkompassen.problems import UnreadableFile

_DELIMITER_NAMES = {";": "semikolon", ",": "komma"}


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile(
            path, "filen är sparad som UTF-16 (Unicode-text); spara den som "
            "\"CSV UTF-8 (kommaavgränsad)\" eller som .xlsx"
        )
    if data.startswith(codecs.BOM_UTF8):
        data, bom = data[len(codecs.BOM_UTF8):], True
    else:
        bom = False
    try:
        return data.decode("utf-8"), "UTF-8 med BOM" if bom else "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise UnreadableFile(
            path, "filen är varken en textfil (CSV) eller en Excel-fil (.xlsx)"
        ) from None


def _sniff(header_line: str) -> str:
    """`;` or `,`, whichever separates the header line (counted outside quotes)."""
    counts = {";": 0, ",": 0}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return "," if counts[","] > counts[";"] else ";"


def read_csv(path: Path, data: bytes) -> Table:
    text, encoding = _decode(path, data)
    if looks_binary(text):  # a stray control character only quarantines its row (controls)
        raise UnreadableFile(path, "filen är varken en textfil (CSV) eller en Excel-fil (.xlsx)")
    if not text.strip():
        raise UnreadableFile(path, "filen är tom")
    lines = [line for line in text.splitlines() if line.strip()]
    # The first line with a separator: a hand-typed title line above the header has none.
    delimiter = _sniff(next((line for line in lines if ";" in line or "," in line), lines[0]))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnreadableFile(path, f"filen kan inte läsas som CSV: {exc}") from None
    # Record number = the row Excel shows (a quoted line break stays inside one row).
    rows = [(number, cells) for number, cells in enumerate(records, 1)]
    layout = f"CSV, {encoding}, {_DELIMITER_NAMES[delimiter]}"
    return Table(rows=rows, layout=layout, delimiter=delimiter)
