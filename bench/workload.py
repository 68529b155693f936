"""The bench world: a deterministic Kolada-v3 world of N KPIs x 312 units x 20 years.

Why built from the sample world: its 52 KPIs carry real ids, titles, KKiK membership and
plausible value profiles that the dbt models, their tests and the GX suites accept. The bench
tiles it: KPI i copies sample KPI i % 52 (beyond the 52 real ones, under a generated id
`N9xxxx` with seeded noise, gathered in the KPI group `GBENCH`), and year j copies the sample's
published year j % 9. Nothing here depends on the clock or on hash randomisation.

The world also knows the *states* the bench steps through: `base`, `rev1` (1 % of values
revised), then 30 nights (night01 reverts rev1, then 14 pairs of a 0.2 % revision and its
revert, and a night with no change), so that after the last night the state is `base` again
and a full re-ingest is again a no-change one. A state's `delta` is what a `from_date` query
answers in it: the cells changed against the state before.

After those come the *realistic nights* `real01`..`real10`, each against the one before,
starting from `base`: Kolada publishes a new year for some KPIs and revises a few others, so
each night publishes the world's new year (`NEW_YEAR`, asked for by the scope but empty in
`base`) for another 5 % of the KPIs and revises 10 % of the last two published years of 1 %
of the other KPIs. Why not spread revisions evenly (as `rev1` does): an incremental build's
cost follows the KPIs a night touches, and Kolada's nights touch few.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from pipelines.sample.generator import world as sample_world
from pipelines.sample.units import seed_units
from pipelines.sample.world import GENDERS
from pipelines.sources.kolada.client import chunked

GENERATOR_VERSION = 3  # bump when the world or the page layout changes: the cache is keyed on it
SEED = 20261203
YEARS = tuple(range(2006, 2026))
GENERATED_GROUP = "GBENCH"
WORKLOADS = {"S": 52, "M": 500}  # KPIs; S is the sample's 52 real KPIs ("about 50")
REV1_FRACTION = 0.01
NIGHT_FRACTION = 0.002
NIGHTS = 30
NEW_YEAR = YEARS[-1] + 1  # in the scope, published by the realistic nights only
REALISTIC_NIGHTS = 10
NEW_YEAR_KPI_FRACTION = 0.05
REVISED_KPI_FRACTION = 0.01
REVISED_CELL_FRACTION = 0.10


@dataclass(frozen=True)
class State:
    """One state of the served world: its values, and the cells a from_date query returns."""

    name: str
    value: np.ndarray  # (kpis, units, years, genders)
    delta: np.ndarray  # bool, same shape: changed against the state before


@dataclass(frozen=True, eq=False)
class BenchWorld:
    kpi_ids: tuple[str, ...]  # sorted, as the client asks for them
    unit_ids: tuple[str, ...]  # sorted
    years: tuple[int, ...]
    value: np.ndarray  # float64 (kpis, units, years, genders); NaN = null value
    count: np.ndarray  # int32, same shape
    live: np.ndarray  # bool, same shape: the value exists (full answers carry it)
    # bool, same shape: the new year's values, published by the realistic nights (not in base)
    pending: np.ndarray | None = None
    metadata: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def value_count(self) -> int:
        return int(self.live.sum())

    @property
    def row_count(self) -> int:
        return int(self.live.any(axis=3).sum())

    def chunk_plan(self) -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]]:
        """The client's request plan for this scope (client.KoladaClient.values chunks it so)."""
        return [(k, u, y) for k in chunked(self.kpi_ids) for u in chunked(self.unit_ids)
                for y in chunked(self.years)]

    def index_of(self, kpis: tuple[str, ...], units: tuple[str, ...]
                 ) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([self._kpi_pos[k] for k in kpis], dtype=np.intp),
                np.array([self._unit_pos[u] for u in units], dtype=np.intp))

    @cached_property
    def _kpi_pos(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.kpi_ids)}

    @cached_property
    def _unit_pos(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.unit_ids)}

    def states(self) -> Iterator[State]:
        """base, rev1, night01..night30 (see the module docstring), computed lazily."""
        base = self.value
        nothing = np.zeros(base.shape, dtype=bool)
        yield State("base", base, nothing)
        rev_mask, rev_value = self._revised(REV1_FRACTION, salt=1)
        yield State("rev1", rev_value, rev_mask)
        yield State("night01", base, rev_mask)
        for pair in range(14):
            mask, value = self._revised(NIGHT_FRACTION, salt=100 + pair)
            yield State(f"night{2 + 2 * pair:02d}", value, mask)
            yield State(f"night{3 + 2 * pair:02d}", base, mask)
        yield State(f"night{NIGHTS:02d}", base, nothing)
        yield from self._realistic_nights()

    def _realistic_nights(self) -> Iterator[State]:
        """real01..real10: each publishes the new year for another slice of the KPIs and
        revises a few other KPIs' last two published years, against the night before."""
        if self.pending is None:
            return
        n_kpis = len(self.kpi_ids)
        rng = np.random.default_rng([SEED, 7])
        order = rng.permutation(n_kpis)
        per_night = max(1, round(NEW_YEAR_KPI_FRACTION * n_kpis))
        revised_per_night = max(1, round(REVISED_KPI_FRACTION * n_kpis))
        value = self.value.copy()
        for night in range(1, REALISTIC_NIGHTS + 1):
            delta = np.zeros(value.shape, dtype=bool)
            new = order[((night - 1) * per_night) % n_kpis:][:per_night]
            delta[new] = self.pending[new]
            others = np.setdiff1d(np.arange(n_kpis), new)
            for k in rng.choice(others, size=min(revised_per_night, others.size),
                                replace=False):
                cells = self.live[k] & ~np.isnan(value[k])
                cells[:, :-3] = False  # the last two published years (the new year is last)
                cells[:, -1] = False
                chosen = np.flatnonzero(cells)
                if chosen.size == 0:
                    continue
                picked = rng.choice(chosen, size=max(1, round(REVISED_CELL_FRACTION *
                                                               chosen.size)), replace=False)
                mask = np.zeros(cells.size, dtype=bool)
                mask[picked] = True
                mask = mask.reshape(cells.shape)
                old = value[k][mask]
                value[k][mask] = np.round(np.where(old >= 0.1, old - 0.1, old + 0.1), 6)
                delta[k] |= mask
            yield State(f"real{night:02d}", value.copy(), delta)

    def _revised(self, fraction: float, salt: int) -> tuple[np.ndarray, np.ndarray]:
        """`fraction` of the non-null live values, each moved by 0.1 (a revision, never a no-op)."""
        rng = np.random.default_rng([SEED, salt])
        candidates = np.flatnonzero(self.live & ~np.isnan(self.value))
        chosen = rng.choice(candidates, size=max(1, round(fraction * candidates.size)),
                            replace=False)
        mask = np.zeros(self.value.size, dtype=bool)
        mask[chosen] = True
        mask = mask.reshape(self.value.shape)
        value = self.value.copy()
        old = value[mask]
        value[mask] = np.round(np.where(old >= 0.1, old - 0.1, old + 0.1), 6)
        return mask, value


def build_world(n_kpis: int, *, years: tuple[int, ...] = YEARS, n_units: int | None = None,
                new_year: int | None = NEW_YEAR) -> BenchWorld:
    """The bench world of `n_kpis` KPIs (and the first `n_units` units, for tiny tests).

    `new_year` (when not None) joins the years the scope asks for, empty in every state but
    the realistic nights, which publish it KPI by KPI."""
    if new_year is not None:
        years = (*years, new_year)
    sample = sample_world(1)
    real = sample.kpi_ids
    ids = list(real[:n_kpis]) + [f"N9{i:04d}" for i in range(max(0, n_kpis - len(real)))]
    src_k = np.arange(len(ids)) % len(real)
    units = np.arange(len(sample.unit_ids) if n_units is None else n_units)
    published = [j for j in range(sample.exists.shape[2]) if sample.exists[:, :, j].any()]
    src_y = np.array([published[j % len(published)] for j in range(len(years))])
    block = np.ix_(src_k, units, src_y)
    live = sample.exists[block] & ~sample.deleted[block]
    value = sample.value[block].copy()
    count = sample.count[block].astype(np.int32)
    _perturb_generated(value, len(real))
    pending = None
    if new_year is not None:  # the new year is the last: kept aside, not live in base
        pending = np.zeros(live.shape, dtype=bool)
        pending[:, :, -1] = live[:, :, -1]
        live[:, :, -1] = False
    order = np.argsort(ids, kind="stable")
    sorted_ids = tuple(ids[i] for i in order)
    unit_ids = tuple(sample.unit_ids[i] for i in units)
    w = BenchWorld(sorted_ids, unit_ids, tuple(years), value[order], count[order], live[order],
                   None if pending is None else pending[order])
    w.metadata.update(_metadata(sample, ids, src_k, unit_ids))
    return w


def _perturb_generated(value: np.ndarray, n_real: int) -> None:
    """Generated KPIs get seeded noise within their source KPI's range, so that no two KPIs
    carry identical series (identical columns would flatter compression and caches)."""
    rng = np.random.default_rng(SEED)
    for i in range(n_real, value.shape[0]):
        source = value[i]
        finite = source[~np.isnan(source)]
        if finite.size == 0:
            continue
        lo, hi = float(finite.min()), float(finite.max())
        decimals = 0 if np.all(finite == np.round(finite)) else 1
        noisy = source + rng.normal(0.0, max(finite.std(), 1e-9) * 0.05, source.shape)
        value[i] = np.round(np.clip(noisy, lo, hi), decimals)


def _metadata(sample: Any, ids: list[str], src_k: np.ndarray, unit_ids: tuple[str, ...]
              ) -> dict[str, list[dict[str, Any]]]:
    real = {k["id"]: k for k in sample.kpis}
    kpis: list[dict[str, Any]] = []
    generated: list[dict[str, Any]] = []
    for kpi_id, src in zip(ids, src_k.tolist(), strict=True):
        if kpi_id in real:
            kpis.append(dict(real[kpi_id]))
            continue
        source = sample.kpis[src]
        title = f"Syntetiskt bench-mått {kpi_id} (kopia av {source['id']})"
        kpis.append({**source, "id": kpi_id, "title": title})
        generated.append({"member_id": kpi_id, "member_title": title})
    groups = [dict(g) for g in sample.kpi_groups]
    if generated:
        groups.append({"id": GENERATED_GROUP, "title": "Bench: genererade mått",
                       "members": generated})
    wanted = set(unit_ids)
    return {
        "kpi": sorted(kpis, key=lambda k: k["id"]),
        "kpi_groups": groups,
        "municipality": [dict(m) for m in sample.municipalities if m["id"] in wanted],
        "municipality_groups": [dict(g) for g in sample.municipality_groups],
        # the unit metadata stream is always fetched; the sample's real units (the bench's
        # scope asks for no unit values: the unit workload is bench/units.py's)
        "ou": [dict(u) for u in seed_units()],
    }


def rows_of(w: BenchWorld, value: np.ndarray, mask: np.ndarray, kpis: tuple[str, ...],
            units: tuple[str, ...]) -> list[dict[str, Any]]:
    """v3 data rows of one chunk (all of the world's years) where `mask` holds, in key order."""
    ki, ui = w.index_of(kpis, units)
    sub = mask[np.ix_(ki, ui)]
    rk, ru, ry = np.nonzero(sub.any(axis=3))
    k, u = ki[rk], ui[ru]
    values = value[k, u, ry].tolist()
    counts = w.count[k, u, ry].tolist()
    shown = sub[rk, ru, ry].tolist()
    kpi_ids, unit_ids, years = w.kpi_ids, w.unit_ids, w.years
    out = []
    for i, (kk, uu, yy) in enumerate(zip(k.tolist(), u.tolist(), ry.tolist(), strict=True)):
        v, c, s = values[i], counts[i], shown[i]
        items = [{"gender": GENDERS[g], "count": c[g], "status": "",
                  "value": None if v[g] != v[g] else v[g], "isdeleted": False}
                 for g in range(len(GENDERS)) if s[g]]
        out.append({"kpi": kpi_ids[kk], "municipality": unit_ids[uu], "period": years[yy],
                    "values": items})
    return out
