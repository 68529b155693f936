"""Read marts from the warehouse and write one publication's files into a folder.

Each writer is a module-level function so a failing one can be simulated in tests; the
publisher only ever writes into a temporary folder that readers never look at.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pat

from pipelines.durable import fsync_path
from pipelines.publish.excel_sql import write_excel_view
from pipelines.publish.summary import MartSummary
from pipelines.publish.xlsx_sql import write_mart_xlsx
from pipelines.warehouse.marts import mart_contracts


class MartError(ValueError):
    """A mart is missing from the warehouse or breaks the flat-columns contract."""


def read_marts(warehouse_path: Path, marts: Sequence[str]) -> dict[str, pa.Table]:
    """Every mart as an Arrow table, through a read-only connection closed before returning.

    All of them in memory at once: for tests and tools. The publisher reads one mart at a
    time (MartReader), because on workload M the marts together are over 2 GB of Arrow.
    """
    with MartReader(warehouse_path, marts) as reader:
        return {mart: reader.read(mart) for mart in marts}


class MartReader:
    """The marts of a warehouse, one at a time, through one read-only connection.

    Read-only because dbt owns the warehouse. One connection for every mart, so all of them
    come from the same state of the warehouse; close it as soon as the marts are read, since
    even a reader blocks dbt's writer.
    """

    def __init__(self, warehouse_path: Path, marts: Sequence[str]) -> None:
        self.warehouse_path = Path(warehouse_path)
        self.con: duckdb.DuckDBPyConnection | None = duckdb.connect(
            str(warehouse_path), read_only=True)
        try:
            existing = {
                r[0]
                for r in self.con.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = 'main'"
                ).fetchall()
            }
            missing = [m for m in marts if m not in existing]
            if missing:
                raise MartError(f"marts missing from {warehouse_path}: {missing}")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def builds(self) -> dict[str, str]:
        """Mart -> the dbt invocation that last built its table (the marts' post-hook,
        dbt_project/macros/model_builds.sql, records it in build_meta.model_builds, in the
        same transaction as the table); {} for a warehouse that records none."""
        assert self.con is not None
        try:
            rows = self.con.execute(
                "select model, invocation_id from build_meta.model_builds").fetchall()
        except duckdb.CatalogException:
            return {}
        return {model: invocation for model, invocation in rows}

    def summary(self, mart: str, content_hash: str) -> MartSummary:
        """The mart's summary without reading its rows: the schema read() gives, the row
        count and the KPIs its rows name, with a content hash the caller vouches for (the
        previous publication's, of this very table)."""
        assert self.con is not None
        schema = self._query(mart, " limit 0").schema
        ((rows,),) = self.con.execute(f'select count(*) from main."{mart}"').fetchall()
        kpi_ids = None
        if "kpi_id" in schema.names:
            kpi_ids = frozenset(r[0] for r in self.con.execute(
                f'select distinct kpi_id from main."{mart}" where kpi_id is not null').fetchall())
        return MartSummary(schema, int(rows), content_hash, kpi_ids)

    def columns(self, mart: str) -> list[str]:
        """The mart's column names, as read() will give them, without reading a row."""
        return self._query(mart, " limit 0").column_names

    def read(self, mart: str) -> pa.Table:
        """The mart as an Arrow table, in the contract key's order: the same state always
        gives the same bytes (a replay publishes byte-identical Parquet and CSV, not just the
        same rows)."""
        contract = mart_contracts().get(mart)
        key = contract.key if contract else ()
        order = (" order by " + ", ".join(f'"{k}" nulls first' for k in key)) if key else ""
        table = self._query(mart, order)
        self._evict()
        nested = [f.name for f in table.schema if pat.is_nested(f.type)]
        if nested:
            raise MartError(f"{mart} has nested columns {nested}; marts must be flat")
        return table

    def _query(self, mart: str, tail: str) -> pa.Table:
        if self.con is None:
            raise RuntimeError(f"the reader of {self.warehouse_path} is closed")
        return self.con.sql(f'select * from main."{mart}"{tail}').to_arrow_table()

    def _evict(self) -> None:
        """Let DuckDB's buffer pool go: after a read it keeps the mart's blocks and the sort's
        memory cached (1.1 GB after M's mart_revisions, a 771 MB table), and no other mart
        reads them. A tight memory limit while the query runs would instead spill the sort
        to disk (slower, and next to the warehouse); briefly shrinking the limit after it
        makes DuckDB evict what it can, then the limit is its default again."""
        assert self.con is not None
        self.con.execute(f"set memory_limit = '{EVICT_LIMIT}'")
        self.con.execute("reset memory_limit")


EVICT_LIMIT = "64MB"


def described_schema(mart: str, table: pa.Table) -> pa.Schema:
    """The table's schema with the contract's descriptions as Parquet metadata.

    Field metadata: description, header_sv, unit, credit; table metadata: description and
    grain. Arrow readers (pandas, polars, R arrow, DuckDB's parquet_kv_metadata) show them;
    the content hash ignores metadata, so describing a mart better never republishes it.
    """
    contract = mart_contracts().get(mart)
    fields = []
    for f in table.schema:
        spec = contract.column(f.name) if contract else None
        meta = {}
        if spec:
            meta = {"description": spec.description, "header_sv": spec.header_sv,
                    "unit": spec.unit, "credit": spec.credit}
        fields.append(f.with_metadata({k: v for k, v in meta.items() if v}))
    table_meta = {"mart": mart}
    if contract:
        table_meta |= {"description": contract.description, "grain": f"one row per {contract.grain}"}
    return pa.schema(fields, metadata=table_meta)


def write_parquet(mart: str, table: pa.Table, folder: Path) -> Path:
    path = folder / f"{mart}.parquet"
    pq.write_table(table.cast(described_schema(mart, table)), path, compression="zstd")
    return path


def write_csv(
    mart: str, table: pa.Table, folder: Path, kpis: Mapping[str, int] | None = None
) -> Path:
    """Swedish-Excel CSV of the mart's Excel view (pipelines/publish/presentation.py),
    formatted by DuckDB (pipelines/publish/excel_sql.py).

    `kpis`: kpi_id -> the decimals Kolada publishes (presentation.kpi_decimals).
    """
    (folder / "csv").mkdir(exist_ok=True)
    return write_excel_view(mart, table, folder / "csv" / f"{mart}.csv", kpis)


def write_xlsx(
    mart: str,
    table: pa.Table,
    folder: Path,
    kpis: Mapping[str, int] | None,
    sources: Mapping[str, str],
) -> Path:
    """xlsx/<mart>.xlsx of the mart's Excel view: XlsxWriter lays it out, DuckDB writes the
    rows (pipelines/publish/xlsx_sql.py)."""
    (folder / "xlsx").mkdir(exist_ok=True)
    return write_mart_xlsx(mart, table, folder / "xlsx" / f"{mart}.xlsx", kpis, sources)


def write_duckdb(parquet: Mapping[str, Path], folder: Path) -> Path:
    """`marts.duckdb` with one table per mart, for BI tools that speak DuckDB.

    `parquet`: mart -> its Parquet file in the publication, which holds exactly the mart's
    rows and types in the key's order: the tables are filled from those files, so the
    publisher need not keep every mart in memory until this file is written.
    """
    path = folder / "marts.duckdb"
    con = _connect_for_writing(path)
    try:
        for mart, source in parquet.items():
            _create(con, mart, source)
        con.execute("checkpoint")
    finally:
        con.close()
    return path


# A copied marts.duckdb keeps the blocks of the tables it replaced as free space (DuckDB reuses
# them, never returns them): past this share the file is written whole again.
MAX_FREE_SHARE = 0.25


def update_duckdb(path: Path, parquet: Mapping[str, Path], changed: set[str]) -> bool:
    """Bring a copy of the previous version's `marts.duckdb` at `path` up to the marts in
    `parquet` (mart -> its Parquet file, as in write_duckdb): the `changed` marts replaced,
    marts no longer published dropped, the rest as they are (their inputs, and so their rows,
    are the previous version's). False when the file would carry more than MAX_FREE_SHARE
    free space: the caller writes it whole instead. Replacing 3 small marts of M's 209 MB
    file is a copy and a few inserts instead of writing 5M rows."""
    con = _connect_for_writing(path)
    try:
        existing = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
        replaced = [m for m in parquet if m in changed or m not in existing]
        for mart in sorted(existing - set(parquet)) + replaced:
            con.execute(f'drop table if exists main."{mart}"')
        # DuckDB reuses a dropped table's blocks only after a checkpoint has freed them:
        # without this one the new rows went to new blocks, a realistic night on M (12 of 21
        # marts, 503 of 1,021 blocks) passed MAX_FREE_SHARE and the file was written again
        con.execute("checkpoint")
        for mart in replaced:
            _create(con, mart, parquet[mart])
        con.execute("checkpoint")
        free, total = con.execute(
            "select free_blocks, total_blocks from pragma_database_size()").fetchone()
    finally:
        con.close()
    return not total or free / total <= MAX_FREE_SHARE


def _connect_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    # one thread: parallel appends from Parquet leave a part-filled row group per thread and
    # Parquet row group (M's file grew 8 %); from one thread the row groups are full, as when
    # the tables were filled from Arrow
    return duckdb.connect(str(path), config={"threads": 1})


def _create(con: duckdb.DuckDBPyConnection, mart: str, source: Path) -> None:
    con.execute(f'create table main."{mart}" as select * from read_parquet(?)', [str(source)])
    _comment(con, mart, pq.read_schema(source).names)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comment(con: duckdb.DuckDBPyConnection, mart: str, columns: Sequence[str]) -> None:
    """COMMENT ON TABLE/COLUMN from the contract: `duckdb_columns()` and BI tools show them."""
    contract = mart_contracts().get(mart)
    if contract is None:
        return
    con.execute(f'comment on table main."{mart}" is {_literal(contract.description)}')
    for name in columns:
        spec = contract.column(name)
        if spec and spec.description:
            text = spec.description + (f" [{spec.unit}]" if spec.unit else "")
            con.execute(f'comment on column main."{mart}"."{name}" is {_literal(text)}')


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder under `folder` to disk before it is renamed into place."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            fsync_path(Path(root, name))
        fsync_path(Path(root))
