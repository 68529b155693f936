"""Swedish headers and the data dictionary that ships with every publication.

Analysts open the CSV in Excel with Swedish headers and look columns up in the dictionary
(mart, column, Swedish header, type, description, unit, credit). Descriptions come from dbt's
column docs, passed in by the caller, so they are written once, next to the SQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from pipelines.publish.attribution import column_credit
from pipelines.publish.excel_csv import write_excel_csv

HEADERS_FILE = Path(__file__).with_name("headers_sv.yaml")
DICTIONARY_FIELDS = ("mart", "column", "header_sv", "type", "description", "unit", "credit")
DICTIONARY_HEADERS_SV = ("Tabell", "Kolumn", "Rubrik", "Typ", "Beskrivning", "Enhet", "Källa")


@cache
def headers_sv(path: Path = HEADERS_FILE) -> dict[str, dict[str, dict[str, str]]]:
    """mart -> column -> {"header", "unit"} from headers_sv.yaml."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, dict[str, dict[str, str]]] = {}
    for mart, columns in raw.items():
        out[mart] = {}
        for column, spec in columns.items():
            spec = spec if isinstance(spec, dict) else {"header": spec}
            out[mart][column] = {"header": str(spec["header"]), "unit": str(spec.get("unit", ""))}
    return out


def header_row(mart: str, table: pa.Table) -> list[str]:
    """Swedish headers for the table's columns; an unmapped column keeps its own name."""
    known = headers_sv().get(mart, {})
    return [known.get(c, {}).get("header", c) for c in table.column_names]


def column_descriptions(dictionary: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """mart -> column -> description from either shape the caller may pass.

    Plain: `{mart: {column: "text"}}`. dbt-manifest shaped: `{mart: {"description": ...,
    "columns": {column: {"description": "text", "data_type": ...}}}}`.
    """
    out: dict[str, dict[str, str]] = {}
    for mart, spec in dictionary.items():
        columns = spec.get("columns") if isinstance(spec.get("columns"), Mapping) else spec
        out[mart] = {
            str(col): str((v.get("description") if isinstance(v, Mapping) else v) or "")
            for col, v in columns.items()
        }
    return out


def dictionary_records(
    tables: Mapping[str, pa.Table], dictionary: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, str]]:
    """One record per published column, in table order."""
    descriptions = column_descriptions(dictionary)
    records = []
    for mart, table in tables.items():
        known = headers_sv().get(mart, {})
        for field in table.schema:
            spec = known.get(field.name, {})
            records.append(
                {
                    "mart": mart,
                    "column": field.name,
                    "header_sv": spec.get("header", field.name),
                    "type": str(field.type),
                    "description": descriptions.get(mart, {}).get(field.name, ""),
                    "unit": spec.get("unit", ""),
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
