"""Synthetic SCB population by single year of age, for the sample SCB server.

Real unit codes (the seed's kommuner, län and Riket), generated numbers ("Syntetiskt
exempeldata"). Each kommun gets a size from the sample Kolada world's N01951 (so the two
sources roughly agree), a growth rate and an age profile of its own (a young suburb, an old
rural kommun); län and Riket are sums of their kommuner, as at SCB. From day 2 on a few
kommuner's latest year is revised, so re-ingesting shows SCB revisions in the event log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from pipelines.sample.profiles import rng_for
from pipelines.sample.reference import load_seed

YEARS = tuple(range(2016, 2025))  # 31 December of each; 2025 is not yet published
AGES = (*(str(a) for a in range(100)), "100+")
REVISED_KOMMUNER_PER_DAY = 6
FIRST_UPDATED = date(2025, 2, 21)  # SCB publishes the year-end population in February


@dataclass(frozen=True, eq=False)
class PopulationWorld:
    day: int
    regions: tuple[str, ...]  # SCB codes: 00, 01-25, then kommuner
    region_names: dict[str, str]
    counts: np.ndarray  # (regions, years, ages) int64
    updated: str

    def index(self, codes: list[str], known: tuple[str, ...]) -> list[int]:
        lookup = {c: i for i, c in enumerate(known)}
        return [lookup[c] for c in codes]


def _age_weights(young: float, old: float) -> np.ndarray:
    ages = np.arange(101, dtype=float)
    base = np.where(ages < 65, 1.0, np.exp(-(ages - 65) / 12.0))
    base = base * np.where(ages < 20, young, 1.0) * np.where(ages >= 65, old, 1.0)
    base[100] = base[99] * 0.5  # 100+ is a small open-ended group
    return base / base.sum()


def _kommun_sizes(kommuner: tuple[str, ...]) -> np.ndarray:
    from pipelines.sample.generator import world

    w = world(1)
    sizes = np.full(len(kommuner), 15_000.0)
    if "N01951" in w.kpi_ids:
        k = w.kpi_ids.index("N01951")
        year = w_year_index(2024)
        unit_index = {u: i for i, u in enumerate(w.unit_ids)}
        for i, kommun in enumerate(kommuner):
            v = w.value[k, unit_index[kommun], year, 0]
            if np.isfinite(v) and v > 1000:
                sizes[i] = v
    return sizes


def w_year_index(year: int) -> int:
    from pipelines.sample.world import YEARS as WORLD_YEARS

    return WORLD_YEARS.index(year)


@lru_cache(maxsize=1)
def _day1() -> tuple[tuple[str, ...], dict[str, str], np.ndarray]:
    seed = load_seed()
    kommuner = seed.kommuner
    names = {m["id"]: m["title"] for m in seed.municipalities}
    aggregates = [m["id"] for m in seed.municipalities if m["type"] != "K"]
    sizes = _kommun_sizes(kommuner)
    counts = np.zeros((len(kommuner), len(YEARS), len(AGES)), dtype=np.int64)
    t = np.arange(len(YEARS)) - (len(YEARS) - 1)
    for i, kommun in enumerate(kommuner):
        r = rng_for("scb-population", kommun)
        young, old = r.uniform(0.8, 1.25), r.uniform(0.7, 1.5)
        growth = r.normal(0.006, 0.008)
        for j, step in enumerate(t):
            total = sizes[i] * (1 + growth) ** step
            shift = 1 + 0.01 * step  # ageing: the old share creeps up over the years
            counts[i, j] = np.round(total * _age_weights(young, old * shift))
    regions = ["00", *sorted(a[2:] for a in aggregates if a != "0000"), *kommuner]
    agg = np.zeros((len(regions) - len(kommuner), len(YEARS), len(AGES)), dtype=np.int64)
    scb_names = {code: names.get(f"00{code}" if len(code) == 2 else code, code)
                 for code in regions}
    everything = np.concatenate([agg, counts])
    _sum_aggregates(tuple(regions), everything, len(agg))
    return tuple(regions), scb_names, everything


@lru_cache(maxsize=16)
def population_world(day: int) -> PopulationWorld:
    if day < 1:
        raise ValueError("day must be at least 1")
    regions, names, counts = _day1()
    counts = counts.copy()
    n_agg = sum(1 for c in regions if len(c) == 2)
    for d in range(2, day + 1):
        r = rng_for("scb-population-revision", d)
        for i in r.choice(np.arange(n_agg, len(regions)), REVISED_KOMMUNER_PER_DAY,
                          replace=False):
            ages = r.choice(len(AGES), 3, replace=False)
            counts[i, -1, ages] += r.integers(1, 20, 3)
    _sum_aggregates(regions, counts, n_agg)
    updated = (FIRST_UPDATED + timedelta(days=day - 1)).isoformat() + "T07:00:00Z"
    return PopulationWorld(day, regions, names, counts, updated)


def _sum_aggregates(regions: tuple[str, ...], counts: np.ndarray, n_agg: int) -> None:
    """Riket and each län are the sums of their kommuner (in place)."""
    kommun_rows = np.arange(n_agg, len(regions))
    counts[0] = counts[kommun_rows].sum(axis=0)
    for n in range(1, n_agg):
        members = [i for i in kommun_rows if regions[i][:2] == regions[n]]
        counts[n] = counts[members].sum(axis=0)
