"""The synthetic world of one day, as dense arrays, and the views the server answers from.

A day is a handful of numpy arrays indexed [kpi, unit, year, gender] (a few hundred thousand
cells); `World.select` cuts the scope of one Kolada query out of them and renders v3 rows only
for the page being served.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FIRST_YEAR = 2016
LAST_YEAR_DAY1 = 2024
NEW_YEAR = 2025  # published for a few KPIs at a time from day 2 on
YEARS = tuple(range(FIRST_YEAR, NEW_YEAR + 1))
GENDERS = ("T", "K", "M")

# Kinds of the last change of a cell, kept beside `changed_day`.
UNCHANGED, ADDED, REVISED, DELETED = 0, 1, 2, 3


# -- the world ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayChanges:
    """What day `day` changed compared with the day before (day 1: everything is added)."""

    day: int
    added: int
    revised: int
    deleted: int
    metadata: Mapping[str, int]  # stream -> objects added, changed or removed
    retitled_kpis: tuple[str, ...] = ()

    @property
    def values_changed(self) -> int:
        return self.added + self.revised + self.deleted


@dataclass(frozen=True)
class ValueSelection:
    """The answer to one data query, addressable by row for paging."""

    world: World
    cells: tuple[np.ndarray, np.ndarray, np.ndarray]  # kpi, unit, year index of each row
    visible: np.ndarray  # (rows, genders) bool

    @property
    def row_count(self) -> int:
        return int(self.cells[0].shape[0])

    @property
    def value_count(self) -> int:
        return int(self.visible.sum())

    def rows(self, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """Rows in v3 shape: {kpi, municipality, period, values: [{gender, count, ...}]}."""
        w = self.world
        k, u, y = (a[start:stop] for a in self.cells)
        vis = self.visible[start:stop]
        value = w.value[k, u, y].tolist()
        count = w.count[k, u, y].tolist()
        deleted = w.deleted[k, u, y].tolist()
        kpi_ids, unit_ids = w.kpi_ids, w.unit_ids
        out: list[dict[str, Any]] = []
        for i, (ki, ui, yi) in enumerate(zip(k.tolist(), u.tolist(), y.tolist(), strict=True)):
            items = []
            for g, show in enumerate(vis[i].tolist()):
                if not show:
                    continue
                gone = deleted[i][g]
                v = value[i][g]
                items.append({
                    "gender": GENDERS[g],
                    "count": count[i][g],
                    "status": "",
                    "value": None if gone or math.isnan(v) else v,
                    "isdeleted": gone,
                })
            out.append({"kpi": kpi_ids[ki], "municipality": unit_ids[ui],
                        "period": YEARS[yi], "values": items})
        return out


@dataclass(frozen=True, eq=False)
class World:
    """Everything the sample Kolada knows on one day.

    Dense arrays are indexed [kpi, unit, year, gender] in the order of `kpi_ids` (seed order),
    `unit_ids` (sorted: Riket, regions, kommuner) and `YEARS`. A cell that `exists` and is
    `deleted` is a tombstone: absent from full answers, present in from_date answers.
    """

    day: int
    kpi_ids: tuple[str, ...]
    unit_ids: tuple[str, ...]
    kpis: tuple[dict[str, Any], ...]
    kpi_groups: tuple[dict[str, Any], ...]
    municipalities: tuple[dict[str, Any], ...]
    municipality_groups: tuple[dict[str, Any], ...]
    exists: np.ndarray
    deleted: np.ndarray
    value: np.ndarray
    count: np.ndarray
    changed_day: np.ndarray
    change_kind: np.ndarray
    changes: DayChanges

    def metadata(self, stream: str) -> tuple[dict[str, Any], ...]:
        """Metadata objects in v3 shape for "kpi", "kpi_groups", "municipality" or
        "municipality_groups" (the path names)."""
        return {
            "kpi": self.kpis,
            "kpi_groups": self.kpi_groups,
            "municipality": self.municipalities,
            "municipality_groups": self.municipality_groups,
        }[stream]

    @property
    def value_count(self) -> int:
        """Values a full answer over everything returns today."""
        return int((self.exists & ~self.deleted).sum())

    @property
    def row_count(self) -> int:
        return int((self.exists & ~self.deleted).any(axis=3).sum())

    def _index(self, ids: Iterable[str] | None, known: Sequence[str]) -> np.ndarray:
        if ids is None:
            return np.arange(len(known))
        lookup = {x: i for i, x in enumerate(known)}
        return np.array(sorted({lookup[x] for x in ids if x in lookup}), dtype=np.intp)

    def _years(self, years: Iterable[int] | None) -> np.ndarray:
        if years is None:
            return np.arange(len(YEARS))
        return np.array(sorted({YEARS.index(int(y)) for y in years if int(y) in YEARS}),
                        dtype=np.intp)

    def select(
        self,
        kpis: Iterable[str] | None = None,
        units: Iterable[str] | None = None,
        years: Iterable[int] | None = None,
        *,
        since_day: int | None = None,
    ) -> ValueSelection:
        """Rows of a data query (None = no restriction), sorted by kpi, unit, period.

        Without `since_day`, a full answer: live values only. With it, a from_date answer:
        values changed on or after that day, tombstones included.
        """
        ki, ui, yi = self._index(kpis, self.kpi_ids), self._index(units, self.unit_ids), \
            self._years(years)
        block = np.ix_(ki, ui, yi)
        if since_day is None:
            vis = self.exists[block] & ~self.deleted[block]
        else:
            vis = self.exists[block] & (self.changed_day[block] >= since_day)
        rk, ru, ry = np.nonzero(vis.any(axis=3))
        return ValueSelection(self, (ki[rk], ui[ru], yi[ry]), vis[rk, ru, ry])

    def count_changes(
        self,
        kpis: Iterable[str] | None = None,
        units: Iterable[str] | None = None,
        years: Iterable[int] | None = None,
    ) -> dict[str, int]:
        """Changes made on this very day inside a scope: {"added", "revised", "deleted"}."""
        block = np.ix_(self._index(kpis, self.kpi_ids), self._index(units, self.unit_ids),
                       self._years(years))
        today = self.exists[block] & (self.changed_day[block] == self.day)
        kind = self.change_kind[block][today]
        return {"added": int((kind == ADDED).sum()), "revised": int((kind == REVISED).sum()),
                "deleted": int((kind == DELETED).sum())}
