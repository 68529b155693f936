"""What the UI shows of each dbt model after a build: its row count, and for a published mart
a preview of its first rows (in key order) as a markdown table.

Read from the warehouse by the dbt step itself, after the `dbt build` process has exited and
while the step still holds the `warehouse` pool slot: DuckDB allows one writer and even a
reader blocks it, so counting during the build (dagster-dbt's `fetch_row_counts` runs queries
beside the running dbt) could make dbt fail to open the file. Counting all ~55 tables of the
sample takes well under a second.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

PREVIEW_ROWS = 5
_PREVIEW_CELL = 40  # characters; a preview is a glance, the publication has the rest


@dataclass(frozen=True)
class ModelFigures:
    rows: int
    preview: str | None = None  # markdown, published marts only


@cache
def relations(manifest_path: Path) -> dict[str, str]:
    """unique_id -> quoted relation name of every model and seed that is stored in the file."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    return {
        uid: node["relation_name"]
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed") and node.get("relation_name")
        and node["config"].get("materialized") != "ephemeral"
    }


def model_figures(
    warehouse_path: Path,
    unique_ids: Iterable[str],
    relation_names: Mapping[str, str],
    previews: Mapping[str, tuple[str, Sequence[str]]] | None = None,
) -> dict[str, ModelFigures]:
    """Row counts (and previews) of the built models. `previews`: unique_id -> (mart, key
    columns) for the published marts. A model that cannot be read is left out, never raised:
    metadata must not fail a build."""
    previews = previews or {}
    figures: dict[str, ModelFigures] = {}
    if not Path(warehouse_path).exists():
        return figures
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        for uid in unique_ids:
            relation = relation_names.get(uid)
            if relation is None:
                continue
            try:
                [(rows,)] = con.execute(f"select count(*) from {relation}").fetchall()
                preview = None
                if uid in previews:
                    preview = _preview(con, relation, previews[uid][1])
            except duckdb.Error:
                continue
            figures[uid] = ModelFigures(int(rows), preview)
    finally:
        con.close()
    return figures


def _preview(con: duckdb.DuckDBPyConnection, relation: str, key: Sequence[str]) -> str:
    order = ", ".join(f'"{column}"' for column in key) or "1"
    cursor = con.execute(f"select * from {relation} order by {order} limit {PREVIEW_ROWS}")
    columns = [d[0] for d in cursor.description]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in cursor.fetchall():
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= _PREVIEW_CELL else text[: _PREVIEW_CELL - 1] + "…"
