"""Content hash of a mart: equal data gives an equal hash, whatever the row order or file.

sha256 of the Arrow IPC stream of the table with rows sorted by every sortable column,
chunks combined, schema metadata dropped and string-like types normalised to large_string
(DuckDB, Parquet and pandas hand strings back as string, large_string or string_view).
Tests compare a publication to the warehouse with it.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.compute as pc
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
    """The table as content_hash serialises it: normalised types, rows sorted by every
    sortable column, one chunk per column, no schema metadata.

    Built one column at a time from the sort's row order, so that beside the input table only
    the output and one column are in memory (a cast copy of the whole table, then its sorted
    copy, then its combined copy was three times M's largest mart). Sorting before the string
    types are normalised gives the same order: string, large_string and string_view compare
    byte for byte alike; dictionaries are decoded before the sort.
    """
    fields = [pa.field(f.name, _normalise_type(f.type)) for f in table.schema]
    sortable = table.select([
        i for i, f in enumerate(fields)
        if not (pat.is_nested(f.type) or pat.is_binary(f.type) or pat.is_large_binary(f.type))
    ])
    order = None
    if sortable.num_columns and table.num_rows:
        decoded = [col.cast(_normalise_type(col.type)) if pat.is_dictionary(col.type) else col
                   for col in sortable.columns]
        sortable = pa.table(decoded, names=sortable.column_names)
        order = pc.sort_indices(sortable, [(name, "ascending") for name in sortable.column_names])
    del sortable
    columns = []
    for col, f in zip(table.columns, fields):
        if order is not None:
            col = col.take(order)
        if col.type != f.type:
            col = col.cast(f.type)
        columns.append(col.combine_chunks() if col.num_chunks != 1 else col.chunk(0))
    return pa.table(columns, schema=pa.schema(fields))


class _Sha256Sink:
    """A write-only file that hashes what it is given: the IPC stream is never held whole
    (for a 5M-row mart that was ~1 GB, twice with its copy as Python bytes)."""

    closed = False

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def content_hash(table: pa.Table) -> str:
    table = canonical_table(table)
    sink = _Sha256Sink()
    with pa.PythonFile(sink, mode="w") as out, pa.ipc.new_stream(out, table.schema) as writer:
        writer.write_table(table)
    return "sha256:" + sink.digest.hexdigest()
