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


# Rows a sheet may have: Kommunkompassen for all 290 kommuner, 8 areas and 25 years is 58,000
# rows, an initiative register far fewer. openpyxl reads ~10,000 rows a second, so the cap
# also bounds the time a wrong file costs the night (the unpack cap alone let 1.2M rows in).
MAX_SHEET_ROWS = 60_000


def _too_many_rows(path: Path, rows: int) -> UnreadableFile:
    return UnreadableFile(
        path, f"bladet har {rows:,} rader eller fler; en importfil har högst "
        f"{MAX_SHEET_ROWS:,} (fel fil?)".replace(",", " "))


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
    _refuse_huge_sheets(path, data)
    if _is_opendocument(data):
        raise UnreadableFile(
            path, "filen är ett OpenDocument-kalkylark (.ods); spara den som .xlsx eller CSV"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops
            # read-only: the sheet is streamed from its XML instead of built as a cell graph,
            # which cost a 100,000-row sheet 15 s and 200 MB here (132 s, 570 MB in the probe)
            workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a foreign zip
        raise UnreadableFile(
            path, f"filen kan inte öppnas som Excel-fil (.xlsx): {type(exc).__name__}"
        ) from None
    try:
        return _read_sheet(path, workbook)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet XML surfaces while streaming
        raise UnreadableFile(
            path, f"filen kan inte läsas som Excel-fil (.xlsx): {type(exc).__name__}"
        ) from None
    finally:
        workbook.close()


def _row_tags(archive: zipfile.ZipFile, part: str) -> int:
    """How many `<row` tags a sheet's XML holds, counted on the raw bytes as they unpack
    (hundreds of MB/s, where parsing rows runs at ~10,000 a second)."""
    count, tail = 0, b""
    with archive.open(part) as xml:
        while chunk := xml.read(1 << 20):
            joined = tail + chunk
            count += joined.count(b"<row ") + joined.count(b"<row>")
            tail = joined[-5:]
            count -= tail.count(b"<row ") + tail.count(b"<row>")  # counted with the next chunk
            if count > MAX_SHEET_ROWS:
                break
    return count + tail.count(b"<row ") + tail.count(b"<row>")


def _refuse_huge_sheets(path: Path, data: bytes) -> None:
    """Before openpyxl opens the workbook: a sheet without a <dimension> is parsed whole just
    to be sized, so the rows are counted on the raw XML of every sheet first."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    rows = _row_tags(archive, name)
                    if rows > MAX_SHEET_ROWS:
                        raise _too_many_rows(path, rows)
    except (zipfile.BadZipFile, OSError):
        return  # not a readable zip: openpyxl's refusal names it below


def _read_sheet(path: Path, workbook: Any) -> Table:
    sheets = workbook.worksheets
    if not sheets:
        raise UnreadableFile(path, "arbetsboken har inga blad")
    sheet = next((s for s in sheets if fold(s.title) == fold(SHEET_NAME)), sheets[0])
    declared = sheet.max_row  # from the sheet's <dimension>, before a row is parsed
    if isinstance(declared, int) and declared > MAX_SHEET_ROWS:
        raise _too_many_rows(path, declared)
    rows: list[tuple[int, list[str]]] = []
    # the row number as Excel shows it: streamed rows carry it on their non-empty cells only
    for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
        if number > MAX_SHEET_ROWS:  # a <dimension> that understated the sheet
            raise _too_many_rows(path, number)
        if not cells:
            continue
        row = next((c.row for c in cells if getattr(c, "row", None) is not None), number)
        texts = [cell_text(c.value, getattr(c, "number_format", "General")) for c in cells]
        rows.append((row, texts))
    if not any(any(t.strip() for t in texts) for _, texts in rows):
        raise UnreadableFile(path, f"bladet \"{sheet.title}\" är tomt")
    return Table(rows=rows, layout=f"Excel, bladet \"{sheet.title}\"")
