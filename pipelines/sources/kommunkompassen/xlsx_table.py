"""XLSX through openpyxl: the sheet named `Kommunkompassen`, else the first sheet.

Cells arrive typed (int, float, text, dates); they are turned into the text a person would
have typed so the CSV and XLSX paths validate the same way. A number formatted as percent
(`51 %` typed in Swedish Excel is stored as 0.51) becomes `51 %` again.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl

from pipelines.sources.kommunkompassen.areas import fold
from pipelines.sources.kommunkompassen.grid import Table
from pipelines.sources.kommunkompassen.problems import UnreadableFile

SHEET_NAME = "Kommunkompassen"


def _number_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    return repr(value)


def cell_text(value: Any, number_format: str = "General") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "SANT" if value else "FALSKT"
    if isinstance(value, (int, float)):
        if "%" in (number_format or ""):
            return _number_text(round(float(value) * 100, 9)) + " %"
        return _number_text(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _is_opendocument(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b"opendocument" in archive.read("mimetype")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


# What the workbook's parts may unpack to in all: a zip bomb renamed .xlsx (a few kB that
# unpack to gigabytes) is refused from the zip's directory before anything is decompressed.
# zipfile never yields more than a member's declared size, so the declared sizes bound it.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


def _refuse_zip_bomb(path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a readable zip: openpyxl's refusal names it below
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableFile(
            path, f"arbetsboken packar upp till {unpacked / 1024 / 1024:.0f} MB "
            f"({len(data) / 1024:.0f} kB packat); en importfil är långt mindre (fel fil?)")


def read_xlsx(path: Path, data: bytes) -> Table:
    _refuse_zip_bomb(path, data)
    if _is_opendocument(data):
        raise UnreadableFile(
            path, "filen är ett OpenDocument-kalkylark (.ods); spara den som .xlsx eller CSV"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops
            workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a foreign zip
        raise UnreadableFile(
            path, f"filen kan inte öppnas som Excel-fil (.xlsx): {type(exc).__name__}"
        ) from None
    sheets = workbook.worksheets
    if not sheets:
        raise UnreadableFile(path, "arbetsboken har inga blad")
    sheet = next((s for s in sheets if fold(s.title) == fold(SHEET_NAME)), sheets[0])
    rows: list[tuple[int, list[str]]] = []
    for cells in sheet.iter_rows():
        if not cells:
            continue
        texts = [cell_text(c.value, c.number_format) for c in cells]
        rows.append((cells[0].row, texts))
    if not any(any(t.strip() for t in texts) for _, texts in rows):
        raise UnreadableFile(path, f"bladet \"{sheet.title}\" är tomt")
    return Table(rows=rows, layout=f"Excel, bladet \"{sheet.title}\"")
