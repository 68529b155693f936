"""One Excel workbook per mart: the Excel-native route, with no import step.

A CSV opened in Excel or LibreOffice turns the code `0114` into the number 114 unless the
reader sets the column's type in an import dialog; an xlsx states each cell's type, so codes
are text cells, numbers are numbers shown at the KPI's precision (number format `0.0` etc.,
percentile `0.0%`), times are Excel date-times in Swedish time. The columns are the same Excel
view the CSV is written from (pipelines.publish.presentation): Swedish headers and labels.
Each column is as wide as its longest value (up to MAX_WIDTH), the header row is frozen and
filtered, and the sources and their terms are on a Swedish sheet of their own ("Källor"),
because the credit must travel with the file.

Two writers share these rules. The marts' workbooks (xlsx/<mart>.xlsx) are laid out by
XlsxWriter and their rows written by DuckDB (pipelines.publish.xlsx_sql), so every mart that
fits in a sheet (1,048,576 rows) gets one at about the cost of its CSV. `write_xlsx` here
writes a small table cell by cell with XlsxWriter in `constant_memory` mode (rows stream to
disk, memory stays flat): the report's per-kommun downloads, and the reference the marts'
writer is tested against (tests/test_publish_xlsx.py).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from pipelines.publish.attribution import TERMS_SV
from pipelines.publish.presentation import ExcelColumn, denoise

EXCEL_MAX_ROWS = 1_048_576
# Every mart that fits in a sheet gets a workbook; the publisher's `xlsx_row_cap` can lower it.
ROW_CAP = EXCEL_MAX_ROWS - 1
ROW_CAP_ENV = "KK_XLSX_ROW_CAP"


def row_cap() -> int:
    """ROW_CAP, or KK_XLSX_ROW_CAP when set: the test suite, which publishes the sample many
    times, sets it lower (tests/conftest.py); a deployment has no reason to."""
    text = os.environ.get(ROW_CAP_ENV, "").strip()
    if not text:
        return ROW_CAP
    try:
        cap = int(text)
    except ValueError:
        raise ValueError(f"{ROW_CAP_ENV}={text!r}: expected a number of rows") from None
    return max(0, min(cap, ROW_CAP))
DATA_SHEET = "Data"
SOURCES_SHEET = "Källor"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
TIME_HEADER_SUFFIX = " (svensk tid)"
FIXED_CREATED = datetime(2000, 1, 1)
MAX_WIDTH = 60  # characters; a longer text wraps in the cell when the reader widens it
MIN_WIDTH = 6
# XML 1.0 cannot carry these control characters; Excel refuses a file that holds them.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    # text stays text: never a number, a formula ("=HYPERLINK(...)") or a link
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def number_format(decimals: int | None, *, percent: bool = False) -> str:
    """`0`, `0.0`, `0.00`, ...; a percent `0.0%`; no known precision: General."""
    if decimals is None:
        return "General"
    body = "0" if decimals <= 0 else "0." + "0" * decimals
    return body + "%" if percent else body


def _clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _number(column: ExcelColumn, row: int, value: Any) -> tuple[float, int | None]:
    """The number a cell stores (rounded as shown, so a copied cell holds what it shows) and
    its decimals (None: General)."""
    decimals = column.decimals[row] if column.decimals is not None else None
    if isinstance(value, bool):
        return int(value), None
    if decimals is None:
        return (value if isinstance(value, int) else denoise(float(value))), None
    return round(float(value), decimals + (2 if column.kind == "percent" else 0)), decimals


def _shown_width(column: ExcelColumn) -> int:
    """How many characters the column's widest cell shows (the header included)."""
    header = len(column.header) + (len(TIME_HEADER_SUFFIX) if column.kind == "timestamp" else 0)
    values = [v for v in column.values if v is not None]
    if not values:
        return header
    if column.kind in ("number", "percent"):
        numbers = [v for v in values if not isinstance(v, bool) and math.isfinite(float(v))]
        if not numbers:
            return max(header, 1)
        widest = max(abs(float(max(numbers))), abs(float(min(numbers))))
        decimals = max((d for d in column.decimals or () if d is not None), default=2)
        scale = 100 if column.kind == "percent" else 1
        shown = len(f"{widest * scale:.{decimals}f}") + 1 + (column.kind == "percent")
        return max(header, shown)
    if column.kind == "timestamp":
        return max(header, len(TIME_FORMAT))
    return max(header, max(map(len, map(str, values))))


def column_width(column: ExcelColumn) -> float:
    """Excel's width unit is about one digit; a little air for the filter button."""
    return float(min(max(_shown_width(column) + 2, MIN_WIDTH), MAX_WIDTH))


def sources_sheet(manifest: Mapping[str, Any], mart: str) -> dict[str, str]:
    """What the Källor sheet says for `mart`, in Swedish: the publication, then each credit,
    its terms and the columns it covers."""
    lines = {
        "Tabell": mart,
        "Publicering": manifest["version"],
        "Data per": _stockholm(str(manifest["as_of"])),
    }
    attribution = manifest["attribution"]
    for key, block in attribution.items():
        if not isinstance(block, Mapping):
            continue
        columns = block.get("applies_to", {}).get(mart)
        if columns:
            terms = TERMS_SV.get(key, block["terms"])
            lines[block["credit"]] = f"{terms} Kolumner: {', '.join(columns)}."
    if "synthetic_notice" in attribution:
        lines["Obs"] = attribution["synthetic_notice"]
    return lines


def _stockholm(as_of: str) -> str:
    from pipelines.publish.swedish import stockholm_text  # a leaf module; no cycle

    return stockholm_text(as_of)


# a table this small is assembled in memory: no temporary files (the report writes 290)
IN_MEMORY_ROWS = 5_000


def write_xlsx(
    columns: list[ExcelColumn], path: Path, sources: Mapping[str, Any], title: str
) -> Path:
    """The mart's Excel view on sheet Data, `sources` (line -> text) on sheet Källor."""
    rows = len(columns[0].values) if columns else 0
    if rows + 1 > EXCEL_MAX_ROWS:
        raise ValueError(f"{title}: {rows} rows do not fit in an Excel sheet")
    options = dict(WORKBOOK_OPTIONS)
    if rows <= IN_MEMORY_ROWS:
        options |= {"constant_memory": False, "in_memory": True}
    wb = xlsxwriter.Workbook(str(path), options)
    # a fixed creation time: the same data gives the same bytes (a re-rendered report, a
    # replayed publication); the publication's time is on the Källor sheet
    wb.set_properties({"created": FIXED_CREATED})
    try:
        _data_sheet(wb, columns, rows)
        write_sources_sheet(wb, sources, title)
    finally:
        wb.close()
    return path


def write_sources_sheet(wb: Any, sources: Mapping[str, Any], title: str) -> Any:
    """The Källor sheet: the title, then one line per source (label in bold, text wrapped)."""
    info = wb.add_worksheet(SOURCES_SHEET)
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    info.set_column(0, 0, 28)
    info.set_column(1, 1, 100, wrap)
    info.write_string(0, 0, _clean(title), bold)
    for r, (label, text) in enumerate(sources.items(), start=1):
        info.write_string(r, 0, _clean(str(label)), bold)
        info.write_string(r, 1, _clean(str(text)), wrap)
    return info


def _data_sheet(wb: Any, columns: list[ExcelColumn], rows: int) -> None:
    ws = wb.add_worksheet(DATA_SHEET)
    # constant_memory writes a row as soon as the next one starts: the layout comes first
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, rows, len(columns) - 1)
    formats: dict[str, Any] = {}

    def fmt(code: str) -> Any:
        if code not in formats:
            formats[code] = wb.add_format({"num_format": code})
        return formats[code]

    for i, column in enumerate(columns):
        ws.set_column(i, i, column_width(column))
    header = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1})
    for i, column in enumerate(columns):
        text = column.header + (TIME_HEADER_SUFFIX if column.kind == "timestamp" else "")
        ws.write_string(0, i, _clean(text), header)
    time_format = fmt(TIME_FORMAT)
    writers = [_column_writer(ws, column, fmt, time_format) for column in columns]
    for row in range(rows):
        r = row + 1
        for i, write in enumerate(writers):
            write(r, i, row)


def _column_writer(ws: Any, column: ExcelColumn, fmt: Any, time_format: Any):
    """A function (excel row, column index, data row) -> writes that cell, chosen once per
    column so the row loop makes no decisions."""
    values = column.values
    if column.kind == "text":
        def text(r: int, i: int, row: int) -> None:
            v = values[row]
            # a string cell: codes like 0114 stay text, "=..." stays text; control characters
            # are dropped (XML cannot carry them), as the marts' writer does
            if v is not None:
                ws.write_string(r, i, _clean(v if isinstance(v, str) else str(v)))
        return text
    if column.kind in ("number", "percent"):
        general = fmt("General")
        by_decimals: dict[int, Any] = {}

        def number(r: int, i: int, row: int) -> None:
            v = values[row]
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                return  # Excel stores no NaN or infinity: the cell stays empty, as in the CSV
            value, decimals = _number(column, row, v)
            if decimals is None:
                ws.write_number(r, i, value, general)
                return
            f = by_decimals.get(decimals)
            if f is None:
                f = by_decimals[decimals] = fmt(
                    number_format(decimals, percent=column.kind == "percent"))
            ws.write_number(r, i, value, f)
        return number
    if column.kind == "timestamp":
        def timestamp(r: int, i: int, row: int) -> None:
            v = values[row]
            if isinstance(v, datetime):  # already Stockholm time (presentation)
                ws.write_datetime(r, i, v.replace(tzinfo=None), time_format)
            elif v is not None:
                ws.write_string(r, i, str(v))
        return timestamp
    if column.kind == "boolean":
        def boolean(r: int, i: int, row: int) -> None:
            v = values[row]
            if v is not None:
                ws.write_boolean(r, i, bool(v))
        return boolean

    date_format = fmt(DATE_FORMAT)

    def other(r: int, i: int, row: int) -> None:  # dates and anything else: as Excel sees it
        v = values[row]
        if isinstance(v, date):
            ws.write_datetime(r, i, v, date_format)
        elif v is not None:
            ws.write(r, i, v)
    return other
