"""README.md of a publication folder: what each file is and how to open it, from the contract.

Whoever finds a publication folder (an analyst on a file share, an R user, a Power BI
developer) should not need this repository to use it. The list of marts, their grain and row
counts come from the contract and the manifest, so a new mart appears here by itself. The text
depends only on the manifest's content, never on the clock, so it cannot make two builds of the
same data differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.marts import mart_contracts
from pipelines.publish.attribution import ASSESSMENT, KOLADA, OWN, SCB


def _mart_lines(manifest: Mapping[str, Any]) -> list[str]:
    lines = ["| table | one row per | rows | xlsx |", "|---|---|---|---|"]
    for mart, entry in manifest["marts"].items():
        contract = mart_contracts().get(mart)
        grain = contract.grain if contract else ""
        xlsx = f"`xlsx/{mart}.xlsx`" if entry.get("xlsx") else "no (see below)"
        lines.append(f"| `{mart}` | {grain} | {entry['rows']:,} | {xlsx} |".replace(",", " "))
    return lines


def render_readme(manifest: Mapping[str, Any], xlsx_skipped: Sequence[str], row_cap: int) -> str:
    version = manifest["version"]
    example = next(iter(manifest["marts"]), "dim_municipality")
    synthetic = manifest.get("synthetic")
    out = [
        f"# Kommunkvalitet: publication {version}",
        "",
        f"Data as of **{manifest['as_of']}** (the event log's watermark), published "
        f"{manifest['published_at']}; previous publication: {manifest.get('previous_version') or 'none'}.",
    ]
    if synthetic:
        out += ["", "**Syntetiska exempeldata** (synthetic sample data): not real values from "
                "Kolada or SCB."]
    out += [
        "",
        "## Files",
        "",
        "- `<table>.parquet`: one file per table, with column descriptions in the schema "
        "metadata (Python, R, Power BI, DuckDB).",
        "- `marts.duckdb`: all tables in one DuckDB database, with table and column comments.",
        "- `csv/<table>.csv`: for Swedish Excel (UTF-8 with BOM, `;`, decimal comma, Swedish "
        "headers, Swedish labels beside coded columns, values at the KPI's precision, "
        "percentile in %, times in Swedish time).",
        f"- `xlsx/<table>.xlsx`: Excel workbooks (codes as text, the KPI's precision as number "
        f"format, frozen header, filter, a sheet with sources); tables above {row_cap:,} rows "
        "get none.".replace(",", " "),
        "- `dictionary_sv.csv`, `dictionary_en.csv`, `dictionary.json`: every column with its "
        "Swedish header, type, description, unit, source and codes.",
        "- `manifest.json`: what was published, from which build, checks passed, sources.",
        "",
        *_mart_lines(manifest),
    ]
    if xlsx_skipped:
        out += ["", f"No xlsx for {', '.join(f'`{m}`' for m in xlsx_skipped)}: more than "
                f"{row_cap:,} rows (use the CSV, Parquet or DuckDB file).".replace(",", " ")
                .replace("  ", " ")]
    out += [
        "",
        "## Opening the files",
        "",
        "**Excel**: open `xlsx/<table>.xlsx` directly. For a CSV, do not double-click it (Excel "
        "would turn the code `0180` into the number 180): *Data > From Text/CSV* (*Data > Från "
        "text/CSV*), file origin *65001: Unicode (UTF-8)*, delimiter *Semicolon*, *Transform "
        "Data*, select the code columns (Kommunkod, Länskod, Nyckeltal id, Nyckel, ...), "
        "*Data Type > Text*, *Close & Load*.",
        "",
        "**DuckDB**:",
        "```sql",
        "attach 'marts.duckdb' as kk (read_only);",
        f"select * from kk.{example} limit 10;",
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'kk';",
        "```",
        "",
        "**Python** (pandas or polars):",
        "```python",
        "import pandas as pd",
        f"df = pd.read_parquet('{example}.parquet')",
        "import polars as pl",
        f"df = pl.read_parquet('{example}.parquet')",
        "```",
        "",
        "**R** (arrow or duckdb):",
        "```r",
        f"df <- arrow::read_parquet(\"{example}.parquet\")",
        "con <- DBI::dbConnect(duckdb::duckdb(), \"marts.duckdb\", read_only = TRUE)",
        f"DBI::dbGetQuery(con, \"select * from {example} limit 10\")",
        "```",
        "",
        "**Power BI**: *Get data > Parquet* with the file path (or *Text/CSV* with the CSV, "
        "setting code columns to Text in Power Query). Point it at `published/current/` to "
        "always read the latest publication.",
        "",
        "## Sources and credit",
        "",
        f"- Values delivered by Kolada (RKA): “{KOLADA}”.",
        f"- Ranks, colours, percentiles, changes, peer means and medians, trends, counts and "
        f"revisions are our own processing, never to be credited to Kolada: “{OWN}”.",
        f"- Kommunkompassen results: “{ASSESSMENT}”.",
        f"- Population from SCB, when sourced from SCB: “{SCB}”.",
        "",
        "Which column is which: the `Källa`/`Credit` column of the dictionaries and the "
        "`attribution` block of `manifest.json`.",
    ]
    return "\n".join(out) + "\n"
