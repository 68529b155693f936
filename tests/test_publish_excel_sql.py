"""The DuckDB-formatted Excel CSV is byte-identical to the per-cell Python writer it replaced."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipelines.publish import writers
from pipelines.publish.excel_sql import write_excel_view
from pipelines.publish.presentation import excel_columns, kpi_decimals
from tests.excel_csv_reference import write_excel_columns
from tests.test_publish_publisher import MARTS, WAREHOUSE_SQL

KPIS = {"N1": 0, "N2": 1, "N3": 2, "N4": 4}

EDGE_FLOATS = [
    None, 0.0, -0.0, 1.0, -1.0, 2.5, 3.5, -2.5, 0.5, 1.005, 85.80000000000001, 1234.4, 0.0001,
    0.00001, -0.04, -0.05, -0.049999, 1e-7, -1e-7, 1e-300, -1e-300, 5e-324, 1.5e20, -1.5e20,
    1e15, 1e16, 123456789012.5, 1234567890123.4567, 9007199254740993.0, 5.3e34, -9.9e35,
    float("nan"),
    float("inf"), float("-inf"), 0.1 + 0.2, 1 / 3, -2 / 3, 99.95, 99.94999, 0.12345, 1.0,
]
EDGE_TEXT = [
    None, "", "plain", "åäö ÅÄÖ", "=SUM(A1)", "+46", "-3,5", "-x", "@here", "\tTab", "\rCR",
    "semi;colon", 'a "quote"', "new\nline", "crlf\r\nend", "'already", " =space first", "0180",
    "Upp", "Ingen", "green", "unknown-code", "€ and 😀", ";", '"', "=",
]


def _reference(mart: str, table: pa.Table, path: Path, kpis: dict[str, int]) -> bytes:
    write_excel_columns(excel_columns(mart, table, kpis), path)
    return path.read_bytes()


def _new(mart: str, table: pa.Table, path: Path, kpis: dict[str, int]) -> bytes:
    write_excel_view(mart, table, path, kpis)
    return path.read_bytes()


def _assert_same(mart: str, table: pa.Table, tmp_path: Path, kpis: dict[str, int]) -> None:
    old = _reference(mart, table, tmp_path / "old.csv", kpis)
    new = _new(mart, table, tmp_path / "new.csv", kpis)
    if old != new:
        old_lines, new_lines = old.split(b"\r\n"), new.split(b"\r\n")
        for i, (a, b) in enumerate(zip(old_lines, new_lines)):
            assert a == b, f"{mart} line {i}: reference {a!r} != duckdb {b!r}"
        assert len(old_lines) == len(new_lines), f"{mart}: line counts differ"


def _edge_table(rows: int, seed: int) -> pa.Table:
    rnd = random.Random(seed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    floats = [rnd.choice(EDGE_FLOATS) if rnd.random() < 0.6 else rnd.uniform(-1e6, 1e6)
              for _ in range(rows)]
    return pa.table({
        "municipality_id": [rnd.choice(EDGE_TEXT) for _ in range(rows)],
        "kpi_id": [rnd.choice(["N1", "N2", "N3", "N4", "N9", None]) for _ in range(rows)],
        "value": floats,
        "rank": pa.array([rnd.choice([None, 0, -5, 1, 2**40]) for _ in range(rows)], pa.int64()),
        "percentile": [rnd.choice(EDGE_FLOATS) for _ in range(rows)],
        "colour": [rnd.choice(["green", "red", "yellow", None, "=bad", "odd;code"])
                   for _ in range(rows)],
        "change": [rnd.choice(EDGE_TEXT) for _ in range(rows)],
        "is_flag": [rnd.choice([True, False, None]) for _ in range(rows)],
        "last_revised_at": pa.array(
            [None if rnd.random() < 0.1 else base + timedelta(seconds=rnd.randrange(0, 10**8),
                                                               microseconds=rnd.randrange(10**6))
             for _ in range(rows)],
            pa.timestamp("us", tz="UTC"),
        ),
        "naive_at": pa.array(
            [None if rnd.random() < 0.1 else datetime(2025, 3, 30, 1, 59, 59) + timedelta(
                minutes=rnd.randrange(0, 10**6)) for _ in range(rows)],
            pa.timestamp("us"),
        ),
        "day": pa.array([None if rnd.random() < 0.1 else (base + timedelta(days=rnd.randrange(
            -40000, 4000))).date() for _ in range(rows)], pa.date32()),
        "score": [rnd.choice(EDGE_FLOATS) for _ in range(rows)],
    })


@pytest.mark.parametrize("mart", ["mart_kkik_scorecard", "mart_kpi_trends", "no_contract"])
def test_edge_values_give_the_reference_bytes(mart: str, tmp_path: Path) -> None:
    # the scorecard: KPI decimals, a percent, labels; the trends: `value`/`slope` per year;
    # no contract: every column as it is, header = column name
    table = _edge_table(3_000, seed=len(mart))
    if mart == "mart_kpi_trends":
        table = table.append_column("slope", table.column("score"))
    _assert_same(mart, table, tmp_path, KPIS)


def test_every_edge_float_in_every_precision(tmp_path: Path) -> None:
    values = [v for v in EDGE_FLOATS for _ in KPIS] + [-v for v in (0.004, 0.0449, 1e-9)]
    ids = [k for _ in EDGE_FLOATS for k in KPIS] + ["N1", "N2", "N4"]
    table = pa.table({"kpi_id": ids, "value": values, "percentile": values})
    _assert_same("mart_kkik_scorecard", table, tmp_path, KPIS)


def test_a_float_above_1e38_with_a_precision_keeps_its_first_17_digits(tmp_path: Path) -> None:
    # the one known difference from the Python writer: its exact expansion of such a double
    # (1e300 has 301 exact digits) against DuckDB's, which agree on the first 17
    path = write_excel_view("mart_kkik_scorecard", pa.table({"kpi_id": ["N2"], "value": [1e300]}),
                            tmp_path / "big.csv", KPIS)
    cell = path.read_bytes().split(b"\r\n")[1].split(b";")[1]
    assert cell[:17] == b"1" + b"0" * 16 and cell.endswith(b",0") and len(cell) == 303
    assert float(cell[:-2]) == 1e300  # the same double reads back


def test_an_empty_mart_and_a_single_column_mart(tmp_path: Path) -> None:
    _assert_same("mart_kkik_scorecard", _edge_table(0, seed=1), tmp_path, KPIS)
    # one column: the csv module writes an empty field as "" so the row does not vanish
    _assert_same("single", pa.table({"code": ["a", None, "", "=x"]}), tmp_path, {})


def test_a_decimal_column_formats_as_its_float(tmp_path: Path) -> None:
    table = duckdb.sql(
        "select 'N2' as kpi_id, 12.345::decimal(10,3) as value, 1::decimal(4,1) as score "
        "union all select 'N9', -0.001::decimal(10,3), null"
    ).to_arrow_table()
    _assert_same("mart_kkik_scorecard", table, tmp_path, KPIS)


def test_the_publisher_tests_warehouse_gives_the_reference_bytes(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(WAREHOUSE_SQL)
    con.close()
    tables = writers.read_marts(path, MARTS)
    kpis = kpi_decimals(tables)
    for mart, table in tables.items():
        _assert_same(mart, table, tmp_path, kpis)


def test_rows_keep_their_order_across_duckdb_threads(tmp_path: Path) -> None:
    # many Arrow chunks (as read_marts returns them), not aligned with the writer's slices,
    # which DuckDB's threads scan in no fixed order: the lines must keep the table's order
    rows = 400_000
    whole = pa.table({
        "kpi_id": pa.array(["N1", "N2", "N9", "N4"] * (rows // 4)),
        "value": pa.array([i / 7 for i in range(rows)]),
        "municipality_id": pa.array([f"{i:06d}" for i in range(rows)]),
    })
    table = pa.concat_tables([whole.slice(i, 30_000) for i in range(0, rows, 30_000)])
    assert table.column("value").num_chunks > 10
    _assert_same("mart_kkik_scorecard", table, tmp_path, KPIS)
