"""The xlsx files as Excel reads them: text codes, numbers at the KPI's precision, sources."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
from openpyxl.utils import get_column_letter

from pipelines.publish import writers
from pipelines.publish.xlsx import number_format, sources_sheet

KPIS = {"N15428": 1, "N00945": 0}
SOURCES = {"Källa: Kolada": "Unprocessed Kolada values. Kolumner: value."}


def _scorecard() -> pa.Table:
    return pa.table({
        "municipality_id": ["0180", "0319", "1280"],
        "kpi_id": ["N15428", "N00945", "N99999"],
        "kpi_title": ["Åtgärder", '=HYPERLINK("http://x")', "Kostnad"],
        "value": [85.80000000000001, 1234.4, 0.0001],
        "rank": [1, 2, None],
        "percentile": [0.12345, 1.0, None],
        "colour": ["green", "red", None],
    })


@pytest.fixture
def sheet(tmp_path: Path):
    path = writers.write_xlsx("mart_kkik_scorecard", _scorecard(), tmp_path, KPIS, SOURCES)
    assert path == tmp_path / "xlsx" / "mart_kkik_scorecard.xlsx"
    workbook = openpyxl.load_workbook(path)
    yield workbook
    workbook.close()


def _column(ws, header: str) -> list:
    headers = [c.value for c in ws[1]]
    return [row[headers.index(header)] for row in ws.iter_rows(min_row=2)]


def test_xlsx_headers_are_swedish_and_codes_show_as_swedish_labels(sheet) -> None:
    ws = sheet["Data"]
    assert [c.value for c in ws[1]] == [
        "Kommunkod", "Nyckeltal id", "Mått", "Utfall", "Rang", "Percentil (%)", "Färg",
    ]
    # the person's file has the label only; Parquet and DuckDB keep `green`
    assert [c.value for c in _column(ws, "Färg")] == [
        "Grön (bästa 25 %)", "Röd (sämsta 25 %)", None,
    ]


def test_xlsx_codes_are_text_cells(sheet) -> None:
    codes = _column(sheet["Data"], "Kommunkod")
    assert [c.value for c in codes] == ["0180", "0319", "1280"]
    assert {c.data_type for c in codes} == {"s"}
    assert {c.data_type for c in _column(sheet["Data"], "Nyckeltal id")} == {"s"}


def test_xlsx_formula_looking_text_stays_text(sheet) -> None:
    title = _column(sheet["Data"], "Mått")[1]
    assert title.value == '=HYPERLINK("http://x")' and title.data_type == "s"


def test_xlsx_numbers_are_numbers_with_the_kpis_precision_as_format(sheet) -> None:
    values = _column(sheet["Data"], "Utfall")
    assert [c.value for c in values] == [85.8, 1234, 0.0001]
    assert all(c.data_type == "n" for c in values)
    assert [c.number_format for c in values] == ["0.0", "0", "General"]
    ranks = _column(sheet["Data"], "Rang")
    assert [c.value for c in ranks] == [1, 2, None] and ranks[0].data_type == "n"


def test_xlsx_percentile_is_a_fraction_shown_as_percent(sheet) -> None:
    cells = _column(sheet["Data"], "Percentil (%)")
    assert [c.value for c in cells[:2]] == [0.123, 1.0]
    assert {c.number_format for c in cells[:2]} == {"0.0%"}


def test_xlsx_header_is_frozen_and_filtered(sheet) -> None:
    ws = sheet["Data"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G4"  # seven columns: the colour as its label only


def test_xlsx_sources_on_a_sheet_of_their_own(sheet) -> None:
    assert sheet.sheetnames == ["Data", "Källor"]
    rows = [[c.value for c in row] for row in sheet["Källor"].iter_rows()]
    assert rows[0][0] == "mart_kkik_scorecard"
    assert ["Källa: Kolada", SOURCES["Källa: Kolada"]] in rows


def test_xlsx_times_are_excel_datetimes_in_stockholm_time(tmp_path: Path) -> None:
    table = pa.table({
        "entity_key": ["a"],
        "last_revised_at": pa.array([datetime(2026, 7, 2, 10, 0, tzinfo=UTC)],
                                    pa.timestamp("us", tz="UTC")),
    })
    path = writers.write_xlsx("fct_kpi_values", table, tmp_path, {}, SOURCES)
    ws = openpyxl.load_workbook(path)["Data"]
    assert ws["B1"].value == "Senast reviderad (svensk tid)"
    assert ws["B2"].value == datetime(2026, 7, 2, 12, 0) and ws["B2"].is_date


def test_number_format_per_precision() -> None:
    assert [number_format(d) for d in (0, 1, 2)] == ["0", "0.0", "0.00"]
    assert number_format(1, percent=True) == "0.0%" and number_format(None) == "General"


def test_sources_sheet_names_the_columns_each_credit_covers() -> None:
    manifest = {
        "version": "v1", "as_of": "2026-01-01T00:00:00+00:00",
        "attribution": {
            "kolada": {"credit": "Källa: Kolada", "terms": "T.",
                       "applies_to": {"fct_kpi_values": ["value", "status"]}},
            "scb": {"credit": "Källa: SCB", "terms": "S.", "applies_to": {}},
            "synthetic_notice": "Syntetiska exempeldata",
        },
    }
    lines = sources_sheet(manifest, "fct_kpi_values")
    # Swedish terms for the analyst (the manifest's English ones are for engineers)
    assert lines["Källa: Kolada"] == (
        "Obearbetade värden från Kolada anges med 'Källa: Kolada'. Kolumner: value, status.")
    assert "Källa: SCB" not in lines and lines["Obs"] == "Syntetiska exempeldata"
    # Stockholm time with the zone named, not UTC
    assert lines["Data per"] == "2026-01-01 01:00 CET (svensk normaltid)"


def test_xlsx_columns_are_as_wide_as_their_content(tmp_path: Path) -> None:
    table = pa.table({"municipality_id": ["0114", "1784"],
                      "municipality_name": ["Upplands Väsby", "Arvika"],
                      "kkik_area": ["Barn och unga", "Stöd och omsorg"]})
    ws = openpyxl.load_workbook(
        writers.write_xlsx("dim_municipality", table, tmp_path, {}, SOURCES))["Data"]
    widths = {ws.cell(1, i).value: ws.column_dimensions[get_column_letter(i)].width
              for i in range(1, ws.max_column + 1)}
    # no name cut at a fixed 10 characters ("Upplands Vä"): each column fits its longest cell
    assert widths["Kommun"] >= len("Upplands Väsby") + 1
    assert widths["Kommunkod"] >= len("Kommunkod")
    assert all(w <= 62 for w in widths.values())


def test_xlsx_header_is_bold_and_every_mart_that_fits_gets_a_workbook() -> None:
    from pipelines.publish.xlsx import EXCEL_MAX_ROWS, ROW_CAP

    assert ROW_CAP == EXCEL_MAX_ROWS - 1  # the header row plus every data row fits a sheet


def test_xlsx_rows_written_by_duckdb_equal_the_per_cell_writers(tmp_path: Path) -> None:
    """The marts' xlsx (rows by DuckDB, pipelines/publish/xlsx_sql.py) against the per-cell
    writer (pipelines/publish/xlsx.py) on awkward values: cell for cell, value, type, format."""
    from datetime import date

    from pipelines.publish.presentation import excel_columns
    from pipelines.publish.xlsx import write_xlsx

    table = pa.table({
        "municipality_id": ["0114", " 0180 ", "a&b<c>", "x\x01y", None],
        "kpi_id": ["N15428", "N00945", "N15428", "N99999", "N00945"],
        "kpi_title": ["=1+1", "Åtgärder \"citat\"", "", "tab\there", "ny\nrad"],
        "value": [72.125, -0.04, float("nan"), 1e20, None],
        "rank": pa.array([1, None, 3, 4, 5], pa.int32()),
        "percentile": [0.12345, 1.0, None, 0.0, 0.5],
        "colour": ["green", "red", None, "grey", "yellow"],
        "is_latest_year": [True, False, None, True, False],
        "computed_on": [date(2024, 1, 2), None, date(1999, 12, 31), date(2024, 1, 2), None],
        "last_revised_at": pa.array(
            [datetime(2026, 7, 2, 10, 0, tzinfo=UTC), None, datetime(2026, 1, 2, 23, 30,
                                                                     tzinfo=UTC), None, None],
            pa.timestamp("us", tz="UTC")),
    })
    new = writers.write_xlsx("mart_kkik_scorecard", table, tmp_path, KPIS, SOURCES)
    old = write_xlsx(excel_columns("mart_kkik_scorecard", table, KPIS), tmp_path / "old.xlsx",
                     SOURCES, "mart_kkik_scorecard")
    a = openpyxl.load_workbook(new)["Data"]
    b = openpyxl.load_workbook(old)["Data"]
    assert a.max_row == b.max_row == 6 and a.max_column == b.max_column
    for row_a, row_b in zip(a.iter_rows(), b.iter_rows()):
        for x, y in zip(row_a, row_b):
            assert (x.value, x.data_type) == (y.value, y.data_type), x.coordinate
            if x.value is not None:
                assert x.number_format == y.number_format, x.coordinate
    widths = [a.column_dimensions[get_column_letter(i)].width for i in range(1, a.max_column + 1)]
    assert widths == [b.column_dimensions[get_column_letter(i)].width
                      for i in range(1, b.max_column + 1)]
    assert a.freeze_panes == "A2" and a.auto_filter.ref == b.auto_filter.ref


def test_xlsx_row_cap_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.publish.xlsx import ROW_CAP, row_cap

    monkeypatch.delenv("KK_XLSX_ROW_CAP", raising=False)
    assert row_cap() == ROW_CAP
    monkeypatch.setenv("KK_XLSX_ROW_CAP", "50000")
    assert row_cap() == 50_000
    monkeypatch.setenv("KK_XLSX_ROW_CAP", "5000000")
    assert row_cap() == ROW_CAP  # never more than a sheet holds
    monkeypatch.setenv("KK_XLSX_ROW_CAP", "many")
    with pytest.raises(ValueError, match="KK_XLSX_ROW_CAP='many'"):
        row_cap()
