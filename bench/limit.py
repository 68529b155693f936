"""The limit: DuckDB `read_json` over the full page files on local disk, flattened to one row
per value and written to Parquet. No HTTP, no validation, no event log: what reading the same
bytes and storing the same facts costs at best on this machine.

The fastest honest path found (issue 26; docs/performance.md, "How the limit was chosen"):
`read_json` with its auto-detected schema, streamed through the double `unnest` straight into
one `COPY`. An explicit nested `columns` type (what this step did before) made the same read
12x slower on M (30.0 s against 2.5 s); a table in between costs 3.9 s and 1.7 GB. A wrong
detected type cannot flatter the limit: the bench asserts that the limit's value set equals
the ingest's, value for value.

Run as its own process by run.py (so it is measured like every other step):
  python -m bench.limit <cache dir> <out.parquet>
"""

from __future__ import annotations

import sys
from pathlib import Path

# The columns of one flattened value; the ingest's event log must hold exactly this set.
VALUE_COLUMNS = ("kpi", "municipality", "period", "gender", "value", "status", "count",
                 "isdeleted")


def flatten_sql(pages_glob: str) -> str:
    """A query of one row per value over page files matching `pages_glob`."""
    return f"""
        with pages as (
            select unnest("values") as r
            from read_json('{pages_glob}')
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
