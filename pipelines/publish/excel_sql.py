"""The Swedish-Excel CSV of a mart, formatted by DuckDB: one SQL expression per column.

The same conventions as pipelines.publish.excel_csv (UTF-8 with BOM, `;`, CRLF, decimal comma,
the KPI's decimals, percents, Swedish labels, Stockholm time, the formula guard, csv-module
minimal quoting), byte for byte: tests/test_publish_excel_sql.py compares this writer with the
per-cell Python reference it replaced (tests/excel_csv_reference.py), on edge values, on the
publisher tests' warehouse and on a multi-chunk table (the sample's 18 marts, 1.69M rows, were
byte-identical too when it was written). DuckDB builds every line (fields already quoted and
joined); Python only writes the lines' bytes, a slice of rows at a time, so no Python code runs
per cell or per row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.publish.excel_csv import FORMULA_PREFIXES, neutralise
from pipelines.publish.presentation import (
    SIGNIFICANT_DIGITS,
    STOCKHOLM,
    ExcelLayout,
    excel_layout,
)

ROW_NUMBER = "__kk_row"
KPI_DECIMALS = "__kk_kpi_decimals"  # the row's KPI decimals, a column added before the query
BATCH_ROWS = 100_000


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _positional(text: str) -> str:
    """SQL: a float's shortest text ('1e-07', '-1.5e+20', '85.8') without an exponent.

    What numpy's format_float_positional(trim="-") prints. The exponent form's mantissa has at
    most 17 digits and appears only from e+16 up, so a positive exponent never leaves a fraction.
    """
    pattern = "'^(-?)([0-9])(?:\\.([0-9]+))?e([-+][0-9]+)$'"

    def group(n: int) -> str:
        return f"regexp_extract({text}, {pattern}, {n})"

    digits = f"({group(2)} || {group(3)})"
    exp = f"cast({group(4)} as integer)"
    return (
        # no exponent: an integer loses its '.0', and -0 is 0 (format_number prints int(f))
        f"(case when not contains({text}, 'e') "
        f"then (case when {text} in ('-0.0', '-0') then '0' "
        f"else regexp_replace({text}, '\\.0$', '') end) "
        f"when {exp} < 0 then {group(1)} || '0.' || repeat('0', -{exp} - 1) || {digits} "
        f"else {group(1)} || {digits} || repeat('0', {exp} - length({digits}) + 1) end)"
    )


def _timestamp(value: str, dtype: pa.DataType) -> str:
    """Stockholm time with its offset (`2026-07-02 12:00:00+02:00`); a naive time as it is."""
    if getattr(dtype, "tz", None) is None:
        return f"coalesce(strftime({value}, '%Y-%m-%d %H:%M:%S'), '')"
    local = f"timezone({_lit(str(STOCKHOLM))}, {value})"
    offset = f"(epoch({local}) - epoch(timezone('UTC', {value})))"
    sign = f"(case when {offset} < 0 then '-' else '+' end)"
    hours = f"lpad(cast(floor(abs({offset}) / 3600) as bigint)::varchar, 2, '0')"
    minutes = f"lpad(cast(floor(abs({offset}) % 3600 / 60) as bigint)::varchar, 2, '0')"
    return (
        f"coalesce(strftime({local}, '%Y-%m-%d %H:%M:%S') || {sign} || {hours} || ':' "
        f"|| {minutes}, '')"
    )


# A field is computed in three stages (one nested select each), each stage naming what the next
# reads, so no SQL expression is repeated inside another: a CASE that names a sub-expression
# five times evaluates it five times.
Stages = tuple[dict[str, str], dict[str, str], str]


def _number(name: str, value: str, decimals: str | None, *, percent: bool) -> Stages:
    """format_rounded(value, decimals, percent=...) for a float or decimal column."""
    x, d, f = f"{name}_x", f"{name}_d", f"{name}_f"
    scaled = f"(cast({value} as double) * 100)" if percent else f"cast({value} as double)"
    first = {x: scaled, d: f"cast({decimals or 'null'} as integer)"}
    # no known precision: SIGNIFICANT_DIGITS kept (presentation.denoise), then the shortest text
    denoised = f"cast(format('{{:.{SIGNIFICANT_DIGITS}g}}', {x}) as double)"
    # fmt's fixed notation is exact below about 5e36 only; from 2^53 up a double is an integer
    # and HUGEINT prints it exactly (to 1e38: above that the digits past the 17th may differ
    # from Python's exact expansion, the one known difference)
    exact = (
        f"cast({x} as hugeint)::varchar || "
        f"(case when {d} > 0 then '.' || repeat('0', {d}) else '' end)"
    )
    second = {f: (
        f"case when {x} is null or not isfinite({x}) then null "
        f"when {d} is null then format('{{}}', {denoised}) "
        f"when abs({x}) >= {2.0**53!r} and abs({x}) < 1e38 then {exact} "
        f"else format('{{:.{{}}f}}', {x}, {d}) end"
    )}
    # a value that rounds to zero never shows a minus sign: -0,0 -> 0,0
    fixed = f"(case when regexp_full_match({f}, '-[0.]*') then ltrim({f}, '-') else {f} end)"
    last = (
        f"case when {x} is null or isnan({x}) then '' "
        f"when isinf({x}) then (case when {x} > 0 then 'inf' else '-inf' end) "
        f"when {d} is null then replace({_positional(f)}, '.', ',') "
        f"else replace({fixed}, '.', ',') end"
    )
    return first, second, last


# excel_csv.FORMULA_PREFIXES as the code points ascii() gives for a text's first character
FORMULA_CODES = ", ".join(str(ord(p)) for p in FORMULA_PREFIXES)
# what makes the csv module quote a field: the delimiter, the quote, CR, LF
NEEDS_QUOTES = ("';'", "'\"'", "chr(13)", "chr(10)")


def _text(name: str, text: str) -> Stages:
    """neutralise(str(value)): an apostrophe before a would-be formula; then the csv module's
    QUOTE_MINIMAL for `;` and CRLF: quote what holds ; " CR or LF, doubling the quotes."""
    s, g = f"{name}_s", f"{name}_g"
    guarded = f"case when ascii({s}) in ({FORMULA_CODES}) then '''' || {s} else {s} end"
    quote = " or ".join(f"contains({g}, {c})" for c in NEEDS_QUOTES)
    last = (
        f"case when {g} is null then '' when {quote} "
        f"then '\"' || replace({g}, '\"', '\"\"') || '\"' else {g} end"
    )
    return {s: text}, {g: guarded}, last


def _field(index: int, layout: ExcelLayout, dtype: pa.DataType) -> Stages:
    name = f"__kk_c{index}"
    value = f"t.{_ident(layout.source)}"
    if layout.labels is not None:
        code = f"cast({value} as varchar)"
        cases = " ".join(f"when {_lit(c)} then {_lit(label)}" for c, label in layout.labels.items())
        return _text(name, f"(case {code} {cases} else {code} end)" if cases else code)
    if layout.kind in ("number", "percent"):
        if pa.types.is_integer(dtype):
            return {}, {}, f"coalesce(cast({value} as varchar), '')"
        decimals = None
        if layout.decimals == "kpi":
            decimals = f"(t.{KPI_DECIMALS} + {layout.extra})"
        elif layout.decimals is not None:
            decimals = str(int(layout.decimals))
        return _number(name, value, decimals, percent=layout.kind == "percent")
    if layout.kind == "boolean":
        return {}, {}, (
            f"(case when {value} is null then '' when {value} then 'sant' else 'falskt' end)"
        )
    if layout.kind == "timestamp":
        return {}, {}, _timestamp(value, dtype)
    if layout.kind == "date":
        return {}, {}, f"coalesce(cast({value} as varchar), '')"
    return _text(name, f"cast({value} as varchar)")


def _header(layouts: list[ExcelLayout]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(c.header) for c in layouts])
    return buffer.getvalue().encode("utf-8-sig")


def excel_csv_sql(layouts: list[ExcelLayout], schema: pa.Schema) -> str:
    """The query that turns the registered table `t` into the CSV's lines, CRLF included.

    Ordered by the row number the writer adds (`ROW_NUMBER`): the rows' order is the mart's
    key order (writers.read_marts), which a replay must reproduce byte for byte.
    """
    stages = [_field(i, c, schema.field(c.source).type) for i, c in enumerate(layouts)]
    fields = [last for _first, _second, last in stages]
    if len(fields) == 1:  # the csv module quotes a lone empty field, or the row would vanish
        fields = [f"(case when {fields[0]} = '' then '\"\"' else {fields[0]} end)"]
    line = " || ';' || ".join(fields) + " || chr(13) || chr(10)"

    def named(exprs: dict[str, str]) -> str:
        return "".join(f", {expr} as {alias}" for alias, expr in exprs.items())

    first = "".join(named(f) for f, _s, _l in stages)
    second = "".join(named(s) for _f, s, _l in stages)
    # t.* travels through every stage: the last one still reads some columns as they are
    inner = f"select t.*{first} from t"
    middle = f"select *{second} from ({inner}) t"
    return f"select {line} as line from ({middle}) t order by t.{ROW_NUMBER}"


def _write_lines(batch: pa.RecordBatch, fh) -> None:
    """A batch of lines (never null) is one contiguous buffer: write it as it is."""
    lines = batch.column(0)
    if not (pa.types.is_string(lines.type) or pa.types.is_large_string(lines.type)):
        lines = lines.cast(pa.large_string())
    if len(lines) == 0:
        return
    _validity, offsets, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[lines.offset : lines.offset + len(lines) + 1]
    fh.write(memoryview(data)[int(bounds[0]) : int(bounds[-1])])


def _kpi_decimals(kpi_ids: pa.ChunkedArray, kpis: Mapping[str, int]) -> pa.ChunkedArray:
    """Each row's KPI decimals (null: a KPI dim_kpi does not know), looked up by Arrow."""
    keys = pa.array(list(kpis), pa.string())
    positions = pc.index_in(kpi_ids.cast(pa.string()), value_set=keys)
    return pc.take(pa.array(list(kpis.values()), pa.int64()), positions)


def write_excel_view(
    mart: str, table: pa.Table, path: Path, kpis: Mapping[str, int] | None = None
) -> Path:
    """Write the mart's Excel view (pipelines.publish.presentation) as Swedish-Excel CSV."""
    layouts = excel_layout(mart, table.schema)
    if any(c.decimals == "kpi" for c in layouts):
        table = table.append_column(KPI_DECIMALS, _kpi_decimals(table.column("kpi_id"), kpis or {}))
    con = duckdb.connect()
    try:
        sql = excel_csv_sql(layouts, table.schema)
        with open(path, "wb") as fh:
            fh.write(_header(layouts))
            # a slice at a time, so memory holds one slice's lines; ordered by row number,
            # because DuckDB's threads scan the Arrow table's chunks in no fixed order
            for start in range(0, table.num_rows, BATCH_ROWS):
                part = table.slice(start, BATCH_ROWS)
                rows = pa.array(np.arange(start, start + part.num_rows, dtype=np.int64))
                con.register("t", part.append_column(ROW_NUMBER, rows))
                for batch in con.sql(sql).to_arrow_table().to_batches():
                    _write_lines(batch, fh)
    finally:
        con.close()
    return path
