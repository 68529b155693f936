"""The sample's organisational units and their KPI values, day by day (synthetic values).

Real unit ids, kommuner and names (seed/units.csv: Värmland's units of the kinds the default
`units:` scope covers); every value is synthetic. Day 1 publishes 2016-2024; from day 2 on, a
few values are revised or withdrawn, 2025 appears for two KPIs, one school closes (it leaves
`/ou` and its 2024 values are withdrawn) and one is renamed. Small on purpose (about 15,000
values): `make run` and the tests ingest it in well under a second.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipelines.sample.profiles import rng_for
from pipelines.sample.reference import SEED_DIR

# Which kind of unit (the id's first three characters) reports each default unit KPI. In the
# real Kolada this is simply where the values are; the sample has to decide it.
KPI_KINDS: dict[str, str] = {
    "N11102": "V11",  # inskrivna barn per årsarbetare i förskolan
    "N15436": "V15", "N15485": "V15", "N15659": "V15",  # grundskola
    "N17467": "V17",  # gymnasieskola
    "U21468": "V21",  # hemtjänst
    "U23471": "V23", "U23490": "V23",  # särskilt boende
    "U28532": "V26",  # daglig verksamhet LSS
}
# (centre, spread, lower bound, upper bound) of each KPI's unit values: centred on the sample's
# own Riket level of the KPI (2024), spread a little wider than its kommuner, so the unit
# tables read plausibly beside the kommun's and Riket's values.
_LEVELS: dict[str, tuple[float, float, float, float]] = {
    "N11102": (9.7, 2.5, 3.0, 18.0), "N15436": (73.5, 11.0, 20.0, 100.0),
    "N15485": (45.0, 10.0, 5.0, 100.0), "N15659": (81.0, 11.0, 20.0, 100.0),
    "N17467": (70.5, 12.0, 15.0, 100.0), "U21468": (67.0, 7.0, 20.0, 100.0),
    "U23471": (82.0, 8.0, 30.0, 100.0), "U23490": (13.5, 3.0, 3.0, 30.0),
    "U28532": (70.0, 9.0, 20.0, 100.0),
}
# A survey so small in the sample that no year has enough answering units to rank: the
# scorecard's "too few to compare" (grey, not ranked) has real rows.
SPARSE_KPI = "U28532"
SPARSE_UNITS = 3
FIRST_YEAR, LAST_YEAR_DAY1, NEW_YEAR = 2016, 2024, 2025
NEW_YEAR_KPIS = ("N15436", "N15659")  # published for 2025 from day 2
MISSING_RATE = 0.08  # a unit without a value that year (too few answers, not yet open ...)
REVISE_RATE = 0.01
DELETE_RATE = 0.002
CLOSED_UNIT = "V15E178403601"  # Klässbols skola, Arvika: closes on day 2
RENAMED_UNIT = ("V15E178401203", "Jösseforsskolan F-6")  # Jössefors skola, Arvika: renamed


_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class UnitValue:
    value: float | None
    deleted: bool
    changed_day: int


@dataclass(frozen=True, eq=False)
class UnitWorld:
    day: int
    units: tuple[dict[str, str], ...]  # /v3/ou objects, sorted by id
    values: dict[tuple[str, str, int], UnitValue]  # (kpi, ou, year), gender T only

    def select(self, kpis: list[str] | None, ous: list[str] | None, years: list[int] | None,
               since_day: int | None = None) -> list[dict[str, Any]]:
        """Rows of an /oudata query in v3 shape, sorted by kpi, ou, period; with `since_day`
        the values changed on or after it, withdrawn ones as isdeleted. The last few answers
        are kept: paging asks for the same selection once per page."""
        key = (None if kpis is None else tuple(kpis), None if ous is None else tuple(ous),
               None if years is None else tuple(years), since_day)
        with _CACHE_LOCK:  # the server answers from several threads
            cache = self._answers()
            if key not in cache:
                if len(cache) >= 4:
                    cache.pop(next(iter(cache)))
                cache[key] = self._select(*key)
            return cache[key]

    def _answers(self) -> dict[tuple, list[dict[str, Any]]]:
        cache = self.__dict__.get("_cache")
        if cache is None:
            cache = {}
            object.__setattr__(self, "_cache", cache)
        return cache

    def _select(self, kpis: tuple[str, ...] | None, ous: tuple[str, ...] | None,
                years: tuple[int, ...] | None, since_day: int | None) -> list[dict[str, Any]]:
        k_set = None if kpis is None else set(kpis)
        o_set = None if ous is None else set(ous)
        y_set = None if years is None else set(years)
        rows = []
        for (kpi, ou, year), v in sorted(self.values.items()):
            if ((k_set is not None and kpi not in k_set) or (o_set is not None and ou not in o_set)
                    or (y_set is not None and year not in y_set)):
                continue
            if since_day is None and v.deleted or since_day is not None and v.changed_day < since_day:
                continue
            rows.append({"kpi": kpi, "ou": ou, "period": year, "values": [
                {"gender": "T", "count": 1, "status": "",
                 "value": None if v.deleted else v.value, "isdeleted": v.deleted}]})
        return rows

    @property
    def value_count(self) -> int:
        return sum(not v.deleted for v in self.values.values())


@lru_cache(maxsize=1)
def seed_units() -> tuple[dict[str, str], ...]:
    with (SEED_DIR / "units.csv").open(encoding="utf-8", newline="") as f:
        return tuple({"id": r["id"], "municipality": r["municipality"], "title": r["title"]}
                     for r in csv.DictReader(f))


def _value(kpi: str, r: Any, unit_level: float) -> float:
    centre, spread, low, high = _LEVELS.get(kpi, (75.0, 10.0, 0.0, 100.0))
    v = centre + spread * (unit_level + 0.5 * r.standard_normal())
    return round(min(high, max(low, v)), 1)


def _day1() -> dict[tuple[str, str, int], UnitValue]:
    values: dict[tuple[str, str, int], UnitValue] = {}
    units = seed_units()
    for kpi, kind in KPI_KINDS.items():
        of_kind = [u["id"] for u in units if u["id"].startswith(kind)]
        if kpi == SPARSE_KPI:
            of_kind = of_kind[:SPARSE_UNITS]
        for ou in of_kind:
            r = rng_for("unit", kpi, ou)
            level = float(r.standard_normal())  # a unit stays better or worse over the years
            for year in range(FIRST_YEAR, LAST_YEAR_DAY1 + 1):
                if r.random() < MISSING_RATE:
                    continue
                values[(kpi, ou, year)] = UnitValue(_value(kpi, r, level), False, 1)
    return values


@lru_cache(maxsize=16)
def unit_world(day: int) -> UnitWorld:
    """The sample's units on `day` (>= 1); cached like generator.world."""
    if day < 1:
        raise ValueError(f"day must be >= 1, got {day}")
    units = list(seed_units())
    if day == 1:
        return UnitWorld(1, tuple(units), _day1())
    prev = unit_world(day - 1)
    values = dict(prev.values)
    r = rng_for("unit-changes", day)
    for key in sorted(values):
        v = values[key]
        if v.deleted:
            continue
        draw = r.random()
        if draw < DELETE_RATE:
            values[key] = UnitValue(None, True, day)
        elif draw < DELETE_RATE + REVISE_RATE:
            values[key] = UnitValue(_value(key[0], r, 0.0), False, day)
    if day == 2:
        for key, v in list(values.items()):
            if key[1] == CLOSED_UNIT and key[2] == LAST_YEAR_DAY1 and not v.deleted:
                values[key] = UnitValue(None, True, day)
        for kpi in NEW_YEAR_KPIS:
            for key in [k for k in prev.values if k[0] == kpi and k[2] == LAST_YEAR_DAY1]:
                if key[1] != CLOSED_UNIT:
                    rr = rng_for("unit-new-year", kpi, key[1])
                    values[(kpi, key[1], NEW_YEAR)] = UnitValue(_value(kpi, rr, 0.0), False, day)
    shown = [dict(u) for u in units if u["id"] != CLOSED_UNIT]
    for u in shown:
        if u["id"] == RENAMED_UNIT[0]:
            u["title"] = RENAMED_UNIT[1]
    return UnitWorld(day, tuple(shown), values)
