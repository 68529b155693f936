"""CSV that Swedish Excel opens correctly, and that cannot smuggle formulas into it.

Swedish Excel expects `;` between fields and a decimal comma, and only reads UTF-8 (åäö) when
the file starts with a BOM. Cells starting with = + - @ (or tab / CR) would be run as formulas
(CSV injection), so text cells get a leading apostrophe; numeric columns are written as numbers,
so negative numbers stay numbers. A mart's CSV is written from its Excel view
(pipelines.publish.presentation: Swedish headers and labels, the KPI's precision, percents,
Stockholm time), formatted by DuckDB in pipelines.publish.excel_sql; the functions here are the
conventions' Python statement (`format_rounded` is what the SQL reproduces, and the tests'
reference writer uses it), and `write_excel_csv` writes any small table as it is (the data
dictionary).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.types as pat

from pipelines.publish.presentation import denoise

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix an apostrophe to text Excel would otherwise evaluate as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def format_number(value: object) -> str:
    """A number with a decimal comma and no exponent (Excel-sv reads `1,5`, not `1.5e0`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f").replace(".", ",")
    f = float(value)  # type: ignore[arg-type]
    if math.isnan(f):
        return ""
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return np.format_float_positional(f, trim="-").replace(".", ",")


def _formatter(dtype: pa.DataType):
    if pat.is_boolean(dtype):
        return lambda v: "" if v is None else ("sant" if v else "falskt")
    if pat.is_integer(dtype) or pat.is_floating(dtype) or pat.is_decimal(dtype):
        return format_number
    if pat.is_timestamp(dtype) or pat.is_date(dtype) or pat.is_time(dtype):
        return lambda v: "" if v is None else v.isoformat()

    def text(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, (dt.date, dt.datetime)):
            return v.isoformat()
        return neutralise(str(v))

    return text


def write_excel_csv(table: pa.Table, path: Path, headers: list[str] | None = None) -> None:
    """Write `table` as `;`-separated UTF-8-with-BOM CSV with decimal commas."""
    headers = headers or table.column_names
    formatters = [_formatter(f.type) for f in table.schema]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([neutralise(h) for h in headers])
        for batch in table.to_batches(max_chunksize=10_000):
            columns = [col.to_pylist() for col in batch.columns]
            for row in zip(*columns):
                writer.writerow([fmt(v) for fmt, v in zip(formatters, row)])


def format_rounded(value: object, decimals: int | None, *, percent: bool = False) -> str:
    """A number with exactly `decimals` places and a decimal comma; a fraction as a percent.

    `decimals` None: no known precision, so an integer as it is and a float without its binary
    noise (presentation.denoise).
    """
    if value is None or isinstance(value, bool):
        return format_number(value)
    if isinstance(value, int) and not percent and decimals is None:
        return str(value)
    f = float(value)  # type: ignore[arg-type]
    if math.isnan(f) or math.isinf(f):
        return format_number(f)
    if percent:
        f *= 100
    if decimals is None:
        return format_number(denoise(f))
    text = f"{f:.{decimals}f}"
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]  # -0,0 -> 0,0
    return text.replace(".", ",")
