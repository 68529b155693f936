"""The published marts' contract, read from the dbt yml that builds them.

`dbt_project/models/marts/_marts__models.yml` is the one place a mart's interface is written
down: columns, types and descriptions (dbt enforces them), in each column's `config.meta` the
Swedish header (`header_sv`), fixed `unit` and `credit` class, and in the model's `config.meta`
its `key`, `grain` (one row per ...) and whether it is `published`. The CSV headers, the data
dictionary, the attribution block, docs/marts.md and the tests all derive from it, so a new
column is one edit. Read as plain YAML (no dbt parse), so importing this module stays fast.

`python -m pipelines.warehouse.marts --write-docs` regenerates docs/marts.md; `--check` only compares.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import REPO_ROOT

MODELS_FILE = REPO_ROOT / "dbt_project" / "models" / "marts" / "_marts__models.yml"
DOCS_FILE = REPO_ROOT / "docs" / "marts.md"
CREDIT_CLASSES: dict[str, str] = {
    "kolada": "Kolada's value, passed through unchanged",
    "own": "our own processing (ranks, colours, peer means, trends, counts, ...)",
    "scb": "SCB's data",
    "assessment": "an assessment result as published by its assessor (Kommunkompassen: SKR), "
    "typed in by an analyst",
    "key": "an identifier or period",
}
CREDITS = tuple(CREDIT_CLASSES)

# The credit line of each class, as a publication prints it (pipelines.publish.attribution),
# per Kolada's and SCB's terms: processed data is never credited to Kolada. Identifiers and
# periods get none.
KOLADA = "Källa: Kolada"
SCB = "Källa: SCB"
OWN = "Egen bearbetning (inte Kolada)"
ASSESSMENT = "Källa: SKR Kommunkompassen (inmatat från SKR:s rapporter)"
CREDIT_TEXTS: dict[str, str] = {
    "kolada": KOLADA, "own": OWN, "scb": SCB, "assessment": ASSESSMENT, "key": "",
}

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContractError(ValueError):
    """The yml does not state a published mart's contract completely."""


@dataclass(frozen=True)
class MartColumn:
    name: str
    data_type: str
    description: str
    header_sv: str
    credit: str  # one of CREDITS
    unit: str = ""  # "" when the column has no fixed unit
    description_sv: str = ""  # meta description_sv, optional: the Swedish dictionary's text
    accepted_values: tuple[str, ...] = ()  # from an unconditional dbt accepted_values test


@dataclass(frozen=True)
class MartContract:
    name: str
    description: str
    published: bool
    key: tuple[str, ...]
    grain: str  # what one row is, as in "one row per <grain>"
    columns: tuple[MartColumn, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> MartColumn | None:
        return next((c for c in self.columns if c.name == name), None)


def _meta(entry: Mapping[str, Any]) -> dict[str, Any]:
    return dict((entry.get("config") or {}).get("meta") or {})


def _accepted_values(column: Mapping[str, Any]) -> tuple[str, ...]:
    for test in column.get("data_tests") or []:
        spec = test.get("accepted_values") if isinstance(test, Mapping) else None
        if isinstance(spec, Mapping) and not (spec.get("config") or {}).get("where"):
            return tuple(str(v) for v in (spec.get("arguments") or {}).get("values", []))
    return ()


def _column(mart: str, entry: Mapping[str, Any], published: bool) -> MartColumn:
    name = str(entry["name"])
    meta = _meta(entry)
    if published:
        missing = [f for f in ("header_sv", "credit") if not meta.get(f)]
        missing += [f for f in ("data_type", "description") if not entry.get(f)]
        if missing:
            raise ContractError(f"{mart}.{name}: no {', '.join(missing)} in {MODELS_FILE.name}")
    credit = str(meta.get("credit", "own"))
    if credit not in CREDITS:
        raise ContractError(f"{mart}.{name}: credit {credit!r} is not one of {CREDITS}")
    return MartColumn(
        name=name,
        data_type=str(entry.get("data_type", "")),
        description=str(entry.get("description", "")).strip(),
        header_sv=str(meta.get("header_sv", name)),
        credit=credit,
        unit=str(meta.get("unit", "")),
        description_sv=str(meta.get("description_sv", "")).strip(),
        accepted_values=_accepted_values(entry),
    )


def _contract(entry: Mapping[str, Any]) -> MartContract:
    name = str(entry["name"])
    meta = _meta(entry)
    published = bool(meta.get("published", False))
    columns = tuple(_column(name, c, published) for c in entry.get("columns") or [])
    key = tuple(str(k) for k in meta.get("key") or ())
    if published:
        if not key or not meta.get("grain"):
            raise ContractError(f"{name}: a published mart needs meta key and grain")
        unknown = set(key) - {c.name for c in columns}
        if unknown:
            raise ContractError(f"{name}: key columns {sorted(unknown)} are not columns")
    return MartContract(
        name=name,
        description=str(entry.get("description", "")).strip(),
        published=published,
        key=key,
        grain=str(meta.get("grain", "")),
        columns=columns,
    )


def load_contracts(path: Path = MODELS_FILE) -> dict[str, MartContract]:
    """Every model in the yml, in file order (the publication order: dependencies first)."""
    raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader) or {}
    return {str(m["name"]): _contract(m) for m in raw.get("models") or []}


@cache
def mart_contracts() -> dict[str, MartContract]:
    """The published marts' contracts, mart -> contract, in dependency order."""
    return {name: c for name, c in load_contracts().items() if c.published}


PUBLISHED_MARTS: tuple[str, ...] = tuple(mart_contracts())


# --- docs/marts.md, generated ------------------------------------------------------------------

_INTRO = """\
# The published marts: names, keys and columns

<!-- Generated from dbt_project/models/marts/_marts__models.yml by
     `python -m pipelines.warehouse.marts --write-docs`: edit the yml, then regenerate. -->

This is the interface between the dbt project (which builds these tables in
`$KK_DATA_DIR/warehouse.duckdb`, schema `main`), the Great Expectations suites in
`expectations/<mart>.json` (one per published mart) and the publisher, which copies them to
`$KK_DATA_DIR/published/<version>/`. It is written down once, in
`dbt_project/models/marts/_marts__models.yml`: columns, types and descriptions (dbt enforces
the contract), and per column the Swedish CSV header, unit and credit that the publisher's
headers, data dictionary and attribution are derived from. This page is generated from it.

Published marts have no nested (list/struct) columns, so that Parquet, DuckDB and the Excel CSV
carry the same content. Municipality codes are always 4-character text with leading zeros
("0180"); KPI ids are text ("N15428"); years are integers.

How a night builds them (docs/performance.md, "Incremental builds"): `fct_kpi_values`,
`mart_kkik_scorecard`, `mart_kkik_peer_values`, `mart_kkik_peer_members`, `mart_kkik_board`,
`mart_kpi_wide` and `mart_kpi_trends` (with the staging and intermediate value models under
them) are dbt incremental models partitioned by `kpi_id`: a build recomputes all years of the
KPIs whose values, metadata or KKiK membership changed since the warehouse's last build and
keeps every other KPI's rows. Every other mart is rebuilt whole by every build. A change that
reaches every KPI (municipalities, peer groups, the code or the config, `--as-of`,
`--full-refresh`, a failed last build) rebuilds everything; the result is the same either way
(`tests/test_incremental.py`).
"""


_MAX_VALUES_SHOWN = 6  # longer lists (kommungrupp ids) are summarised in the description
# allowed values are listed after a description that does not already name them all


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def render_docs(contracts: Mapping[str, MartContract] | None = None) -> str:
    """docs/marts.md: the key table, then each mart's columns."""
    contracts = mart_contracts() if contracts is None else contracts
    out = [_INTRO, "| mart | key | one row per |", "|---|---|---|"]
    out += [f"| `{m}` | `{', '.join(c.key)}` | {_cell(c.grain)} |" for m, c in contracts.items()]
    out += ["", "## Columns", "", "The `credit` of a column says how a publication credits it:", ""]
    for credit, meaning in CREDIT_CLASSES.items():
        text = CREDIT_TEXTS[credit]
        out.append(f"- `{credit}`, {meaning}: {f'“{text}”' if text else 'no credit line'}")
    out.append("")
    for mart, contract in contracts.items():
        out += [f"### `{mart}`", "", _cell(contract.description), ""]
        out += ["| column | type | description | Swedish header | unit | credit |"]
        out += ["|---|---|---|---|---|---|"]
        for col in contract.columns:
            text = col.description
            values = col.accepted_values
            if len(values) <= _MAX_VALUES_SHOWN and not all(v in text for v in values):
                text += f" Values: {_code(values)}."
            row = (
                f"`{col.name}`",
                col.data_type,
                _cell(text),
                _cell(col.header_sv),
                _cell(col.unit),
                col.credit,
            )
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    out.append(
        "Definitions of rank, colour, change, peer means and trends: "
        "[docs/indicators.md](indicators.md)."
    )
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.warehouse.marts", description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write-docs", action="store_true", help=f"regenerate {DOCS_FILE.name}")
    group.add_argument("--check", action="store_true", help="fail if it is out of date")
    args = parser.parse_args(argv)
    rendered = render_docs()
    if args.write_docs:
        DOCS_FILE.write_text(rendered, encoding="utf-8")
        print(f"wrote {DOCS_FILE}")
        return 0
    if DOCS_FILE.read_text(encoding="utf-8") != rendered:
        print(f"{DOCS_FILE} is out of date: run python -m pipelines.warehouse.marts --write-docs")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
