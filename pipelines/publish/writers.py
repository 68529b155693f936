"""Read marts from the warehouse and write one publication's files into a folder.

Each writer is a module-level function so a failing one can be simulated in tests; the
publisher only ever writes into a temporary folder that readers never look at.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pat

from pipelines.durable import fsync_path
from pipelines.publish.excel_sql import write_excel_view
from pipelines.publish.xlsx_sql import write_mart_xlsx
from pipelines.warehouse.marts import mart_contracts


class MartError(ValueError):
    """A mart is missing from the warehouse or breaks the flat-columns contract."""


def read_marts(warehouse_path: Path, marts: Sequence[str]) -> dict[str, pa.Table]:
    """Every mart as an Arrow table, through a read-only connection closed before returning.

    Read-only because dbt owns the warehouse; closed at once because even a reader blocks
    dbt's writer.
    """
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        existing = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        missing = [m for m in marts if m not in existing]
        if missing:
            raise MartError(f"marts missing from {warehouse_path}: {missing}")
        tables = {}
        contracts = mart_contracts()
        for mart in marts:
            # In the contract key's order: the same state always gives the same bytes (a
            # replay publishes byte-identical Parquet and CSV, not just the same rows).
            key = contracts[mart].key if mart in contracts else ()
            order = (" order by " + ", ".join(f'"{k}" nulls first' for k in key)) if key else ""
            table = con.sql(f'select * from main."{mart}"{order}').to_arrow_table()
            nested = [f.name for f in table.schema if pat.is_nested(f.type)]
            if nested:
                raise MartError(f"{mart} has nested columns {nested}; marts must be flat")
            tables[mart] = table
        return tables
    finally:
        con.close()


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


def write_duckdb(tables: dict[str, pa.Table], folder: Path) -> Path:
    """`marts.duckdb` with one table per mart, for BI tools that speak DuckDB."""
    path = folder / "marts.duckdb"
    con = duckdb.connect(str(path))
    try:
        for mart, table in tables.items():
            _create(con, mart, table)
        con.execute("checkpoint")
    finally:
        con.close()
    return path


# A copied marts.duckdb keeps the blocks of the tables it replaced as free space (DuckDB reuses
# them, never returns them): past this share the file is written whole again.
MAX_FREE_SHARE = 0.25


def update_duckdb(path: Path, tables: dict[str, pa.Table], changed: set[str]) -> bool:
    """Bring a copy of the previous version's `marts.duckdb` at `path` up to `tables`: the
    `changed` marts replaced, marts no longer published dropped, the rest as they are (their
    inputs, and so their rows, are the previous version's). False when the file would carry
    more than MAX_FREE_SHARE free space: the caller writes it whole instead. Replacing 3 small
    marts of M's 209 MB file is a copy and a few inserts instead of writing 5M rows."""
    con = duckdb.connect(str(path))
    try:
        existing = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
        for mart in sorted(existing - set(tables)):
            con.execute(f'drop table main."{mart}"')
        for mart, table in tables.items():
            if mart in changed or mart not in existing:
                con.execute(f'drop table if exists main."{mart}"')
                _create(con, mart, table)
        con.execute("checkpoint")
        free, total = con.execute(
            "select free_blocks, total_blocks from pragma_database_size()").fetchone()
    finally:
        con.close()
    return not total or free / total <= MAX_FREE_SHARE


def _create(con: duckdb.DuckDBPyConnection, mart: str, table: pa.Table) -> None:
    con.register("_source", table)
    con.execute(f'create table main."{mart}" as select * from _source')
    con.unregister("_source")
    _comment(con, mart, table)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comment(con: duckdb.DuckDBPyConnection, mart: str, table: pa.Table) -> None:
    """COMMENT ON TABLE/COLUMN from the contract: `duckdb_columns()` and BI tools show them."""
    contract = mart_contracts().get(mart)
    if contract is None:
        return
    con.execute(f'comment on table main."{mart}" is {_literal(contract.description)}')
    for name in table.column_names:
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
