"""A deterministic, synthetic Kolada world for "day N" of a simulated publication history.

Why it exists: tests, the quick start and benchmarks need a Kolada that revises, deletes and
adds values over time, without the network. Ids, names and memberships are real public facts
from the seed (`reference.load_seed()`); every value, description and date is synthetic and
says so ("Syntetiskt exempeldata").

The arrays and their views live in world.py, the per-KPI profiles in profiles.py. Day N is
derived from day N-1 by a seeded set of changes, then diffed against it: the change log is
therefore *what the server answers differently*, not what the generator intended, and tests
can rely on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from pipelines.sample.profiles import (
    Profile,
    gender_divided,
    kpi_object,
    profile_for,
    rng_for,
    stable_seed,
)
from pipelines.sample.reference import Seed, load_seed
from pipelines.sample.units import KPI_KINDS, unit_world
from pipelines.sample.world import (
    ADDED,
    DELETED,
    FIRST_YEAR,
    GENDERS,
    NEW_YEAR,
    REVISED,
    UNCHANGED,
    YEARS,
    DayChanges,
    World,
)
from pipelines.sources.kolada.streams import KPI, KPI_GROUP, MUNICIPALITY, MUNICIPALITY_GROUP, OU

NULL_RATE = 0.03
REVISE_RATE = 0.005
DELETE_RATE = 0.001
NEW_YEAR_KPIS_DAY2 = 4
NEW_YEAR_KPIS_PER_DAY = 3


# -- day 1 ----------------------------------------------------------------------------------


def _kommun_values(kpi_id: str, profile: Profile, divided: bool, n: int) -> np.ndarray:
    """(n kommuner, years, genders) values: level + municipal effect + trend + noise."""
    r = rng_for("values", kpi_id)
    t = np.arange(len(YEARS), dtype=float) - (2020 - FIRST_YEAR)
    effect = r.normal(0.0, profile.spread, n)[:, None]
    slope = profile.trend + r.normal(0.0, abs(profile.trend) * 0.5 + profile.noise * 0.1, n)
    noise = r.normal(0.0, profile.noise, (n, len(YEARS)))
    out = np.full((n, len(YEARS), len(GENDERS)), np.nan)
    if profile.log:
        base = np.log(profile.level) + effect + slope[:, None] * t + noise
        total = np.exp(base)
    else:
        total = profile.level + effect + slope[:, None] * t + noise
    out[:, :, 0] = total
    if divided:
        gap = r.normal(0.0, profile.spread * 0.5) + r.normal(0.0, profile.noise, (n, len(YEARS)))
        out[:, :, 1] = total + gap / 2
        out[:, :, 2] = total - gap / 2
    out = np.round(np.clip(out, profile.lo, profile.hi), profile.decimals)
    nulls = r.random(out.shape) < NULL_RATE
    out[nulls] = np.nan
    return out


def _release_day(kpi_ids: Sequence[str]) -> dict[str, int]:
    """The day on which year NEW_YEAR appears for each KPI: a handful on day 2, then more.

    The KPI retitled on day 2 is among them: Kolada publishes the first year of a redefined
    series together with the new title, so day 2 shows a series break in the scorecard.
    """
    retitled = retitled_kpi()
    order = sorted((k for k in kpi_ids if k != retitled),
                   key=lambda k: stable_seed("release", NEW_YEAR, k))
    days: dict[str, int] = {retitled: 2} if retitled in kpi_ids else {}
    for rank, kpi_id in enumerate(order):
        if rank < NEW_YEAR_KPIS_DAY2:
            days[kpi_id] = 2
        else:
            days[kpi_id] = 3 + (rank - NEW_YEAR_KPIS_DAY2) // NEW_YEAR_KPIS_PER_DAY
    return days


@dataclass(frozen=True)
class _Static:
    """Day-independent parts: the seed, profiles and the kommun -> aggregate membership."""

    seed: Seed
    kpi_ids: tuple[str, ...]
    unit_ids: tuple[str, ...]
    profiles: tuple[Profile, ...]
    divided: frozenset[str]
    n_aggregates: int
    membership: np.ndarray  # (kommuner, aggregates): Riket + the region of each kommun
    gender_valid: np.ndarray  # (kpis, genders)
    release_day: np.ndarray  # (kpis,)
    base: np.ndarray  # day-1 kommun values incl. the not yet published year


@lru_cache(maxsize=1)
def _static() -> _Static:
    seed = load_seed()
    kpi_ids = tuple(k["id"] for k in seed.kpis)
    unit_ids = tuple(m["id"] for m in seed.municipalities)
    types = [m["type"] for m in seed.municipalities]
    n_agg = sum(1 for t in types if t != "K")
    if any(t != "K" for t in types[n_agg:]) or any(t == "K" for t in types[:n_agg]):
        raise ValueError("seed municipalities must sort aggregates (00xx) before kommuner")
    kommuner = unit_ids[n_agg:]
    agg_index = {u: i for i, u in enumerate(unit_ids[:n_agg])}
    membership = np.zeros((len(kommuner), n_agg))
    membership[:, agg_index["0000"]] = 1.0
    for i, kommun in enumerate(kommuner):
        membership[i, agg_index[f"00{kommun[:2]}"]] = 1.0  # län code = first two digits
    profiles = tuple(profile_for(k["id"], k["title"]) for k in seed.kpis)
    divided = gender_divided(seed.kpis)
    gender_valid = np.zeros((len(kpi_ids), len(GENDERS)), dtype=bool)
    gender_valid[:, 0] = True
    base = np.stack([
        _kommun_values(k, p, k in divided, len(kommuner))
        for k, p in zip(kpi_ids, profiles, strict=True)
    ])
    for i, k in enumerate(kpi_ids):
        gender_valid[i, 1:] = k in divided
    release = _release_day(kpi_ids)
    return _Static(seed, kpi_ids, unit_ids, profiles, divided, n_agg, membership, gender_valid,
                   np.array([release[k] for k in kpi_ids]), base)


def _aggregate(st: _Static, exists: np.ndarray, deleted: np.ndarray, value: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Riket and regions: unweighted means of their kommuner's live non-null values."""
    n = st.n_aggregates
    live = exists[:, n:] & ~deleted[:, n:]
    vals = np.where(live, value[:, n:], np.nan)
    known = ~np.isnan(vals)
    sums = np.einsum("kmyg,ma->kayg", np.where(known, vals, 0.0), st.membership)
    counts = np.einsum("kmyg,ma->kayg", known.astype(float), st.membership)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    for i, p in enumerate(st.profiles):
        mean[i] = np.round(mean[i], p.decimals + 1)
    agg_exists = np.broadcast_to(exists[:, n:].any(axis=1, keepdims=True), mean.shape)
    return agg_exists, mean, counts.astype(np.int32)


def _metadata(st: _Static, day: int) -> dict[str, tuple[dict[str, Any], ...]]:
    titles = {k["id"]: k["title"] for k in st.seed.kpis}
    if day >= 2:
        kpi_id = retitled_kpi()
        titles[kpi_id] = _new_title(titles[kpi_id])
    kpis = tuple(
        {**kpi_object(k, k["id"] in st.divided, p), "title": titles[k["id"]],
         **({"has_ou_data": True} if k["id"] in KPI_KINDS else {})}  # the sample's unit KPIs
        for k, p in zip(st.seed.kpis, st.profiles, strict=True)
    )
    groups = tuple(
        {"id": g["id"], "title": g["title"],
         "members": [{"member_id": m["member_id"], "member_title": titles[m["member_id"]]}
                     for m in g["members"]]}
        for g in st.seed.kpi_groups
    )
    munis = tuple(dict(m) for m in st.seed.municipalities)
    muni_groups = tuple(
        {"id": g["id"], "title": g["title"], "members": [dict(m) for m in g["members"]]}
        for g in st.seed.municipality_groups
    )
    return {KPI.name: kpis, KPI_GROUP.name: groups, MUNICIPALITY.name: munis,
            MUNICIPALITY_GROUP.name: muni_groups}


def retitled_kpi() -> str:
    """The KPI whose title changes on day 2 (a single stable pick among titles with a unit)."""
    seed = load_seed()
    candidates = sorted((k["id"] for k in seed.kpis if ", " in k["title"]),
                        key=lambda k: stable_seed("retitle", k))
    return candidates[0]


def _new_title(title: str) -> str:
    head, _, unit = title.rpartition(", ")
    return f"{head} (ny definition), {unit}"


def _metadata_diff(before: Mapping[str, Sequence[dict[str, Any]]],
                   after: Mapping[str, Sequence[dict[str, Any]]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for stream, objects in after.items():
        old = {o["id"]: json.dumps(o, sort_keys=True) for o in before.get(stream, ())}
        new = {o["id"]: json.dumps(o, sort_keys=True) for o in objects}
        out[stream] = sum(1 for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return out


# -- day N ----------------------------------------------------------------------------------


def _pick_pairs(r: np.random.Generator, eligible: np.ndarray) -> np.ndarray:
    """(kpi, year) pairs in a seeded random order, from a (kpis, years) bool mask."""
    pairs = np.argwhere(eligible)
    return pairs[r.permutation(len(pairs))]


def _apply_changes(st: _Static, day: int, exists: np.ndarray, deleted: np.ndarray,
                   value: np.ndarray) -> None:
    """Revise and delete kommun values in place, clustered in a few (kpi, year) pairs the
    way a corrected delivery would be; publish the new year for the KPIs due today."""
    n = st.n_aggregates
    r = rng_for("changes", day)
    total = int((exists & ~deleted).sum())
    k_exists, k_deleted, k_value = exists[:, n:], deleted[:, n:], value[:, n:]
    live = k_exists & ~k_deleted  # (kpis, kommuner, years, genders)
    live_rows = live.any(axis=3)  # (kpis, kommuner, years)
    pairs = _pick_pairs(r, live_rows.any(axis=1))
    cursor = 0

    target = max(1, round(DELETE_RATE * total))
    done = 0
    while done < target and cursor < len(pairs):
        k, y = pairs[cursor]
        cursor += 1
        rows = np.flatnonzero(live_rows[k, :, y])
        chosen = rows[r.random(len(rows)) < r.uniform(0.15, 0.4)]
        if len(chosen) == 0:
            continue
        cells = live[k][chosen, y]  # (chosen, genders)
        cells_needed = np.cumsum(cells.sum(axis=1))
        chosen = chosen[: int(np.searchsorted(cells_needed, target - done)) + 1]
        k_deleted[k, chosen, y] |= live[k][chosen, y]
        k_value[k, chosen, y] = np.where(live[k][chosen, y], np.nan, k_value[k, chosen, y])
        done += int(live[k][chosen, y].sum())

    target = max(1, round(REVISE_RATE * total))
    done = 0
    while done < target and cursor < len(pairs):
        k, y = pairs[cursor]
        cursor += 1
        p = st.profiles[k]
        old = k_value[k, :, y]  # (kommuner, genders)
        mask = live[k][:, y] & ~np.isnan(old)
        mask &= (r.random(mask.shape[0]) < r.uniform(0.3, 0.7))[:, None]
        mask_count = int(mask.sum())
        if mask_count == 0:
            continue
        step = 10.0 ** -p.decimals
        delta = np.round(old[mask] * r.normal(0.0, 0.03, mask_count), p.decimals)
        sign = np.where(r.random(mask_count) < 0.5, -1.0, 1.0)
        delta = np.where(np.abs(delta) < step, sign * step, delta)
        new = old[mask] + delta
        new = np.where(new > p.hi, old[mask] - np.abs(delta), new)
        new = np.where(new < p.lo, old[mask] + np.abs(delta), new)
        revised = old.copy()
        revised[mask] = np.round(new, p.decimals)
        k_value[k, :, y] = revised
        done += mask_count

    due = st.release_day == day
    if due.any():
        y = YEARS.index(NEW_YEAR)
        k_exists[due, :, y, :] = st.gender_valid[due][:, None, :]


def _assemble(st: _Static, day: int, k_exists: np.ndarray, k_deleted: np.ndarray,
              k_value: np.ndarray) -> tuple[np.ndarray, ...]:
    """Full (kpi, unit, year, gender) arrays: aggregates computed from the kommun block."""
    n = st.n_aggregates
    shape = (len(st.kpi_ids), len(st.unit_ids), len(YEARS), len(GENDERS))
    exists = np.zeros(shape, dtype=bool)
    deleted = np.zeros(shape, dtype=bool)
    value = np.full(shape, np.nan)
    count = np.ones(shape, dtype=np.int32)
    exists[:, n:] = k_exists
    deleted[:, n:] = k_deleted
    value[:, n:] = k_value
    agg_exists, mean, counts = _aggregate(st, exists, deleted, value)
    exists[:, :n] = agg_exists
    value[:, :n] = mean
    count[:, :n] = counts
    return exists, deleted, value, count


@lru_cache(maxsize=32)
def world(day: int) -> World:
    """The sample Kolada on `day` (>= 1); cached, since server and tests ask repeatedly."""
    if day < 1:
        raise ValueError(f"day must be >= 1, got {day}")
    st = _static()
    meta = _metadata(st, day)
    n = st.n_aggregates
    if day == 1:
        k_exists = np.broadcast_to(st.gender_valid[:, None, None, :], st.base.shape).copy()
        k_exists[:, :, YEARS.index(NEW_YEAR), :] = False
        k_deleted = np.zeros_like(k_exists)
        k_value = st.base.copy()
        exists, deleted, value, count = _assemble(st, day, k_exists, k_deleted, k_value)
        changed_day = np.where(exists, 1, 0).astype(np.int16)
        change_kind = np.where(exists, ADDED, UNCHANGED).astype(np.int8)
        added = int(exists.sum())
        changes = DayChanges(1, added, 0, 0, {s: len(o) for s, o in meta.items()})
    else:
        prev = world(day - 1)
        k_exists = prev.exists[:, n:].copy()
        k_deleted = prev.deleted[:, n:].copy()
        k_value = prev.value[:, n:].copy()
        _apply_changes(st, day, k_exists, k_deleted, k_value)
        exists, deleted, value, count = _assemble(st, day, k_exists, k_deleted, k_value)
        was_live = prev.exists & ~prev.deleted
        is_added = exists & ~prev.exists
        is_deleted = was_live & deleted
        same_value = (value == prev.value) | (np.isnan(value) & np.isnan(prev.value))
        is_revised = was_live & ~deleted & ~(same_value & (count == prev.count))
        kind = np.select([is_added, is_revised, is_deleted], [ADDED, REVISED, DELETED], 0)
        touched = kind != UNCHANGED
        changed_day = np.where(touched, day, prev.changed_day).astype(np.int16)
        change_kind = np.where(touched, kind, prev.change_kind).astype(np.int8)
        prev_meta = {s: getattr(prev, a) for s, a in _META_ATTRS.items()}
        diff = _metadata_diff(prev_meta, meta)
        retitled = tuple(
            k["id"] for k, old in zip(meta[KPI.name], prev.kpis, strict=True)
            if k["title"] != old["title"]
        )
        changes = DayChanges(day, int(is_added.sum()), int(is_revised.sum()),
                             int(is_deleted.sum()), diff, retitled)
    # the units (pipelines/sample/units.py) are served beside this world: their changes too
    units_after = {OU.name: unit_world(day).units}
    units_before = {OU.name: unit_world(day - 1).units} if day > 1 else {}
    changes = DayChanges(changes.day, changes.added, changes.revised, changes.deleted,
                         {**changes.metadata, **_metadata_diff(units_before, units_after)},
                         changes.retitled_kpis)
    for array in (exists, deleted, value, count, changed_day, change_kind):
        array.flags.writeable = False  # shared between server threads and tests
    return World(
        day=day, kpi_ids=st.kpi_ids, unit_ids=st.unit_ids,
        kpis=meta[KPI.name], kpi_groups=meta[KPI_GROUP.name],
        municipalities=meta[MUNICIPALITY.name],
        municipality_groups=meta[MUNICIPALITY_GROUP.name],
        exists=exists, deleted=deleted, value=value, count=count,
        changed_day=changed_day, change_kind=change_kind, changes=changes,
    )


_META_ATTRS = {KPI.name: "kpis", KPI_GROUP.name: "kpi_groups",
               MUNICIPALITY.name: "municipalities",
               MUNICIPALITY_GROUP.name: "municipality_groups"}
