"""The value stream's bulk path: Kolada data pages to the event log's incoming table in Arrow.

Why: a full ingest carries millions of values, and building a `SourceRecord`, a payload dict,
a JSON text and a sha256 per value in Python cost 5x the time of merely reading the pages and
~4 KB of memory per value. Here a page's bytes are parsed by Arrow's JSON reader with a strict
schema, validated and normalised with Arrow compute, and the canonical payload is assembled
column-wise; DuckDB computes the sha256 (hashlib, for a chunk of a few values). Python runs
per page, never per value (apart from the rare float that Arrow formats differently from
Python, see `_value_text`, and the hashes of a small chunk).

The contract that matters: the payload text and its hash are byte-identical to
`canonical_json` of the dict `records.value_records` builds, or every existing event log would
see every value as revised. The fast path therefore only accepts a page when it can prove that:
any page it is not sure about (a type Python would coerce, a missing field, an id Python's regex
accepts but the strict one does not, `-0`, ...) returns None and goes through
`records.value_records`, which either produces the records or raises the `KoladaParseError`
naming field, record and URL exactly as before.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from pipelines.eventlog.schema import payload_hash
from pipelines.eventlog.store import INCOMING_SCHEMA, RecordLike, records_to_table

_ITEM = pa.struct([
    ("gender", pa.string()), ("value", pa.float64()), ("count", pa.int64()),
    ("status", pa.string()), ("isdeleted", pa.bool_()),
])
_ROW = pa.struct([
    ("kpi", pa.string()), ("municipality", pa.string()), ("period", pa.int64()),
    ("values", pa.list_(_ITEM)),
])
# Arrow's reader is strict where json.loads + Python would coerce: a bool, a string or 3.0 in
# an int64/float64/string field fails the page (then the Python path decides), it never casts.
_PAGE_SCHEMA = pa.schema([("count", pa.int64()), ("next_url", pa.string()),
                          ("values", pa.list_(_ROW))])

# The dictionary-encoded `source` column: a page URL is ~400 bytes and shared by every value
# of the page, so it is stored once per page rather than once per value.
SOURCE_TYPE = pa.dictionary(pa.int32(), pa.string())
BULK_INCOMING_SCHEMA = pa.schema(
    [f if f.name != "source" else pa.field("source", SOURCE_TYPE) for f in INCOMING_SCHEMA]
)

# `-0` as an integer literal is int 0 for json.loads (payload value 0.0) but -0.0 for Arrow.
_MINUS_ZERO_INT = re.compile(rb"-0(?![.0-9eE])")
# Strict ASCII forms; Python's `\d` and `$` also accept other digits and a trailing newline,
# such ids fail here and are judged by the Python path.
_KPI_RE = r"^[NU][0-9]{5}$"
_MUNICIPALITY_RE = r"^[0-9]{4}$"
# Arrow's float text equals Python's repr (plus ".0" for integral values) when it is plain
# fixed notation and the value lies where repr uses fixed notation too (1e-4 <= |v| < 1e16).
_FIXED_RE = r"^-?[0-9]+(\.[0-9]+)?$"


@dataclass(frozen=True)
class ArrowPage:
    """One data page read in bulk: its envelope and its values, flat (one row per value)."""

    count: int | None
    next_url: str | None
    rows: int  # data rows on the page (each holds the values of up to three genders)
    values: pa.Table  # kpi, municipality, period, gender, value, count, status, deleted


def read_page(body: bytes) -> ArrowPage | None:
    """Parse and validate one page; None when the Python path must decide (see module doc)."""
    # `in` scans at memchr speed, the regex over a page of ~1 MB ten times slower, and most
    # pages hold no "-0" at all
    if b"-0" in body and _MINUS_ZERO_INT.search(body):
        return None
    # Raw newlines can only be whitespace between JSON tokens: flattened, the page is one
    # line, which is what the line-delimited reader needs.
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
    count = table.column("count")[0].as_py()
    next_url = table.column("next_url")[0].as_py()
    pages = table.column("values").combine_chunks()
    if pages.null_count:
        return None  # no `values` list: the Python path reports the envelope
    rows = pages.flatten()
    flat = _flatten(rows)
    return None if flat is None else ArrowPage(count, next_url, len(rows), flat)


def _all(mask: pa.Array) -> bool:
    """True when every entry is true (a null counts as false)."""
    return len(mask) == 0 or bool(pc.all(pc.fill_null(mask, False)).as_py())


def _flatten(rows: pa.StructArray) -> pa.Table | None:
    if rows.null_count:
        return None
    kpi, municipality = rows.field("kpi"), rows.field("municipality")
    period, lists = rows.field("period"), rows.field("values")
    if (period.null_count or lists.null_count
            or not _all(pc.match_substring_regex(kpi, _KPI_RE))
            or not _all(pc.match_substring_regex(municipality, _MUNICIPALITY_RE))):
        return None
    items = lists.flatten()
    if items.null_count:
        return None
    gender = items.field("gender")
    if not _all(pc.is_in(gender, value_set=pa.array(["T", "K", "M"]))):
        return None
    parent = pc.list_parent_indices(lists)
    deleted = pc.fill_null(items.field("isdeleted"), False)
    value = items.field("value")
    return pa.table({
        "kpi": pc.take(kpi, parent),
        "municipality": pc.take(municipality, parent),
        "period": pc.take(period, parent),
        "gender": gender,
        # a deleted value carries no number: the same rule as records.value_records
        "value": pc.if_else(deleted, pa.scalar(None, pa.float64()), value),
        "count": items.field("count"),
        "status": pc.fill_null(items.field("status"), ""),
        "deleted": deleted,
    })


def within(flat: pa.Table, kpis: Sequence[str], municipalities: Sequence[str],
           years: Sequence[int]) -> bool:
    """Whether every value lies inside the request's scope. The client's requests cover
    disjoint scopes, so when every answer stays inside its own, no key can come in two
    answers and the ingest can skip a key-wise dedupe over millions of values."""
    return (_all(pc.is_in(flat["kpi"], value_set=pa.array(list(kpis), pa.string())))
            and _all(pc.is_in(flat["municipality"],
                              value_set=pa.array(list(municipalities), pa.string())))
            and _all(pc.is_in(flat["period"], value_set=pa.array(list(years), pa.int64()))))


def _value_text(value: pa.Array) -> pa.Array:
    """`json.dumps` of each float (its repr; null -> "null"), column-wise where provably equal."""
    text = pc.cast(value, pa.string())
    magnitude = pc.abs(value)
    plain = pc.and_kleene(
        pc.or_kleene(pc.equal(value, 0.0),
                     pc.and_kleene(pc.greater_equal(magnitude, 1e-4), pc.less(magnitude, 1e16))),
        pc.match_substring_regex(text, _FIXED_RE),
    )
    plain = pc.fill_null(plain, False)
    fixed = pc.if_else(pc.match_substring(text, "."), text, pc.binary_join_element_wise(
        text, ".0", ""))
    out = pc.if_else(plain, fixed, pc.if_else(pc.is_null(value), "null", pa.scalar(None,
                                                                                  pa.string())))
    rest = pc.is_null(out)
    if pc.any(rest).as_py():
        # Exponent forms, NaN/Infinity: rare; Python formats just these rows.
        odd = pc.filter(value, rest).to_pylist()
        out = pc.replace_with_mask(out, rest, pa.array([json.dumps(x) for x in odd], pa.string()))
    return out


def _json_strings(strings: pa.Array) -> pa.Array:
    """`json.dumps(s, ensure_ascii=False)` of each string; statuses repeat, so once per distinct
    string (exact by construction: the same function `canonical_json` uses)."""
    encoded = pc.dictionary_encode(strings)
    quoted = pa.array([json.dumps(s, ensure_ascii=False) for s in encoded.dictionary.to_pylist()],
                      pa.string())
    return pc.take(quoted, encoded.indices)


def incoming_from_pages(pages: list[tuple[str, pa.Table]]) -> pa.Table:
    """(page URL, flat values) of a chunk's pages -> BULK_INCOMING_SCHEMA, hashed."""
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
    gender, kpi, municipality = flat["gender"], flat["kpi"], flat["municipality"]
    count = pc.fill_null(pc.cast(flat["count"], pa.string()), "null")
    # keys in sorted order, as canonical_json (sort_keys=True, separators=(",", ":")) writes
    # them; kpi, municipality and gender passed the strict patterns, so need no escaping
    payload = pc.binary_join_element_wise(
        '{"count":', count, ',"gender":"', gender, '","kpi":"', kpi, '","municipality":"',
        municipality, '","period":', period, ',"status":', _json_strings(flat["status"]),
        ',"value":', _value_text(flat["value"]), "}", "")
    key = pc.binary_join_element_wise(kpi, municipality, period, gender, "|")
    return pa.Table.from_arrays(
        [key, payload, _sha256(payload), flat["deleted"], flat["source"]],
        schema=BULK_INCOMING_SCHEMA)


# One in-memory DuckDB hashes every chunk: a new database per call cost ~15 ms, more than
# hashing a chunk's ~20,000 payloads. Each call takes a cursor of its own (a cursor is DuckDB's
# way to share a database between threads); creating one is serialised here.
_HASHER: duckdb.DuckDBPyConnection | None = None
_HASHER_LOCK = threading.Lock()


def _cursor() -> duckdb.DuckDBPyConnection:
    global _HASHER
    with _HASHER_LOCK:
        if _HASHER is None:
            _HASHER = duckdb.connect()
        return _HASHER.cursor()


# Below this many texts hashlib is cheaper than a DuckDB query (~2 ms a query, against ~0.7 µs
# a text in Python): an incremental night's chunks hold tens of values, a full fetch's 20,000.
_HASH_IN_DUCKDB_FROM = 4096


def _sha256(texts: pa.Array) -> pa.Array:
    """Lower-case hex sha256 of each text's UTF-8 bytes, as `schema.payload_hash`."""
    if len(texts) < _HASH_IN_DUCKDB_FROM:
        return pa.array([payload_hash(t) for t in texts.to_pylist()], pa.string())
    with _cursor() as con:
        hashed = con.from_arrow(pa.table({"p": texts})).project("sha256(p) as h").to_arrow_table()
    return hashed.column("h").combine_chunks().cast(pa.string())


def distinct(keys: pa.Array | pa.ChunkedArray) -> bool:
    """Whether no key repeats (`unique` on one chunk is ~4x cheaper than `count_distinct` on
    many)."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    return len(keys) < 2 or len(pc.unique(keys)) == len(keys)


def incoming_from_records(records: list[RecordLike]) -> pa.Table:
    """Records from the Python path (`records.value_records`) in the bulk table's shape."""
    table = records_to_table(records)
    return table.set_column(4, pa.field("source", SOURCE_TYPE),
                            pc.dictionary_encode(table["source"]).cast(SOURCE_TYPE))


def last_wins(table: pa.Table) -> pa.Table:
    """One row per entity key, the last one received winning (as `records_to_table`)."""
    keys = table["entity_key"]
    if distinct(keys):
        return table
    with _cursor() as con:
        numbered = con.from_arrow(pa.table({"k": keys, "i": np.arange(table.num_rows)}))
        rows = numbered.aggregate("max(i) as i, min(i) as first", "k").order("first") \
            .to_arrow_table()
    return table.take(rows.column("i"))
