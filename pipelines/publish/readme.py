"""README.md of a publication folder, in Swedish: what each file is and how to open it.

Whoever finds a publication folder (an analyst on a file share, an R user, a Power BI
developer) should not need this repository to use it. The list of marts, their grain and row
counts come from the contract and the manifest, so a new mart appears here by itself. The text
depends only on the manifest's content, never on the clock, so it cannot make two builds of the
same data differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.publish.attribution import ASSESSMENT, KOLADA, OWN, SCB, TERMS_SV
from pipelines.publish.descriptions_sv import swedish_descriptions
from pipelines.publish.swedish import stockholm_text
from pipelines.warehouse.marts import mart_contracts

_FILES = """\
## Filer

Varje tabell finns som Parquet och i `marts.duckdb`. Tabeller som en person öppnar (KKiK-tabellen,
den breda tabellen, färgräkningar, trender, kvalitetsprofilen, Kommunkompassen, uppföljningen av
förbättringsarbeten, vad som ändrats och de små referenstabellerna) finns också som xlsx och
CSV; de stora långa tabellerna bakom dem (alla värden, hela jämförelsetabellen,
jämförelsegruppernas värden och medlemmar) är för program och läses i Parquet eller DuckDB.
Kolumnen *filer* i tabellistan nedan säger vilka filer varje tabell har. Ett kalkylblad rymmer
högst 1 048 576 rader.

- `xlsx/<tabell>.xlsx`: **för Excel och LibreOffice, öppna dem direkt.** En arbetsbok per
  tabell: koder som text (Kommunkod `0114` förblir `0114`), tal som tal med nyckeltalets
  antal decimaler, svenska rubriker, kolumnbredder efter innehållet, låst rubrikrad och filter,
  och bladet *Källor* med källor och villkor (och den publicering som skrev filen: en fil som
  inte ändrats delas med tidigare publiceringar). Tabeller med xlsx har en upp till {row_cap}
  rader.
- `csv/<tabell>.csv`: för program och import (UTF-8 med BOM, `;`, decimalkomma, svenska
  rubriker, svensk klartext i stället för koder, svensk tid med tidszon). **Dubbelklicka inte
  på en CSV**: Excel och LibreOffice gör då koden `0114` till talet 114. Se *Öppna en CSV*
  nedan.
- `<tabell>.parquet`: en fil per tabell, med kolumnbeskrivningar i schemat (Python, R,
  Power BI, DuckDB). Kodade kolumner har här sina koder (`higher_better`, `yellow`), som i
  DuckDB-filen; xlsx- och CSV-filerna visar i stället den svenska texten (”Högre är bättre”,
  ”Gul (mellersta 50 %)”).
- `marts.duckdb`: alla tabeller i en DuckDB-databas, med kommentarer på tabeller och kolumner
  (på engelska, för utvecklare).
- `dictionary_sv.csv`: varje kolumn med svensk rubrik, typ, svensk beskrivning, enhet, källa
  och varje kod med sin svenska text. `dictionary_en.csv` och `dictionary.json` har samma på
  engelska, för utvecklare.
- `manifest.json`: vad som publicerades, från vilket bygge, vilka kontroller som passerade,
  källorna (för maskiner, på engelska).
"""

_OPENING = """\
## Öppna filerna

**Excel eller LibreOffice**: öppna `xlsx/<tabell>.xlsx` (dubbelklicka). Inget importsteg
behövs.

**Öppna en CSV** (bara om du måste): i Excel *Data > Från text/CSV* (*Data > From
Text/CSV*), filursprung *65001: Unicode (UTF-8)*, avgränsare *Semikolon*, *Transformera data*,
markera kodkolumnerna (Kommunkod, Länskod, Nyckeltal id, Nyckel, ...), *Datatyp > Text*,
*Stäng och läs in*. I LibreOffice: *Arkiv > Öppna*, teckenuppsättning *Unicode (UTF-8)*,
avgränsare *Semikolon*, markera kodkolumnerna och välj kolumntyp *Text*.

**DuckDB**:
```sql
attach 'marts.duckdb' as kk (read_only);
select * from kk.{example} limit 10;
select table_name, column_name, comment from duckdb_columns() where database_name = 'kk';
```

**Python** (pandas eller polars):
```python
import pandas as pd
df = pd.read_parquet('{example}.parquet')
import polars as pl
df = pl.read_parquet('{example}.parquet')
```

**R**:
```r
df <- arrow::read_parquet("{example}.parquet")
con <- DBI::dbConnect(duckdb::duckdb(), "marts.duckdb", read_only = TRUE)
DBI::dbGetQuery(con, "select * from {example} limit 10")
```

**Power BI**: *Hämta data > Parquet* med filens sökväg (eller *Text/CSV* med CSV-filen, där
kodkolumnerna sätts till Text i Power Query). Peka på `published/current/` för att alltid läsa
den senaste publiceringen.
"""

_CREDITS = """\
## Källor och villkor

- Värden från Kolada (RKA): ”{kolada}”. {kolada_terms}
- {own_terms} Ange: ”{own}”.
- Kommunkompassens resultat: ”{assessment}”.
- Folkmängd från SCB, när den hämtas från SCB: ”{scb}”.

Vilken kolumn som är vad: kolumnen `Källa` i `dictionary_sv.csv`, bladet *Källor* i varje
xlsx och blocket `attribution` i `manifest.json`.
"""


def _number(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _mart_lines(manifest: Mapping[str, Any]) -> list[str]:
    lines = ["| tabell | en rad per | rader | filer |", "|---|---|---|---|"]
    for mart, entry in manifest["marts"].items():
        contract = mart_contracts().get(mart)
        # Swedish (descriptions_sv.yaml); the English grain only for a mart not described yet
        grain = swedish_descriptions().grain(mart) or (contract.grain if contract else "")
        lines.append(f"| `{mart}` | {grain} | {_number(entry['rows'])} | {_files(entry)} |")
    return lines


def _files(entry: Mapping[str, Any]) -> str:
    """`xlsx, CSV, Parquet, DuckDB`; a person-facing mart past the row cap says so."""
    names = []
    if entry.get("xlsx"):
        names.append("xlsx")
    elif entry.get("csv"):
        names.append("ingen xlsx (för många rader)")
    if entry.get("csv"):
        names.append("CSV")
    return ", ".join([*names, "Parquet", "DuckDB"])


def render_readme(manifest: Mapping[str, Any], row_cap: int) -> str:
    """The README of the publication `manifest` describes, in Swedish (marts without xlsx are
    named). Times in Stockholm time with the zone named; the UTC instants are in manifest.json."""
    example = next(iter(manifest["marts"]), "dim_municipality")
    previous = manifest.get("previous_version") or "ingen"
    out = [
        f"# Kommunkvalitet: publicering {manifest['version']}",
        "",
        (
            f"Data per **{stockholm_text(manifest['as_of'], seconds=True)}** (händelseloggens "
            f"vattenmärke, `{manifest['as_of']}`), publicerad "
            f"{stockholm_text(manifest['published_at'], seconds=True)}; "
            f"föregående publicering: {previous}."
        ),
        "",
    ]
    if manifest.get("synthetic"):
        out += [SYNTHETIC_NOTE, ""]
    out += [_FILES.format(row_cap=_number(row_cap))]
    if manifest.get("report"):
        out += [REPORT_NOTE, ""]
    out += ["## Tabeller", "", *_mart_lines(manifest), ""]
    # person-facing marts (a CSV) whose rows do not fit the row cap
    skipped = [m for m, entry in manifest["marts"].items()
               if entry.get("csv") and not entry.get("xlsx")]
    if skipped:
        names = ", ".join(f"`{m}`" for m in skipped)
        out += [
            (
                f"Ingen xlsx för {names}: fler än {_number(row_cap)} rader (använd CSV-, "
                "Parquet- eller DuckDB-filen)."
            ),
            "",
        ]
    out += [_OPENING.format(example=example)]
    out += [_CREDITS.format(kolada=KOLADA, own=OWN, assessment=ASSESSMENT, scb=SCB,
                            kolada_terms=TERMS_SV["kolada"], own_terms=TERMS_SV["own_processing"])]
    return "\n".join(out)


REPORT_NOTE = (
    "- `report/index.html`: analysrapporten, en statisk webbplats att läsa och skriva ut "
    "(KKiK-tabell, trender, färger, ändringar, Kommunkompassen och kvalitetsprofil per kommun, "
    "en sida per nätverk, varje kommuns tabell som xlsx och CSV); öppna den i en webbläsare, "
    "den fungerar utan internet."
)

SYNTHETIC_NOTE = (
    "**Syntetiska exempeldata**: inte verkliga värden från Kolada eller SCB."
)
