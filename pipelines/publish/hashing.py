"""Content hash of a mart: equal data gives an equal hash, whatever the row order or file.

sha256 of the Arrow IPC stream of the table with rows sorted by every sortable column,
chunks combined, schema metadata dropped and string-like types normalised to large_string
(DuckDB, Parquet and pandas hand strings back as string, large_string or string_view).
Tests compare a publication to the warehouse with it.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.types as pat


def _normalise_type(t: pa.DataType) -> pa.DataType:
    if (
        pat.is_string(t)
        or pat.is_large_string(t)
        or getattr(pat, "is_string_view", lambda _: False)(t)
    ):
        return pa.large_string()
    if pat.is_dictionary(t):
        return _normalise_type(t.value_type)
    return t


def canonical_table(table: pa.Table) -> pa.Table:
    fields = [pa.field(f.name, _normalise_type(f.type)) for f in table.schema]
    table = table.replace_schema_metadata(None)
    table = pa.table(
        [col.cast(f.type) if col.type != f.type else col for col, f in zip(table.columns, fields)],
        schema=pa.schema(fields),
    )
    keys = [
        (f.name, "ascending")
        for f in fields
        if not (pat.is_nested(f.type) or pat.is_binary(f.type) or pat.is_large_binary(f.type))
    ]
    if keys and table.num_rows:
        table = table.sort_by(keys)
    return table.combine_chunks()


def content_hash(table: pa.Table) -> str:
    table = canonical_table(table)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return "sha256:" + hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
