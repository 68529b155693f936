"""The limit: DuckDB `read_json` over the full page files on local disk, flattened to one row
per value and written to Parquet. No HTTP, no validation, no event log: what reading the same
bytes and storing the same facts costs at best on this machine.

Run as its own process by run.py (so it is measured like every other step):
  python -m bench.limit <cache dir> <out.parquet>
"""

from __future__ import annotations

import sys
from pathlib import Path

# The columns of one flattened value; the ingest's event log must hold exactly this set.
VALUE_COLUMNS = ("kpi", "municipality", "period", "gender", "value", "status", "count",
                 "isdeleted")

_PAGE_TYPE = ("STRUCT(kpi VARCHAR, municipality VARCHAR, period BIGINT, \"values\" "
              "STRUCT(gender VARCHAR, count BIGINT, status VARCHAR, value DOUBLE, "
              "isdeleted BOOLEAN)[])[]")


def flatten_sql(pages_glob: str) -> str:
    """A query of one row per value over page files matching `pages_glob`."""
    return f"""
        with pages as (
            select unnest("values") as r
            from read_json('{pages_glob}', format = 'auto',
                           columns = {{"values": '{_PAGE_TYPE}'}})
        ),
        rows as (select r.kpi, r.municipality, r.period, unnest(r."values") as v from pages)
        select kpi, municipality, period, v.gender as gender, v.value as value,
               v.status as status, v.count as count, v.isdeleted as isdeleted
        from rows
    """


def run(cache: Path, out: Path) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute(f"copy ({flatten_sql(str(cache / 'full' / '*.json'))}) to '{out}' "
                "(format parquet)")
    return con.execute(f"select count(*) from read_parquet('{out}')").fetchone()[0]


if __name__ == "__main__":
    print(run(Path(sys.argv[1]), Path(sys.argv[2])))
