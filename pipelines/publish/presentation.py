"""How a mart is shown to a person in Excel: the columns of the CSV and the xlsx files.

Parquet and DuckDB carry the marts exactly as built; the Excel files are for reading, so here
a mart becomes a list of `ExcelColumn`s:

- the contract's Swedish header (`header_sv`);
- Swedish only: every coded column that has labels in `labels_sv.yaml` (colour, direction,
  trend, change type, gender, ...) shows its Swedish label in place of the code, under the
  column's Swedish header; the codes (`higher_better`, `yellow`) are for engineers, who read
  Parquet or DuckDB (dictionary_sv.csv maps each code to its label);
- numbers rounded to the KPI's published precision: a column whose unit is the KPI's own
  ("enligt nyckeltalets enhet") takes, row by row, the `decimals` that `dim_kpi` states for
  the row's `kpi_id` (derived in dbt, int_kpi_decimals); a slope one more; a share of 0–1
  (`percentile`) becomes a percent with one decimal; any other float (population, scores, or
  a KPI value whose KPI dim_kpi does not know) keeps SIGNIFICANT_DIGITS, enough to drop float
  noise such as 85.80000000000001 without rounding 0.0001 away;
- timestamps in Europe/Stockholm.

One description for both writers, so the CSV and the xlsx never disagree on what a cell is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.types as pat
import yaml

from pipelines.warehouse.marts import MartColumn, mart_contracts

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SIGNIFICANT_DIGITS = 12
PERCENT_DECIMALS = 1
KPI_UNIT = "nyckeltalets enhet"  # in the unit of every column measured in the KPI's own unit
PER_YEAR = "per år"
SHARE_UNIT = "andel 0–1"  # a fraction; shown as a percent
PERCENT_HEADER_SUFFIX = " (%)"

Kind = Literal["text", "number", "percent", "timestamp", "boolean", "date"]


@dataclass(frozen=True)
class Labels:
    columns: dict[str, dict[str, str]]  # column -> code -> Swedish label
    no_label_column: frozenset[str]

    def for_column(self, column: str) -> dict[str, str] | None:
        """The labels the Excel files show in place of the column's codes, or None (codes
        that are already Swedish, or ids whose label is published beside them)."""
        if column in self.no_label_column:
            return None
        return self.columns.get(column)


@cache
def labels_sv() -> Labels:
    """pipelines/publish/labels_sv.yaml (package data: a non-editable install has it too)."""
    text = resources.files("pipelines.publish").joinpath("labels_sv.yaml").read_text("utf-8")
    raw = yaml.safe_load(text) or {}
    columns = {
        str(col): {str(code): str(label) for code, label in (codes or {}).items()}
        for col, codes in (raw.get("columns") or {}).items()
    }
    return Labels(columns, frozenset(raw.get("no_label_column") or ()))


@dataclass(frozen=True)
class ExcelColumn:
    name: str
    header: str
    kind: Kind
    values: list[Any]
    # per row, for numbers and percents: the decimals to show (the KPI's precision, one for a
    # percent); None: no known precision (an integer as is, a float without its noise)
    decimals: list[int | None] | None = None


def kpi_decimals(tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """kpi_id -> decimals, from the publication's dim_kpi (empty when it has none)."""
    dim = tables.get("dim_kpi")
    if dim is None or "decimals" not in dim.column_names:
        return {}
    ids, decimals = dim.column("kpi_id").to_pylist(), dim.column("decimals").to_pylist()
    return {k: d for k, d in zip(ids, decimals) if k is not None and d is not None}


def _spec(mart: str, column: str) -> MartColumn | None:
    contract = mart_contracts().get(mart)
    return contract.column(column) if contract else None


def _kind(dtype: pa.DataType, unit: str) -> Kind:
    if pat.is_boolean(dtype):
        return "boolean"
    if pat.is_floating(dtype) or pat.is_decimal(dtype):
        return "percent" if unit.startswith(SHARE_UNIT) else "number"
    if pat.is_integer(dtype):
        return "number"
    if pat.is_timestamp(dtype):
        return "timestamp"
    if pat.is_date(dtype):
        return "date"
    return "text"


@dataclass(frozen=True)
class ExcelLayout:
    """One column of a mart's Excel view, without its values: what both writers need to know.

    `decimals`: "kpi" (each row takes its KPI's decimals from dim_kpi, plus `extra`), an int
    (every row), or None (no known precision). `labels`: code -> Swedish label for a coded
    column, shown in place of the code (`source` is the coded column it is read from; a code
    without a label shows as it is), else None.
    """

    name: str
    source: str
    header: str
    kind: Kind
    decimals: int | Literal["kpi"] | None = None
    extra: int = 0
    labels: dict[str, str] | None = None


def _decimals_rule(
    dtype: pa.DataType, kind: Kind, unit: str, has_kpi_id: bool
) -> tuple[int | Literal["kpi"] | None, int]:
    if kind == "percent":
        return PERCENT_DECIMALS, 0
    if kind != "number" or pat.is_integer(dtype):
        return None, 0
    if KPI_UNIT in unit and has_kpi_id:
        return "kpi", 1 if PER_YEAR in unit else 0
    return None, 0


def excel_layout(mart: str, schema: pa.Schema) -> list[ExcelLayout]:
    """The mart's Excel view as column descriptions (see the module docstring)."""
    has_kpi_id = "kpi_id" in schema.names
    labels = labels_sv()
    out: list[ExcelLayout] = []
    for field in schema:
        spec = _spec(mart, field.name)
        header = spec.header_sv if spec else field.name
        unit = spec.unit if spec else ""
        kind = _kind(field.type, unit)
        if kind == "percent":
            header += PERCENT_HEADER_SUFFIX
        codes = labels.for_column(field.name)
        if codes is not None:
            out.append(ExcelLayout(field.name, field.name, header, "text", labels=codes))
            continue
        decimals, extra = _decimals_rule(field.type, kind, unit, has_kpi_id)
        out.append(ExcelLayout(field.name, field.name, header, kind, decimals, extra))
    return out


def _row_decimals(
    layout: ExcelLayout, kpi_ids: list[Any] | None, kpis: Mapping[str, int], rows: int
) -> list[int | None] | None:
    if layout.kind not in ("number", "percent"):
        return None
    if layout.decimals == "kpi":
        assert kpi_ids is not None
        return [kpis[k] + layout.extra if k in kpis else None for k in kpi_ids]
    return [layout.decimals] * rows


def denoise(value: float) -> float:
    """A float without binary noise: 85.80000000000001 -> 85.8 (SIGNIFICANT_DIGITS kept)."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _timestamps(values: list[Any]) -> list[Any]:
    return [
        v.astimezone(STOCKHOLM) if isinstance(v, datetime) and v.tzinfo is not None else v
        for v in values
    ]


def excel_columns(
    mart: str, table: pa.Table, kpis: Mapping[str, int] | None = None
) -> list[ExcelColumn]:
    """The mart's columns as the Excel files show them, values included (the xlsx writer)."""
    kpis = kpis or {}
    kpi_ids = table.column("kpi_id").to_pylist() if "kpi_id" in table.column_names else None
    out: list[ExcelColumn] = []
    for layout in excel_layout(mart, table.schema):
        column = table.column(layout.source).to_pylist()
        if layout.labels is not None:
            codes = layout.labels
            column = [None if v is None else codes.get(str(v), str(v)) for v in column]
            out.append(ExcelColumn(layout.name, layout.header, "text", column))
            continue
        if layout.kind == "timestamp":
            column = _timestamps(column)
        decimals = _row_decimals(layout, kpi_ids, kpis, table.num_rows)
        out.append(ExcelColumn(layout.name, layout.header, layout.kind, column, decimals))
    return out
