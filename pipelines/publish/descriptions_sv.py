"""The Swedish text of every published column and mart: dictionary_sv.csv and the README.

The marts' contract states them in English (for engineers); `descriptions_sv.yaml` beside this
module states them in Swedish (for analysts), looked up in the order its header explains: the
contract's own `description_sv`, the mart's entry, the column's entry, a pattern. A column
without Swedish text is an error for the caller to report (tests/test_publish_dictionary_sv.py
checks every published column), never an English text in the Swedish file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from pipelines.warehouse.marts import mart_contracts

FILE = "descriptions_sv.yaml"


class MissingSwedish(LookupError):
    """A published column or mart has no Swedish description."""


@dataclass(frozen=True)
class SwedishDescriptions:
    columns: dict[str, str]
    marts: dict[str, dict[str, str]]
    patterns: tuple[tuple[re.Pattern[str], str], ...]
    tables: dict[str, tuple[str, str]]  # mart -> (description, grain)

    def column(self, mart: str, name: str) -> str | None:
        """The Swedish description of `mart.name`, or None when none is written."""
        contract = mart_contracts().get(mart)
        spec = contract.column(name) if contract else None
        if spec is not None and spec.description_sv:
            return spec.description_sv
        text = self.marts.get(mart, {}).get(name) or self.columns.get(name)
        if text:
            return text
        for pattern, template in self.patterns:
            if match := pattern.match(name):
                return template.format(**match.groupdict())
        return None

    def require(self, mart: str, name: str) -> str:
        text = self.column(mart, name)
        if not text:
            raise MissingSwedish(
                f"{mart}.{name} has no Swedish description: add it to "
                f"pipelines/publish/{FILE} (under marts: {mart}: or columns:)")
        return text

    def grain(self, mart: str) -> str | None:
        """What one row is, in Swedish (“kommun och nyckeltal”), or None."""
        entry = self.tables.get(mart)
        return entry[1] if entry else None


@cache
def swedish_descriptions() -> SwedishDescriptions:
    """descriptions_sv.yaml (package data, so a non-editable install has it too)."""
    text = resources.files("pipelines.publish").joinpath(FILE).read_text("utf-8")
    raw = yaml.safe_load(text) or {}
    return SwedishDescriptions(
        columns={str(k): str(v).strip() for k, v in (raw.get("columns") or {}).items()},
        marts={str(m): {str(k): str(v).strip() for k, v in (cols or {}).items()}
               for m, cols in (raw.get("marts") or {}).items()},
        patterns=tuple((re.compile(p), str(t)) for p, t in raw.get("patterns") or ()),
        tables={str(m): (str(v[0]), str(v[1])) for m, v in (raw.get("tables") or {}).items()},
    )
