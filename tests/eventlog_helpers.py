"""Small builders for event-log tests: records shaped like the Kolada parsers' output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rec:
    entity_key: str
    payload: dict[str, Any]
    deleted: bool = False
    source: str = "http://127.0.0.1/v3/data/test"


def value(kpi: str, unit: str, year: int, v: float | None, *, deleted: bool = False) -> Rec:
    payload = {"kpi": kpi, "municipality": unit, "period": year, "gender": "T", "value": v,
               "count": 1, "status": ""}
    return Rec(f"{kpi}|{unit}|{year}|T", payload, deleted)


def grid(kpis: list[str], units: list[str], years: list[int], bump: float = 0.0) -> list[Rec]:
    return [
        value(k, u, y, float(i) + bump)
        for i, (k, u, y) in enumerate((k, u, y) for k in kpis for u in units for y in years)
    ]
