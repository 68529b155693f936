"""Read marts from the warehouse and write one publication's files into a folder.

Each writer is a module-level function so a failing one can be simulated in tests; the
publisher only ever writes into a temporary folder that readers never look at.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pat

from pipelines.publish.dictionary import header_row
from pipelines.publish.excel_csv import write_excel_csv


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
        for mart in marts:
            table = con.sql(f'select * from main."{mart}"').to_arrow_table()
            nested = [f.name for f in table.schema if pat.is_nested(f.type)]
            if nested:
                raise MartError(f"{mart} has nested columns {nested}; marts must be flat")
            tables[mart] = table
        return tables
    finally:
        con.close()


def write_parquet(mart: str, table: pa.Table, folder: Path) -> Path:
    path = folder / f"{mart}.parquet"
    pq.write_table(table, path, compression="zstd")
    return path


def write_csv(mart: str, table: pa.Table, folder: Path) -> Path:
    """Swedish-Excel CSV with the contract's Swedish headers (pipelines/marts.py)."""
    (folder / "csv").mkdir(exist_ok=True)
    path = folder / "csv" / f"{mart}.csv"
    write_excel_csv(table, path, header_row(mart, table))
    return path


def write_duckdb(tables: dict[str, pa.Table], folder: Path) -> Path:
    """`marts.duckdb` with one table per mart, for BI tools that speak DuckDB."""
    path = folder / "marts.duckdb"
    con = duckdb.connect(str(path))
    try:
        for mart, table in tables.items():
            con.register("_source", table)
            con.execute(f'create table main."{mart}" as select * from _source')
            con.unregister("_source")
        con.execute("checkpoint")
    finally:
        con.close()
    return path


def fsync_tree(folder: Path) -> None:
    """Flush every file and folder under `folder` to disk before it is renamed into place."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
