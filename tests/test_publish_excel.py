"""The Excel CSV as an analyst opens it: the KPI's precision, percents, labels, Stockholm time."""

from __future__ import annotations

import csv
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from pipelines.publish import writers
from pipelines.publish.excel_csv import format_rounded
from pipelines.publish.presentation import excel_columns, kpi_decimals, labels_sv
from pipelines.warehouse.marts import mart_contracts

REPO_ROOT = Path(__file__).resolve().parents[1]
KPIS = {"N15428": 1, "N00945": 0}


def _rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh, delimiter=";"))


def _scorecard() -> pa.Table:
    return pa.table({
        "municipality_id": ["0180", "0319", "1280"],
        "kpi_id": ["N15428", "N00945", "N99999"],
        "value": [85.80000000000001, 1234.4, 0.0001],
        "rank": [1, 2, None],
        "percentile": [0.12345, 1.0, None],
        "colour": ["green", "red", None],
        "change": ["Upp", "Ingen", "Ned"],
    })


def test_csv_rounds_kpi_values_to_the_kpis_published_decimals(tmp_path: Path) -> None:
    writers.write_csv("mart_kkik_scorecard", _scorecard(), tmp_path, KPIS)
    header, *rows = _rows(tmp_path / "csv" / "mart_kkik_scorecard.csv")
    values = [row[header.index("Utfall")] for row in rows]
    # N15428 has 1 decimal, N00945 none; an unknown KPI keeps its value without float noise
    assert values == ["85,8", "1234", "0,0001"]


def test_csv_percentile_is_a_percent_with_one_decimal(tmp_path: Path) -> None:
    writers.write_csv("mart_kkik_scorecard", _scorecard(), tmp_path, KPIS)
    header, *rows = _rows(tmp_path / "csv" / "mart_kkik_scorecard.csv")
    column = header.index("Percentil (%)")
    assert [row[column] for row in rows] == ["12,3", "100,0", ""]


def test_csv_shows_swedish_labels_in_place_of_the_codes(tmp_path: Path) -> None:
    writers.write_csv("mart_kkik_scorecard", _scorecard(), tmp_path, KPIS)
    raw = (tmp_path / "csv" / "mart_kkik_scorecard.csv").read_text(encoding="utf-8-sig")
    header, *rows = _rows(tmp_path / "csv" / "mart_kkik_scorecard.csv")
    colour = header.index("Färg")
    assert header[colour:] == ["Färg", "Förändring"]  # one column each, no code beside
    assert [row[colour] for row in rows] == ["Grön (bästa 25 %)", "Röd (sämsta 25 %)", ""]
    change = header.index("Förändring")
    assert [row[change] for row in rows][1] == "Ingen (inget jämförbart föregående värde)"
    assert "green" not in raw and "red;" not in raw


def test_no_code_of_a_labelled_column_reaches_a_persons_file(tmp_path: Path) -> None:
    # every published coded column: its Excel view holds labels only (codes stay in Parquet)
    labelled = {c: codes for c, codes in labels_sv().columns.items()
                if labels_sv().for_column(c) is not None}
    for mart, contract in mart_contracts().items():
        for column in contract.columns:
            codes = labelled.get(column.name)
            if not codes or not column.accepted_values:
                continue
            table = pa.table({column.name: pa.array(list(column.accepted_values))})
            shown = {c.name: c for c in excel_columns(mart, table)}[column.name]
            assert shown.values == [codes[v] for v in column.accepted_values], (mart, column.name)
            assert shown.header == column.header_sv  # no " (klartext)": the label is the column


def test_csv_keeps_codes_as_written_text_with_leading_zeros(tmp_path: Path) -> None:
    writers.write_csv("mart_kkik_scorecard", _scorecard(), tmp_path, KPIS)
    raw = (tmp_path / "csv" / "mart_kkik_scorecard.csv").read_bytes()
    assert b"\r\n0180;N15428;" in raw and b"\r\n0319;N00945;" in raw


def test_csv_timestamps_are_stockholm_time_with_the_offset(tmp_path: Path) -> None:
    table = pa.table({
        "entity_key": ["a", "b"],
        "kpi_id": ["N15428", "N15428"],
        "last_revised_at": pa.array(
            [datetime(2026, 1, 2, 10, 0, tzinfo=UTC), datetime(2026, 7, 2, 10, 0, tzinfo=UTC)],
            pa.timestamp("us", tz="UTC"),
        ),
    })
    writers.write_csv("fct_kpi_values", table, tmp_path, KPIS)
    header, *rows = _rows(tmp_path / "csv" / "fct_kpi_values.csv")
    column = header.index("Senast reviderad")
    assert [r[column] for r in rows] == ["2026-01-02 11:00:00+01:00", "2026-07-02 12:00:00+02:00"]


def test_format_rounded_never_shows_minus_zero_or_an_exponent() -> None:
    assert format_rounded(-0.04, 1) == "0,0"
    assert format_rounded(1e-7, None) == "0,0000001"
    assert format_rounded(2.5, 0) == "2"  # round half to even, as Python and Excel's text do


def test_kpi_decimals_read_from_dim_kpi() -> None:
    dim = pa.table({"kpi_id": ["N1", "N2", "N3"], "decimals": [1, None, 0]})
    assert kpi_decimals({"dim_kpi": dim}) == {"N1": 1, "N3": 0}
    assert kpi_decimals({}) == {}


def test_every_accepted_value_in_the_contract_has_a_swedish_label() -> None:
    labels = labels_sv().columns
    missing = [
        f"{mart}.{column.name} = {value!r}"
        for mart, contract in mart_contracts().items()
        for column in contract.columns
        for value in column.accepted_values
        if value not in labels.get(column.name, {})
    ]
    assert not missing, f"add these to pipelines/publish/labels_sv.yaml: {missing}"


def test_labels_are_not_blank() -> None:
    for column, codes in labels_sv().columns.items():
        assert all(label.strip() for label in codes.values()), column


def test_label_column_only_where_the_code_is_not_already_swedish() -> None:
    table = pa.table({"municipality_id": ["0180"], "year": [2025], "kkik_area": ["Barn och unga"]})
    names = [c.name for c in excel_columns("mart_kkik_colour_counts", table)]
    assert names == ["municipality_id", "year", "kkik_area"]


def test_labels_file_is_package_data() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]["pipelines.publish"]
    assert "labels_sv.yaml" in package_data
    assert (REPO_ROOT / "pipelines" / "publish" / "labels_sv.yaml").is_file()
