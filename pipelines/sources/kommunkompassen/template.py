"""A ready-to-fill import file, so analysts start from the format instead of guessing it.

The example assessment is real-looking but marked: its `kommun` cell starts with EXEMPEL, and
the reader skips such rows (counting them), so an untouched template imports nothing and an
overwritten one imports cleanly. The CSV is what Swedish Excel writes (UTF-8 with BOM, `;`,
decimal comma); the XLSX keeps `kommunkod` as text so Excel does not drop leading zeros.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

from pipelines.sources.kommunkompassen.areas import AREAS
from pipelines.sources.kommunkompassen.columns import COLUMNS
from pipelines.sources.kommunkompassen.xlsx_table import SHEET_NAME

EXAMPLE_MUNICIPALITY = "EXEMPEL – ersätt med er kommun"
EXAMPLE_YEAR = 2024
EXAMPLE_VERSION = 2020
EXAMPLE_SCORES = (62, 58, 65, 55, 60, 57, 63, 59)
EXAMPLE_BENCHMARKS = (55.5, 57.0, 56.5, 52.0, 58.5, 50.0, 60.5, 56.0)
INSTRUCTIONS_SHEET = "Instruktioner"
FORMATTED_ROWS = 1000  # rows whose kommunkod cell is preformatted as text

INSTRUCTIONS: tuple[str, ...] = (
    "Så fyller du i mallen (Kommunkompassen)",
    "",
    "En rad per kommun, bedömning och område: 8 rader per bedömning.",
    "Rubrikraden ska stå kvar. Stora/små bokstäver och å/ä/ö i rubrikerna spelar ingen roll.",
    "kommunkod: fyra siffror (t.ex. 0180), eller lämna tom och fyll i kommun.",
    "kommun: kommunens namn (t.ex. Arvika eller Arvika kommun).",
    "år: året då bedömningen gjordes (2000–2100).",
    "version: 2010 (bedömningar 2010–2019) eller 2020 (från 2020). Tom = räknas ut från året.",
    "område_nr: 1–8. område: områdets namn som i rapporten. Ange minst en av dem.",
    "poäng: 0–100, t.ex. 73, 73,5 eller 51 %.",
    "sverigesnitt: valfritt, rikets snitt för området, samma regler som poäng.",
    "totalt: valfritt, 0–800. Kan stå på alla rader i bedömningen, men måste vara lika.",
    "styrkor, förbättringsområden: valfri fritext.",
    "Rader där kommun börjar med EXEMPEL läses inte in: skriv över eller ta bort dem.",
    "",
    *(f"{version} års version, område {a.number}: {a.label}"
      for version in AREAS for a in AREAS[version]),
)


def example_rows() -> list[list[str | float]]:
    """The 8 rows of the marked example assessment, values as Python numbers."""
    total = sum(EXAMPLE_SCORES)
    rows: list[list[str | float]] = []
    for a, score, benchmark in zip(AREAS[EXAMPLE_VERSION], EXAMPLE_SCORES, EXAMPLE_BENCHMARKS):
        strengths = "Fritext: styrkor enligt rapporten" if a.number == 1 else ""
        improvements = "Fritext: förbättringsområden enligt rapporten" if a.number == 1 else ""
        rows.append([
            "", EXAMPLE_MUNICIPALITY, EXAMPLE_YEAR, EXAMPLE_VERSION, a.number, a.label, score,
            benchmark, total, strengths, improvements,
        ])
    return rows


def _csv_cell(value: str | float) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


def _write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in example_rows():
            writer.writerow([_csv_cell(v) for v in row])


def _write_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in example_rows():
        sheet.append([None if v == "" else v for v in row])
    for number in range(2, FORMATTED_ROWS + 1):
        sheet.cell(row=number, column=1).number_format = "@"
    for letter, width in zip("ABCDEFGHIJK", (11, 32, 7, 9, 11, 44, 8, 13, 8, 40, 44)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(INSTRUCTIONS_SHEET)
    for line in INSTRUCTIONS:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    workbook.save(path)


def write_template(path: Path, *, xlsx: bool) -> Path:
    """Write the template to `path` (CSV or XLSX) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if xlsx:
        _write_xlsx(path)
    else:
        _write_csv(path)
    return path
