"""Swedish headers and the data dictionary that ships with every publication, in two languages.

Analysts open the CSV in Excel with Swedish headers and look columns up in the dictionary
(mart, column, Swedish header, type, description, unit, credit, and the Swedish label of every
code). Header, description, unit and credit come from the marts' contract (pipelines/warehouse/marts.py,
read from the dbt yml), the labels from labels_sv.yaml, so each is written once; the type is the
published Arrow type, what the files hold.

`dictionary_en.csv` has English headings and the contract's (English) descriptions, for
engineers; `dictionary_sv.csv` has Swedish headings and every column's Swedish description
(pipelines/publish/descriptions_sv.yaml): a column without one fails the publication rather
than put English text in the analyst's file. `dictionary.json` holds both, for tools. The
codes column gives each code with its Swedish label: the Excel files show the label, Parquet
and DuckDB the code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from pipelines.publish.attribution import column_credit
from pipelines.publish.descriptions_sv import swedish_descriptions
from pipelines.publish.excel_csv import write_excel_csv
from pipelines.publish.presentation import labels_sv
from pipelines.warehouse.marts import MartColumn, mart_contracts

DICTIONARY_FIELDS = (
    "mart", "column", "header_sv", "type", "description", "unit", "credit", "values",
)
DICTIONARY_HEADERS_EN = (
    "Table", "Column", "Swedish header", "Type", "Description", "Unit", "Credit", "Codes",
)
DICTIONARY_HEADERS_SV = (
    "Tabell", "Kolumn", "Rubrik", "Typ", "Beskrivning", "Enhet", "Källa",
    "Kod i Parquet/DuckDB = text i CSV/xlsx",
)


def _spec(mart: str, column: str) -> MartColumn | None:
    contract = mart_contracts().get(mart)
    return contract.column(column) if contract else None


def header_row(mart: str, table: pa.Table) -> list[str]:
    """Swedish headers for the table's columns; a column the contract lacks keeps its name."""
    return [spec.header_sv if (spec := _spec(mart, c)) else c for c in table.column_names]


def _codes(column: str) -> str:
    codes = labels_sv().columns.get(column) or {}
    return "; ".join(f"{code} = {label}" for code, label in codes.items())


def dictionary_records(tables: Mapping[str, pa.Table]) -> list[dict[str, str]]:
    """One record per published column, in table order."""
    records = []
    swedish = swedish_descriptions()
    for mart, table in tables.items():
        for field in table.schema:
            spec = _spec(mart, field.name)
            description = spec.description if spec else ""
            records.append(
                {
                    "mart": mart,
                    "column": field.name,
                    "header_sv": spec.header_sv if spec else field.name,
                    "type": str(field.type),
                    "description": description,
                    # a contract column must be described in Swedish; one the contract does
                    # not know (no English either) may stay empty
                    "description_sv": swedish.require(mart, field.name) if spec
                    else swedish.column(mart, field.name) or "",
                    "unit": spec.unit if spec else "",
                    "credit": column_credit(mart, field.name),
                    "values": _codes(field.name),
                }
            )
    return records


def write_dictionary(records: list[dict[str, str]], folder: Path) -> None:
    """dictionary.json (for tools), dictionary_sv.csv and dictionary_en.csv (Swedish Excel)."""
    (folder / "dictionary.json").write_text(
        json.dumps(records, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    for language, headers, description in (
        ("en", DICTIONARY_HEADERS_EN, "description"),
        ("sv", DICTIONARY_HEADERS_SV, "description_sv"),
    ):
        fields = [description if f == "description" else f for f in DICTIONARY_FIELDS]
        table = pa.table({f: pa.array([r[f] for r in records], pa.string()) for f in fields})
        write_excel_csv(table, folder / f"dictionary_{language}.csv", list(headers))
