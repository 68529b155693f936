"""One Excel workbook per mart: the Excel-native route, with no import step.

A CSV needs Excel's import dialog to keep `0180` as text; an xlsx states each cell's type, so
codes are text cells, numbers are numbers shown at the KPI's precision (number format `0.0`
etc., percentile `0.0%`), times are Excel date-times in Swedish time. The columns are the same
Excel view the CSV is written from (pipelines.publish.presentation): Swedish headers and
labels. The header row is frozen and filtered; the sources and their terms are on a sheet of
their own, because the credit must travel with the file.

Written with openpyxl's write-only mode (rows streamed, constant memory). Excel takes at most
1,048,576 rows, but writing is the slow part of a publication, so marts above ROW_CAP rows get
no workbook (the publication's README says which): see docs/checks-and-publishing.md for the
measurement behind the cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from pipelines.publish.presentation import ExcelColumn, denoise

# Above this many rows a workbook costs more publish time than it is worth (about 40-60 s per
# 100,000 rows × 26 columns here); such marts are read from their CSV, Parquet or DuckDB file.
ROW_CAP = 50_000
EXCEL_MAX_ROWS = 1_048_576
DATA_SHEET = "Data"
SOURCES_SHEET = "Källor"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TIME_HEADER_SUFFIX = " (svensk tid)"


def number_format(decimals: int | None, *, percent: bool = False) -> str:
    """`0`, `0.0`, `0.00`, ...; a percent `0.0%`; no known precision: General."""
    if decimals is None:
        return "General"
    body = "0" if decimals <= 0 else "0." + "0" * decimals
    return body + "%" if percent else body


def _text(ws: Any, value: str) -> Any:
    """A text cell that is never a formula (openpyxl would run "=..." as one)."""
    cell = WriteOnlyCell(ws, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


class _Cells:
    """Reusable styled cells, one per (column, number format).

    A write-only sheet serialises a row as soon as it is appended, so one cell object per
    column and format can carry each row's value in turn: styling a fresh cell per value was
    most of the writing time.
    """

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.cells: dict[tuple[int, str], Any] = {}

    def get(self, index: int, fmt: str, value: Any) -> Any:
        cell = self.cells.get((index, fmt))
        if cell is None:
            cell = self.cells[(index, fmt)] = WriteOnlyCell(self.ws, None)
            cell.number_format = fmt
        cell.value = value
        return cell


def _cell(cells: _Cells, index: int, column: ExcelColumn, row: int) -> Any:
    value = column.values[row]
    if value is None:
        return None
    if column.kind == "text":
        text = str(value)
        if text.startswith("=") or ILLEGAL_CHARACTERS_RE.search(text):
            return _text(cells.ws, text)
        return text  # a plain str is a text cell: codes like 0180 stay text
    if column.kind in ("number", "percent"):
        decimals = column.decimals[row] if column.decimals is not None else None
        if isinstance(value, bool) or (decimals is None and isinstance(value, int)):
            return value
        if decimals is None:
            number = denoise(float(value))
        else:  # stored rounded too, so a copied cell holds what it shows
            number = round(float(value), decimals + (2 if column.kind == "percent" else 0))
        fmt = number_format(decimals, percent=column.kind == "percent")
        return cells.get(index, fmt, number)
    if column.kind == "timestamp" and isinstance(value, datetime):
        return cells.get(index, TIME_FORMAT, value.replace(tzinfo=None))  # Stockholm time
    return value


def sources_sheet(manifest: Mapping[str, Any], mart: str) -> dict[str, str]:
    """What the Källor sheet says for `mart`: the publication, then each credit and its columns."""
    lines = {
        "Tabell": mart,
        "Publicering": manifest["version"],
        "Data per (as of)": manifest["as_of"],
    }
    attribution = manifest["attribution"]
    for block in attribution.values():
        if not isinstance(block, Mapping):
            continue
        columns = block.get("applies_to", {}).get(mart)
        if columns:
            lines[block["credit"]] = f"{block['terms']} Kolumner: {', '.join(columns)}."
    if "synthetic_notice" in attribution:
        lines["Obs"] = attribution["synthetic_notice"]
    return lines


def write_xlsx(
    columns: list[ExcelColumn], path: Path, sources: Mapping[str, Any], title: str
) -> Path:
    """The mart's Excel view on sheet Data, `sources` (line -> text) on sheet Källor."""
    rows = len(columns[0].values) if columns else 0
    if rows + 1 > EXCEL_MAX_ROWS:
        raise ValueError(f"{title}: {rows} rows do not fit in an Excel sheet")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    ws.freeze_panes = "A2"
    last = get_column_letter(max(len(columns), 1))
    ws.auto_filter.ref = f"A1:{last}{rows + 1}"
    for i, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(len(column.header), 10), 40)
    bold = Font(bold=True)
    header = []
    for column in columns:
        text = column.header + (TIME_HEADER_SUFFIX if column.kind == "timestamp" else "")
        cell = _text(ws, text)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    cells = _Cells(ws)
    indexed = list(enumerate(columns))
    for row in range(rows):
        ws.append([_cell(cells, i, column, row) for i, column in indexed])
    info = wb.create_sheet(SOURCES_SHEET)
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 100
    info.append([_text(info, title)])
    for label, text in sources.items():
        info.append([_text(info, str(label)), _text(info, str(text))])
    wb.save(path)
    return path
