"""A mart's xlsx at the speed of its CSV: XlsxWriter lays the workbook out, DuckDB writes the rows.

Writing cells one Python call at a time costs about 5 µs a cell even with XlsxWriter's
`constant_memory` mode: minutes a night for the sample's 1.7 million rows. So the workbook is
made in two steps:

1. XlsxWriter (pipelines.publish.xlsx) writes everything but the data rows: the header row, the
   fitted column widths, the frozen pane, the autofilter over all rows, the styles and the
   Swedish Källor sheet. Every number format the rows need is registered as the format of an
   empty column on the Källor sheet (invisible), so XlsxWriter gives it a style index.
2. DuckDB turns the mart's Excel view (pipelines.publish.presentation, the same layout the CSV
   is written from) into the sheet's `<row>` elements, one SQL expression per column, and they
   are streamed into the sheet's XML inside the zip, in the rows' order.

A cell is what the per-cell writer makes (tests/test_publish_xlsx.py reads both): codes and
labels are inline text cells (`0114` stays text, `=...` stays text), numbers are numbers
rounded to and formatted at the KPI's precision, a share is a fraction in `0.0%`, times are
Excel date-times in Stockholm time, a missing value is no cell.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from pipelines.publish import xlsx
from pipelines.publish.excel_sql import (
    KPI_DECIMALS,
    ROW_NUMBER,
    _ident,
    _kpi_decimals,
    _lit,
    _write_lines,
)
from pipelines.publish.presentation import (
    SIGNIFICANT_DIGITS,
    STOCKHOLM,
    ExcelLayout,
    excel_layout,
)

BATCH_ROWS = 100_000
MAX_DECIMALS = 8  # number formats registered for 0..MAX_DECIMALS places
EXCEL_EPOCH_DAYS = 25569  # 1970-01-01 as an Excel serial date
SHEET = "xl/worksheets/sheet1.xml"
# characters XML 1.0 cannot carry (Excel refuses a file with them); removed from text
CONTROL = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]"


def _xml_text(expr: str) -> str:
    """SQL: text escaped for XML element content, control characters removed."""
    return (f"replace(replace(replace(regexp_replace({expr}, '{CONTROL}', '', 'g'), "
            "'&', '&amp;'), '<', '&lt;'), '>', '&gt;')")


def _cell(ref: str, layout: ExcelLayout, dtype: pa.DataType, styles: dict[str, int]) -> str:
    """SQL: the `<c>` element of one column for row `t.__kk_r` ('' for a missing value)."""
    value = f"t.{_ident(layout.source)}"
    at = f"'<c r=\"{ref}' || t.__kk_r || '\"'"
    if layout.labels is not None or layout.kind in ("text",):
        text = f"cast({value} as varchar)"
        if layout.labels is not None:
            cases = " ".join(f"when {_lit(c)} then {_lit(label)}"
                             for c, label in layout.labels.items())
            text = f"(case {text} {cases} else {text} end)" if cases else text
        escaped = _xml_text(text)
        # leading or trailing spaces survive only with xml:space="preserve"
        space = (f"(case when {text} <> trim({text}) then ' xml:space=\"preserve\"' "
                 "else '' end)")
        return (f"(case when {value} is null then '' else {at} || ' t=\"inlineStr\"><is><t' || "
                f"{space} || '>' || {escaped} || '</t></is></c>' end)")
    if layout.kind in ("number", "percent"):
        if pa.types.is_integer(dtype):
            return (f"(case when {value} is null then '' else {at} || '><v>' || "
                    f"cast({value} as varchar) || '</v></c>' end)")
        x = f"cast({value} as double)"
        if layout.decimals == "kpi":
            decimals = f"(t.{KPI_DECIMALS} + {layout.extra})"
        elif layout.decimals is not None:
            decimals = str(int(layout.decimals))
        else:
            decimals = "null"
        decimals = f"cast({decimals} as integer)"  # round() takes an INTEGER precision
        percent = layout.kind == "percent"
        # stored rounded as shown (a percent's fraction keeps two more places), so a copied
        # cell holds what it shows: rounded by fmt as the CSV is (from the double's exact
        # value, as Python's round() does; DuckDB's round() would turn 72.125 into 72.13);
        # no known precision: the float without its binary noise
        stored_places = f"({decimals} + 2)" if percent else decimals
        number = (f"(case when {decimals} is null then cast(format('{{:.{SIGNIFICANT_DIGITS}g}}', "
                  f"{x}) as double) else cast(format('{{:.{{}}f}}', {x}, {stored_places}) as double) end)")
        fmt = "pct" if percent else "num"
        style = " ".join(f"when {d} then '{styles[f'{fmt}{d}']}'" for d in range(MAX_DECIMALS + 1))
        style_expr = f"(case {decimals} {style} else '{styles['general']}' end)"
        return (f"(case when {value} is null or not isfinite({x}) then '' else {at} || ' s=\"' "
                f"|| {style_expr} || '\"><v>' || cast({number} as varchar) || '</v></c>' end)")
    if layout.kind == "boolean":
        return (f"(case when {value} is null then '' else {at} || ' t=\"b\"><v>' || "
                f"(case when {value} then '1' else '0' end) || '</v></c>' end)")
    if layout.kind == "timestamp":
        local = (f"timezone({_lit(str(STOCKHOLM))}, {value})"
                 if getattr(dtype, "tz", None) is not None else value)
        serial = f"(epoch({local}) / 86400.0 + {EXCEL_EPOCH_DAYS})"
        return (f"(case when {value} is null then '' else {at} || ' s=\"{styles['time']}\"><v>' "
                f"|| cast(round({serial}, 8) as varchar) || '</v></c>' end)")
    if layout.kind == "date":
        serial = f"(cast({value} as date) - date '1970-01-01' + {EXCEL_EPOCH_DAYS})"
        return (f"(case when {value} is null then '' else {at} || ' s=\"{styles['date']}\"><v>' "
                f"|| cast({serial} as varchar) || '</v></c>' end)")
    return (f"(case when {value} is null then '' else {at} || ' t=\"inlineStr\"><is><t>' || "
            f"{_xml_text(f'cast({value} as varchar)')} || '</t></is></c>' end)")


def rows_sql(layouts: list[ExcelLayout], schema: pa.Schema, styles: dict[str, int]) -> str:
    """The query turning the registered table `t` into the sheet's `<row>` elements, in order
    (`t.__kk_r` is the Excel row number: the data row's index + 2)."""
    cells = [_cell(xl_col_to_name(i), c, schema.field(c.source).type, styles)
             for i, c in enumerate(layouts)]
    body = " || ".join(cells) if cells else "''"
    return (f"select '<row r=\"' || t.__kk_r || '\">' || {body} || '</row>' as line "
            f"from t order by t.{ROW_NUMBER}")


def _widths(con: duckdb.DuckDBPyConnection, layouts: list[ExcelLayout],
            schema: pa.Schema) -> list[float]:
    """Each column's width by the rules of pipelines.publish.xlsx.column_width (the longest
    shown value or the header), computed by one aggregate query."""
    exprs = []
    for c in layouts:
        value = f"t.{_ident(c.source)}"
        if c.labels is not None:
            code = f"cast({value} as varchar)"
            cases = " ".join(f"when {_lit(k)} then {_lit(v)}" for k, v in c.labels.items())
            exprs.append(f"coalesce(max(length({f'(case {code} {cases} else {code} end)' if cases else code})), 0)")
        elif c.kind in ("number", "percent"):
            x = f"cast({value} as double)"
            scale = 100 if c.kind == "percent" else 1
            places = (f"coalesce(max(t.{KPI_DECIMALS}) + {c.extra}, 2)" if c.decimals == "kpi"
                      else str(c.decimals if c.decimals is not None else 2))
            widest = f"max(abs({x})) filter (where isfinite({x}))"
            exprs.append(f"coalesce(length(format('{{:.{{}}f}}', {widest} * {scale}, "
                         f"cast({places} as integer))) + {2 if c.kind == 'percent' else 1}, 0)")
        elif c.kind == "timestamp":
            exprs.append(str(len(xlsx.TIME_FORMAT)))
        else:
            exprs.append(f"coalesce(max(length(cast({value} as varchar))), 0)")
    if not exprs:
        return []
    shown = con.execute(f"select {', '.join(exprs)} from t").fetchall()[0]
    out = []
    for c, n in zip(layouts, shown):
        header = len(c.header) + (len(xlsx.TIME_HEADER_SUFFIX) if c.kind == "timestamp" else 0)
        out.append(float(min(max(max(int(n or 0), header) + 2, xlsx.MIN_WIDTH), xlsx.MAX_WIDTH)))
    return out


def _layout_workbook(path: Path, layouts: list[ExcelLayout], widths: list[float], rows: int,
                     sources: Mapping[str, Any], title: str) -> dict[str, int]:
    """The workbook without its data rows; returns the style index of every number format."""
    wb = xlsxwriter.Workbook(str(path), xlsx.WORKBOOK_OPTIONS)
    wb.set_properties({"created": xlsx.FIXED_CREATED})
    formats = {"general": wb.add_format({"num_format": "General"}),
               "time": wb.add_format({"num_format": xlsx.TIME_FORMAT}),
               "date": wb.add_format({"num_format": xlsx.DATE_FORMAT})}
    for d in range(MAX_DECIMALS + 1):
        formats[f"num{d}"] = wb.add_format({"num_format": xlsx.number_format(d)})
        formats[f"pct{d}"] = wb.add_format({"num_format": xlsx.number_format(d, percent=True)})
    try:
        ws = wb.add_worksheet(xlsx.DATA_SHEET)
        ws.freeze_panes(1, 0)
        if layouts:
            ws.autofilter(0, 0, rows, len(layouts) - 1)
        for i, width in enumerate(widths):
            ws.set_column(i, i, width)
        header = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "bottom": 1})
        for i, c in enumerate(layouts):
            text = c.header + (xlsx.TIME_HEADER_SUFFIX if c.kind == "timestamp" else "")
            ws.write_string(0, i, text, header)
        info = xlsx.write_sources_sheet(wb, sources, title)
        # every format once, as the format of an empty column past the Källor sheet's text:
        # XlsxWriter gives a style index only to formats a cell or a column uses
        for k, fmt in enumerate(formats.values()):
            info.set_column(3 + k, 3 + k, None, fmt)
    finally:
        wb.close()
    return {name: fmt.xf_index for name, fmt in formats.items()}


def write_mart_xlsx(mart: str, table: pa.Table, path: Path, kpis: Mapping[str, int] | None,
                    sources: Mapping[str, Any]) -> Path:
    """xlsx of the mart's Excel view (pipelines.publish.presentation) at `path`."""
    rows = table.num_rows
    if rows + 1 > xlsx.EXCEL_MAX_ROWS:
        raise ValueError(f"{mart}: {rows} rows do not fit in an Excel sheet")
    layouts = excel_layout(mart, table.schema)
    if any(c.decimals == "kpi" for c in layouts):
        table = table.append_column(KPI_DECIMALS, _kpi_decimals(table.column("kpi_id"), kpis or {}))
    con = duckdb.connect()
    try:
        con.register("t", table)
        widths = _widths(con, layouts, table.schema)
        con.unregister("t")
        layout_path = path.with_suffix(".layout.xlsx")
        styles = _layout_workbook(layout_path, layouts, widths, rows, sources, mart)
        sql = rows_sql(layouts, table.schema, styles)
        last_cell = f"{xl_col_to_name(max(len(layouts), 1) - 1)}{rows + 1}"
        with zipfile.ZipFile(layout_path) as src, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
            for info in src.infolist():
                if info.filename != SHEET:
                    out.writestr(info, src.read(info.filename))
                    continue
                head, tail = _split_sheet(src.read(info.filename).decode("utf-8"), last_cell)
                with out.open(_member(info), "w", force_zip64=True) as fh:
                    fh.write(head.encode("utf-8"))
                    _stream_rows(con, table, sql, fh)
                    fh.write(tail.encode("utf-8"))
        layout_path.unlink()
    except BaseException:
        path.with_suffix(".layout.xlsx").unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return path


def _member(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    member.compress_type = zipfile.ZIP_DEFLATED
    member.external_attr = info.external_attr
    return member


def _split_sheet(xml: str, last_cell: str) -> tuple[str, str]:
    """The sheet's XML before and after the place of the data rows (after the header row)."""
    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last_cell}"/>', xml, count=1)
    end = xml.index("</sheetData>")
    return xml[:end], xml[end:]


def _stream_rows(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str, fh) -> None:
    """DuckDB's rows, a slice at a time, in row order (its threads scan chunks in no order)."""
    for start in range(0, table.num_rows, BATCH_ROWS):
        part = table.slice(start, BATCH_ROWS)
        numbers = np.arange(start, start + part.num_rows, dtype=np.int64)
        part = part.append_column(ROW_NUMBER, pa.array(numbers))
        part = part.append_column("__kk_r", pa.array(numbers + 2))
        con.register("t", part)
        for batch in con.sql(sql).to_arrow_table().to_batches():
            _write_lines(batch, fh)  # the batch's text buffer as it is: no Python per row
        con.unregister("t")
