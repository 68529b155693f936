"""A description for every dbt test shown as a Dagster asset check.

A test written with a `description` in the yml keeps it; the others (most `not_null`,
`unique`, `accepted_values`, ...) get one said in words from the test's own arguments, so the
UI's check list reads "colour is one of: green, yellow, red" rather than a generated name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REF = re.compile(r"ref\(['\"]([^'\"]+)['\"]\)")


def _listed(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)


def _said(name: str, kwargs: Mapping[str, Any]) -> str:
    column = kwargs.get("column_name", "")
    ref = _REF.search(str(kwargs.get("to", "")))
    sentences = {
        "not_null": f"{column} always has a value",
        "unique": f"{column} is unique",
        "accepted_values": f"{column} is one of: {_listed(kwargs.get('values', []))}",
        "unique_combination": f"one row per ({_listed(kwargs.get('columns', []))})",
        "matches_regex": f"{column} matches {kwargs.get('regex')}",
        "relationships": f"every {column} exists in "
                         f"{ref.group(1) if ref else kwargs.get('to')}.{kwargs.get('field')}",
        "not_null_where": f"{column} has a value where {kwargs.get('condition')}",
        "null_where": f"{column} is empty where {kwargs.get('condition')}",
        "at_least_column": f"{column} is at least {kwargs.get('other')}",
        "equals_sum_of": f"{column} equals the sum of {_listed(kwargs.get('columns', []))}",
    }
    if name == "accepted_range":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        bounds = [f">= {low}" if low is not None else "", f"<= {high}" if high is not None else ""]
        return f"{column} is {' and '.join(b for b in bounds if b)}"
    if name in sentences:
        return sentences[name]
    shown = {k: v for k, v in kwargs.items() if k != "model"}
    return f"{name.replace('_', ' ')}" + (f" ({shown})" if shown else "")


def test_description(test_node: Mapping[str, Any]) -> str:
    """The check's description: the yml's own, or the test said in words, with its severity."""
    own = str(test_node.get("description") or "").strip()
    metadata = test_node.get("test_metadata") or {}
    text = own or (_said(metadata["name"], metadata.get("kwargs") or {}) if metadata
                   else f"dbt data test {test_node.get('name')}")
    severity = str((test_node.get("config") or {}).get("severity", "ERROR")).upper()
    blocks = "blocks publishing when it fails" if severity == "ERROR" else "warns, never blocks"
    return f"{text} (dbt test, {blocks})"
