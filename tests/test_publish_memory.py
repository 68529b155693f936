"""The publisher holds one mart at a time, and what it keeps in place of the tables gives the
same publication: the content hash, marts.duckdb filled from the Parquet files, the files of
a republished warehouse.

Why: on workload M the marts together are over 2 GB of Arrow; held all at once through the
publication they took publishing to 3.9 GB of PSS (docs/performance.md, "Workload M").
"""

from __future__ import annotations

import hashlib
import weakref
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.publish import writers
from pipelines.publish.hashing import _normalise_type, canonical_table, content_hash
from tests.test_publish_publisher import MARTS, _publish, warehouse  # noqa: F401


def test_the_publisher_reads_each_mart_once_and_lets_it_go_before_the_next(
        warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    read = writers.MartReader.read
    alive: list[tuple[str, weakref.ref]] = []
    held_at_read: dict[str, list[str]] = {}

    def spy(self: writers.MartReader, mart: str) -> pa.Table:
        held_at_read[mart] = [m for m, ref in alive if ref() is not None]
        table = read(self, mart)
        alive.append((mart, weakref.ref(table)))
        return table

    monkeypatch.setattr(writers.MartReader, "read", spy)
    write_duckdb = writers.write_duckdb
    held_at_duckdb: list[str] = []

    def duckdb_spy(parquet, folder):
        held_at_duckdb.extend(m for m, ref in alive if ref() is not None)
        return write_duckdb(parquet, folder)

    monkeypatch.setattr(writers, "write_duckdb", duckdb_spy)
    result = _publish(warehouse, tmp_path / "published")
    assert [m for m, _ in alive] == MARTS  # each once (these marts have no dim_kpi)
    assert held_at_read == {m: [] for m in MARTS}  # the one before is gone when one is read
    assert held_at_duckdb == []
    assert all(ref() is None for _, ref in alive)
    assert result.manifest["row_counts"] == {"dim_municipality": 4, "fct_kpi_values": 3,
                                             "mart_kkik_scorecard": 2}


def test_marts_duckdb_filled_from_parquet_has_the_marts_rows_types_and_order(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    folder = _publish(warehouse, tmp_path / "published").path
    with duckdb.connect(str(warehouse), read_only=True) as source, \
            duckdb.connect(str(folder / "marts.duckdb"), read_only=True) as published:
        for mart in MARTS:
            types = f"select column_name, data_type from duckdb_columns() where table_name = " \
                    f"'{mart}' order by column_index"
            assert published.sql(types).fetchall() == source.sql(types).fetchall(), mart
            # the Parquet file's order (the contract key's), row for row
            assert published.table(mart).to_arrow_table().equals(
                pq.read_table(folder / f"{mart}.parquet").replace_schema_metadata(None)
                .cast(published.table(mart).to_arrow_table().schema)), mart


def test_a_second_publication_of_the_same_warehouse_writes_the_same_bytes(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    """Parquet, CSV, xlsx, dictionaries and README alike, in two folders and without sharing
    (marts.duckdb's bytes differ from run to run whatever the code: its content is checked
    above)."""
    first = _publish(warehouse, tmp_path / "a", share=False)
    second = _publish(warehouse, tmp_path / "b", share=False)
    assert first.version == second.version
    files = {rel: record["sha256"] for rel, record in first.manifest["files"].items()
             if rel != "marts.duckdb"}
    assert files == {rel: record["sha256"] for rel, record in second.manifest["files"].items()
                     if rel != "marts.duckdb"}
    assert len(files) > 10


def _reference_canonical(table: pa.Table) -> pa.Table:
    """content_hash's table as it was built before it went column by column (cast the whole
    table, sort it, combine its chunks): the hashes of every published version rest on it."""
    import pyarrow.types as pat

    fields = [pa.field(f.name, _normalise_type(f.type)) for f in table.schema]
    table = table.replace_schema_metadata(None)
    table = pa.table(
        [col.cast(f.type) if col.type != f.type else col for col, f in zip(table.columns, fields)],
        schema=pa.schema(fields),
    )
    keys = [(f.name, "ascending") for f in fields
            if not (pat.is_nested(f.type) or pat.is_binary(f.type) or pat.is_large_binary(f.type))]
    if keys and table.num_rows:
        table = table.sort_by(keys)
    return table.combine_chunks()


def _ipc_sha(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return "sha256:" + hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def test_content_hash_column_by_column_equals_the_whole_table_sort() -> None:
    names = pa.array(["b", None, "a", "b", "åäö", "a"] * 50)
    table = pa.Table.from_batches([
        pa.record_batch({
            "name": names.slice(i, 100),
            "large": names.slice(i, 100).cast(pa.large_string()),
            "code": names.slice(i, 100).dictionary_encode(),
            "n": pa.array([(j * 7) % 5 if j % 11 else None for j in range(i, i + 100)],
                          pa.int32()),
            "x": pa.array([float(j % 3) for j in range(i, i + 100)]),
            "at": pa.array([j % 4 for j in range(i, i + 100)], pa.timestamp("us", tz="UTC")),
            "blob": pa.array([bytes([j % 256]) for j in range(i, i + 100)]),
        }) for i in (0, 100, 200)
    ]).replace_schema_metadata({"mart": "x"})
    assert table.column("name").num_chunks == 3
    expected = _reference_canonical(table)
    assert canonical_table(table).equals(expected)
    assert content_hash(table) == _ipc_sha(expected)
    assert content_hash(table.slice(17, 150)) == _ipc_sha(_reference_canonical(table.slice(17, 150)))
    empty = table.schema.empty_table()
    assert content_hash(empty) == _ipc_sha(_reference_canonical(empty))
