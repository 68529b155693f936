"""Swedish headers and the data dictionary that ships with every publication.

Analysts open the CSV in Excel with Swedish headers and look columns up in the dictionary
(mart, column, Swedish header, type, description, unit, credit). Header, description, unit and
credit come from the marts' contract (pipelines/marts.py, read from the dbt yml), so each is
written once, next to the SQL; the type is the published Arrow type, what the files hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from pipelines.marts import MartColumn, mart_contracts
from pipelines.publish.attribution import column_credit
from pipelines.publish.excel_csv import write_excel_csv

DICTIONARY_FIELDS = ("mart", "column", "header_sv", "type", "description", "unit", "credit")
DICTIONARY_HEADERS_SV = ("Tabell", "Kolumn", "Rubrik", "Typ", "Beskrivning", "Enhet", "Källa")


def _spec(mart: str, column: str) -> MartColumn | None:
    contract = mart_contracts().get(mart)
    return contract.column(column) if contract else None


def header_row(mart: str, table: pa.Table) -> list[str]:
    """Swedish headers for the table's columns; a column the contract lacks keeps its name."""
    return [spec.header_sv if (spec := _spec(mart, c)) else c for c in table.column_names]


def dictionary_records(tables: Mapping[str, pa.Table]) -> list[dict[str, str]]:
    """One record per published column, in table order."""
    records = []
    for mart, table in tables.items():
        for field in table.schema:
            spec = _spec(mart, field.name)
            records.append(
                {
                    "mart": mart,
                    "column": field.name,
                    "header_sv": spec.header_sv if spec else field.name,
                    "type": str(field.type),
                    "description": spec.description if spec else "",
                    "unit": spec.unit if spec else "",
                    "credit": column_credit(mart, field.name),
                }
            )
    return records


def write_dictionary(records: list[dict[str, str]], folder: Path) -> None:
    """dictionary.json (for tools) and dictionary.csv (Swedish Excel) in `folder`."""
    (folder / "dictionary.json").write_text(
        json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    table = pa.table({f: pa.array([r[f] for r in records], pa.string()) for f in DICTIONARY_FIELDS})
    write_excel_csv(table, folder / "dictionary.csv", list(DICTIONARY_HEADERS_SV))
