"""Unit data pages (`/oudata`) to the event log's incoming table in Arrow: values_arrow's bulk
path for the unit stream.

The page is the municipal one with `ou` in place of `municipality`, so the same rules hold
(values_arrow's module doc): Arrow's strict reader, checks in Arrow compute, the canonical
payload assembled column-wise and hashed by DuckDB, byte-identical to `canonical_json` of what
`records.ou_value_records` builds; any page this path cannot vouch for (an id outside the
strict pattern, a type Python would coerce, `-0`, ...) returns None and takes the Python path,
which produces the records or raises the parse error naming field, record and URL.
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from pipelines.sources.kolada.values_arrow import (
    _ITEM,
    _KPI_RE,
    _MINUS_ZERO_INT,
    BULK_INCOMING_SCHEMA,
    ArrowPage,
    _all,
    _json_strings,
    _sha256,
    _value_text,
)

_ROW = pa.struct([("kpi", pa.string()), ("ou", pa.string()), ("period", pa.int64()),
                  ("values", pa.list_(_ITEM))])
_PAGE_SCHEMA = pa.schema([("count", pa.int64()), ("next_url", pa.string()),
                          ("values", pa.list_(_ROW))])
# Stricter than records.OU_ID_RE ("V11E26.." passes there): what passes here needs no JSON
# escaping in the payload and cannot break a key.
_OU_RE = r"^V[0-9]{2}[A-Z][0-9A-Z]+$"


def read_ou_page(body: bytes) -> ArrowPage | None:
    """Parse and validate one unit data page; None when the Python path must decide."""
    if _MINUS_ZERO_INT.search(body):
        return None
    line = body.replace(b"\n", b" ").replace(b"\r", b" ")
    try:
        table = pj.read_json(
            io.BytesIO(line),
            read_options=pj.ReadOptions(block_size=len(line) + 64, use_threads=False),
            parse_options=pj.ParseOptions(explicit_schema=_PAGE_SCHEMA,
                                          unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != 1:
        return None
    pages = table.column("values").combine_chunks()
    if pages.null_count:
        return None
    rows = pages.flatten()
    flat = _flatten(rows)
    if flat is None:
        return None
    return ArrowPage(table.column("count")[0].as_py(), table.column("next_url")[0].as_py(),
                     len(rows), flat)


def _flatten(rows: pa.StructArray) -> pa.Table | None:
    if rows.null_count:
        return None
    kpi, ou = rows.field("kpi"), rows.field("ou")
    period, lists = rows.field("period"), rows.field("values")
    if (period.null_count or lists.null_count
            or not _all(pc.match_substring_regex(kpi, _KPI_RE))
            or not _all(pc.match_substring_regex(ou, _OU_RE))):
        return None
    items = lists.flatten()
    if items.null_count:
        return None
    gender = items.field("gender")
    if not _all(pc.is_in(gender, value_set=pa.array(["T", "K", "M"]))):
        return None
    parent = pc.list_parent_indices(lists)
    deleted = pc.fill_null(items.field("isdeleted"), False)
    return pa.table({
        "kpi": pc.take(kpi, parent), "ou": pc.take(ou, parent),
        "period": pc.take(period, parent), "gender": gender,
        "value": pc.if_else(deleted, pa.scalar(None, pa.float64()), items.field("value")),
        "count": items.field("count"), "status": pc.fill_null(items.field("status"), ""),
        "deleted": deleted,
    })


def incoming_from_ou_pages(pages: list[tuple[str, pa.Table]]) -> pa.Table:
    """(page URL, flat unit values) of a chunk's pages -> BULK_INCOMING_SCHEMA, hashed."""
    parts = []
    for url, flat in pages:
        source = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(flat.num_rows, np.int32)), pa.array([url], pa.string()))
        parts.append(flat.append_column("source", source))
    if not parts:
        return BULK_INCOMING_SCHEMA.empty_table()
    table = pa.concat_tables(parts)
    flat = {name: table.column(name).combine_chunks() for name in table.column_names}
    period = pc.cast(flat["period"], pa.string())
    gender, kpi, ou = flat["gender"], flat["kpi"], flat["ou"]
    count = pc.fill_null(pc.cast(flat["count"], pa.string()), "null")
    # keys in sorted order, as canonical_json writes them (count, gender, kpi, ou, period, ...)
    payload = pc.binary_join_element_wise(
        '{"count":', count, ',"gender":"', gender, '","kpi":"', kpi, '","ou":"', ou,
        '","period":', period, ',"status":', _json_strings(flat["status"]),
        ',"value":', _value_text(flat["value"]), "}", "")
    key = pc.binary_join_element_wise(kpi, ou, period, gender, "|")
    return pa.Table.from_arrays(
        [key, payload, _sha256(payload), flat["deleted"], flat["source"]],
        schema=BULK_INCOMING_SCHEMA)
