"""Read the seed (public Kolada reference facts, see seed/README.md) into v3-shaped objects.

Kept apart from the generator so that the real facts (ids, names, memberships) and the
synthetic parts are visibly separate.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent / "seed"
SOURCE_NOTE = "Kolada API, captured 2024-01-15, via rubenselander/pykolada"


@dataclass(frozen=True)
class Seed:
    municipalities: tuple[dict[str, str], ...]  # {id, title, type}, sorted by id
    kpis: tuple[dict[str, str], ...]  # {id, title}, in config order
    kpi_groups: tuple[dict[str, Any], ...]  # {id, title, members: [{member_id, member_title}]}
    municipality_groups: tuple[dict[str, Any], ...]  # same shape as kpi_groups

    @property
    def kommuner(self) -> tuple[str, ...]:
        """Ids of the 290 municipalities (type K)."""
        return tuple(m["id"] for m in self.municipalities if m["type"] == "K")


def _csv(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def load_seed() -> Seed:
    munis = sorted(
        ({"id": r["id"], "title": r["title"], "type": r["type"]}
         for r in _csv("municipalities.csv")),
        key=lambda m: m["id"],
    )
    muni_title = {m["id"]: m["title"] for m in munis}
    kpis = [{"id": r["id"], "title": r["title"]} for r in _csv("kpis.csv")]
    kpi_title = {k["id"]: k["title"] for k in kpis}
    groups_raw = json.loads((SEED_DIR / "kpi_groups.json").read_text(encoding="utf-8"))
    kpi_groups = [
        {"id": g["id"], "title": g["title"],
         "members": [{"member_id": m, "member_title": kpi_title[m]} for m in g["members"]]}
        for g in groups_raw
    ]
    muni_groups = [
        {"id": r["id"], "title": r["title"],
         "members": [{"member_id": m, "member_title": muni_title[m]}
                     for m in r["members"].split()]}
        for r in _csv("municipality_groups.csv")
    ]
    return Seed(tuple(munis), tuple(kpis), tuple(kpi_groups), tuple(muni_groups))
