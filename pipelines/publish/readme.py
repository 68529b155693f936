"""README.md of a publication folder: what each file is and how to open it, from the contract.

Whoever finds a publication folder (an analyst on a file share, an R user, a Power BI
developer) should not need this repository to use it. The list of marts, their grain and row
counts come from the contract and the manifest, so a new mart appears here by itself. The text
depends only on the manifest's content, never on the clock, so it cannot make two builds of the
same data differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.publish.attribution import ASSESSMENT, KOLADA, OWN, SCB
from pipelines.warehouse.marts import mart_contracts

_FILES = """\
## Files

- `<table>.parquet`: one file per table, with column descriptions in the schema metadata
  (Python, R, Power BI, DuckDB).
- `marts.duckdb`: all tables in one DuckDB database, with table and column comments.
- `csv/<table>.csv`: for Swedish Excel (UTF-8 with BOM, `;`, decimal comma, Swedish headers,
  Swedish labels beside coded columns, values at the KPI's precision, percentile in %, times
  in Swedish time with their offset).
- `xlsx/<table>.xlsx`: Excel workbooks (codes as text, the KPI's precision as number format,
  frozen header, filter, a sheet with the sources) for tables up to {row_cap} rows.
- `dictionary_sv.csv`, `dictionary_en.csv`, `dictionary.json`: every column with its Swedish
  header, type, description, unit, source and codes.
- `manifest.json`: what was published, from which build, which checks passed, the sources.
"""

_OPENING = """\
## Opening the files

**Excel**: open `xlsx/<table>.xlsx` directly. For a CSV, do not double-click it (Excel would
turn the code `0180` into the number 180): *Data > From Text/CSV* (*Data > Från text/CSV*),
file origin *65001: Unicode (UTF-8)*, delimiter *Semicolon*, *Transform Data*, select the code
columns (Kommunkod, Länskod, Nyckeltal id, Nyckel, ...), *Data Type > Text*, *Close & Load*.

**DuckDB**:
```sql
attach 'marts.duckdb' as kk (read_only);
select * from kk.{example} limit 10;
select table_name, column_name, comment from duckdb_columns() where database_name = 'kk';
```

**Python** (pandas or polars):
```python
import pandas as pd
df = pd.read_parquet('{example}.parquet')
import polars as pl
df = pl.read_parquet('{example}.parquet')
```

**R** (arrow or duckdb):
```r
df <- arrow::read_parquet("{example}.parquet")
con <- DBI::dbConnect(duckdb::duckdb(), "marts.duckdb", read_only = TRUE)
DBI::dbGetQuery(con, "select * from {example} limit 10")
```

**Power BI**: *Get data > Parquet* with the file's path (or *Text/CSV* with the CSV, setting
the code columns to Text in Power Query). Point it at `published/current/` to always read the
latest publication.
"""

_CREDITS = """\
## Sources and credit

- Values delivered by Kolada (RKA): “{kolada}”.
- Ranks, colours, percentiles, changes, peer means and medians, trends, counts and revisions
  are our own processing and must not be credited to Kolada: “{own}”.
- Kommunkompassen results: “{assessment}”.
- Population from SCB, when sourced from SCB: “{scb}”.

Which column is which: the `Källa` / `Credit` column of the dictionaries and the `attribution`
block of `manifest.json`.
"""


def _number(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _mart_lines(manifest: Mapping[str, Any]) -> list[str]:
    lines = ["| table | one row per | rows | xlsx |", "|---|---|---|---|"]
    for mart, entry in manifest["marts"].items():
        contract = mart_contracts().get(mart)
        grain = contract.grain if contract else ""
        xlsx = f"`{entry['xlsx']}`" if entry.get("xlsx") else "none (too many rows)"
        lines.append(f"| `{mart}` | {grain} | {_number(entry['rows'])} | {xlsx} |")
    return lines


def render_readme(manifest: Mapping[str, Any], row_cap: int) -> str:
    """The README of the publication `manifest` describes (marts without xlsx are named)."""
    example = next(iter(manifest["marts"]), "dim_municipality")
    previous = manifest.get("previous_version") or "none"
    out = [
        f"# Kommunkvalitet: publication {manifest['version']}",
        "",
        (
            f"Data as of **{manifest['as_of']}** (the event log's watermark), published "
            f"{manifest['published_at']}; previous publication: {previous}."
        ),
        "",
    ]
    if manifest.get("synthetic"):
        out += [SYNTHETIC_NOTE, ""]
    out += [_FILES.format(row_cap=_number(row_cap))]
    if manifest.get("report"):
        out += [REPORT_NOTE, ""]
    out += [*_mart_lines(manifest), ""]
    skipped = [m for m, entry in manifest["marts"].items() if not entry.get("xlsx")]
    if skipped:
        names = ", ".join(f"`{m}`" for m in skipped)
        out += [
            (
                f"No xlsx for {names}: more than {_number(row_cap)} rows, the cap that keeps a "
                "publication quick to write (use the CSV, Parquet or DuckDB file)."
            ),
            "",
        ]
    out += [_OPENING.format(example=example)]
    out += [_CREDITS.format(kolada=KOLADA, own=OWN, assessment=ASSESSMENT, scb=SCB)]
    return "\n".join(out)


REPORT_NOTE = (
    "- `report/index.html`: the analyst report, a static site for reading and printing (KKiK "
    "board table, trends, colours, revisions, Kommunkompassen and quality profile per kommun, "
    "one page per network); open it in any browser, it works offline."
)

SYNTHETIC_NOTE = (
    "**Syntetiska exempeldata** (synthetic sample data): not real values from Kolada or SCB."
)
