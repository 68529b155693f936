"""The per-cell Python Excel CSV writer that pipelines.publish.excel_sql replaced: the oracle.

Kept only for the tests, which check that the DuckDB writer's bytes equal these.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pipelines.publish.excel_csv import format_rounded, neutralise
from pipelines.publish.presentation import ExcelColumn


def _cell_text(column: ExcelColumn, row: int) -> str:
    value = column.values[row]
    if value is None:
        return ""
    if column.kind in ("number", "percent"):
        decimals = column.decimals[row] if column.decimals is not None else None
        return format_rounded(value, decimals, percent=column.kind == "percent")
    if column.kind == "boolean":
        return "sant" if value else "falskt"
    if column.kind == "timestamp" and isinstance(value, dt.datetime):
        # Europe/Stockholm with its offset shown (+01:00 winter, +02:00 summer)
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return neutralise(str(value))


def write_excel_columns(columns: list[ExcelColumn], path: Path) -> None:
    """Write a mart's Excel view (pipelines.publish.presentation) as Swedish-Excel CSV."""
    rows = len(columns[0].values) if columns else 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([neutralise(c.header) for c in columns])
        for row in range(rows):
            writer.writerow([_cell_text(c, row) for c in columns])
