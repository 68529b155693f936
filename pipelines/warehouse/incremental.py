"""Full rebuild or incremental build: what a build can skip, decided from the event log.

The value chain's dbt models are incremental by KPI (dbt_project/macros/incremental.sql): an
incremental build recomputes every year of the KPIs that changed and keeps every other KPI's
rows. Which KPIs changed is read from the batch files that are new since the warehouse's last
successful build (its listing is recorded with its fingerprint, pipelines.operations.nights):
the KPI ids of the new value events (KPI_VALUE), the retitled or redefined KPIs of the KPI
metadata (KPI), and the KPIs that joined or left a republished KPI group (KPI_GROUP, e.g.
KKiK's).

An incremental build must equal a full rebuild of the same log (tests/test_incremental.py), so
every doubt is a full rebuild, with its reason said in the run's log and metadata:
- `build --full-refresh`, `build --as-of` (now or for the last build: another moment);
- no successful build recorded (the first build, or the last one failed or was killed half-way:
  a build forgets its record when it starts), or no warehouse file;
- the code or the config changed (the fingerprint's parts: dbt models, macros, seeds,
  expectations, the Python package, the scope file with networks and weights);
- a batch file of the last build is gone or changed (a quarantine): events left the log;
- new events in a stream that reaches every KPI's rows (municipalities, municipality groups:
  names, types, peer sets) or in a stream this module does not know (a new source is full until it is
  classified here).
Streams the value chain never reads (SCB population, units, assessments, initiatives) change
only table models, rebuilt whole when their stream has new events (the plan's
`changed_streams`, pipelines.warehouse.selection).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.eventlog.schema import UPSERTED
from pipelines.sources.initiatives.streams import INITIATIVE
from pipelines.sources.kolada.streams import KPI, KPI_GROUP, KPI_VALUE, OU, OU_VALUE
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.sources.scb.streams import POPULATION
from pipelines.warehouse.fingerprint import Fingerprint

# Stream -> how its entity_key names the KPI (the SQL expression over entity_key).
KPI_KEYED = {KPI_VALUE.name: "split_part(entity_key, '|', 1)", KPI.name: "entity_key"}
# KPI groups reach the value chain only through their member ids (int_kpis_curated: is_kkik):
# a republished group changes the rows of the KPIs that joined or left it, and no others.
GROUPS_OF_KPIS = KPI_GROUP.name
# Streams no incremental model reads (their models are tables, rebuilt whole when the stream has
# new events: pipelines.warehouse.selection).
OUTSIDE_VALUE_CHAIN = frozenset({POPULATION.name, OU.name, OU_VALUE.name, KOMMUNKOMPASSEN.name,
                                 INITIATIVE.name})

Listing = Mapping[str, Mapping[str, int]]  # stream -> batch file name -> size


@dataclass(frozen=True)
class BuildPlan:
    """`full_reason` None: incremental, recomputing `changed_kpis` only, and building only the
    models downstream of `changed_streams` (pipelines.warehouse.selection)."""

    full_reason: str | None
    changed_kpis: tuple[str, ...] = ()
    new_batch_files: int = 0
    changed_streams: tuple[str, ...] = ()

    @property
    def incremental(self) -> bool:
        return self.full_reason is None

    def summary(self, known_kpis: int | None = None) -> str:
        """One line for the run's log and the materializations' metadata."""
        if self.full_reason is not None:
            return f"full rebuild: {self.full_reason}"
        of = f" of {known_kpis}" if known_kpis is not None else ""
        return (f"incremental: {len(self.changed_kpis)}{of} KPIs recomputed "
                f"({self.new_batch_files} new batch files since the last build)")


def batch_listing(events_dir: Path) -> dict[str, dict[str, int]]:
    """Every batch file dbt reads, by stream: name -> size (the fingerprint's events part)."""
    listing: dict[str, dict[str, int]] = {}
    if events_dir.is_dir():
        for stream in sorted(p for p in events_dir.iterdir()
                             if p.is_dir() and not p.name.startswith(("_", "."))):
            listing[stream.name] = {b.name: b.stat().st_size
                                    for b in sorted(stream.glob("*.parquet"))}
    return listing


def plan_build(
    *,
    events_dir: Path,
    warehouse_path: Path,
    fingerprint: Fingerprint,
    listing: Listing,
    previous: Mapping[str, Any] | None,
    full_refresh: bool = False,
    as_of_requested: bool = False,
) -> BuildPlan:
    """Decide the path of a build from the warehouse's last successful build (`previous`, as
    recorded by pipelines.operations.nights.record_build, or None) and the log now."""
    if full_refresh:
        return BuildPlan("--full-refresh asked for")
    if as_of_requested:
        return BuildPlan("a build as of a requested moment (--as-of)")
    if previous is None:
        return BuildPlan("no successful build recorded (the first build, or the last one "
                         "failed or was interrupted)")
    if not warehouse_path.exists():
        return BuildPlan("no warehouse file")
    parts = previous.get("parts") or {}
    if parts.get("as_of_requested"):
        return BuildPlan("the last build was as of a requested moment (--as-of)")
    changed = [p for p in fingerprint.changed(parts) if p != "events"]
    if changed:
        return BuildPlan("changed since the last build: " + ", ".join(changed))
    before = previous.get("batches")
    if not isinstance(before, Mapping):
        return BuildPlan("the last build recorded no batch listing")
    new: dict[str, list[str]] = {}
    for stream, files in before.items():
        now = listing.get(stream, {})
        for name, size in files.items():
            if now.get(name) != size:
                return BuildPlan(f"batch file {stream}/{name} of the last build is gone or "
                                 "changed (quarantined?): events left the log")
    for stream, files in listing.items():
        added = sorted(set(files) - set(before.get(stream, {})))
        if not added:
            continue
        if stream not in KPI_KEYED and stream != GROUPS_OF_KPIS \
                and stream not in OUTSIDE_VALUE_CHAIN:
            return BuildPlan(f"new events in {stream}, which reach every KPI's rows")
        new[stream] = added
    kpis = _changed_kpis(events_dir, new)
    if new.get(GROUPS_OF_KPIS):
        kpis |= _changed_group_members(events_dir, before.get(GROUPS_OF_KPIS, {}),
                                       listing.get(GROUPS_OF_KPIS, {}), new[GROUPS_OF_KPIS])
    return BuildPlan(None, tuple(sorted(kpis)), sum(len(v) for v in new.values()),
                     tuple(sorted(new)))


def _changed_kpis(events_dir: Path, new: Mapping[str, list[str]]) -> set[str]:
    kpis: set[str] = set()
    with duckdb.connect() as con:
        for stream, expression in KPI_KEYED.items():
            files = [str(events_dir / stream / name) for name in new.get(stream, [])]
            if not files:
                continue
            # expression is a constant of this module; the files go in as a parameter
            rows = con.execute(
                "select distinct " + expression + " from read_parquet(?)", [files]).fetchall()
            kpis.update(str(row[0]) for row in rows if row[0] is not None)
    return kpis


def _changed_group_members(events_dir: Path, before: Mapping[str, int],
                           now: Mapping[str, int], new: list[str]) -> set[str]:
    """The member ids that differ between each republished group's state at the last build
    (its latest event in the files of that build) and now (a deleted group has no members)."""
    folder = events_dir / GROUPS_OF_KPIS
    with duckdb.connect() as con:
        keys = [r[0] for r in con.execute(
            "select distinct entity_key from read_parquet(?)",
            [[str(folder / name) for name in new]]).fetchall()]
        rows = con.execute(
            "select entity_key, event_type, payload, parse_filename(filename) as file "
            "from read_parquet(?, filename = true) where entity_key in (select unnest(?)) "
            "order by recorded_at, batch_id",
            [[str(folder / name) for name in sorted(now)], keys]).fetchall()
    old: dict[str, set[str]] = {}
    current: dict[str, set[str]] = {}
    for key, event_type, payload, file in rows:
        members = _member_ids(payload) if event_type == UPSERTED else set()
        current[key] = members
        if file in before:
            old[key] = members
    changed: set[str] = set()
    for key in keys:
        changed |= old.get(key, set()) ^ current.get(key, set())
    return changed


def _member_ids(payload: str | None) -> set[str]:
    members = json.loads(payload or "{}").get("members") or []
    return {str(m["member_id"]) for m in members if isinstance(m, Mapping) and "member_id" in m}


def known_kpi_count(warehouse_path: Path) -> int | None:
    """KPIs in the warehouse's fct_kpi_values before this build (for the log line), or None."""
    if not warehouse_path.exists():
        return None
    try:
        with duckdb.connect(str(warehouse_path), read_only=True) as con:
            row = con.execute("select count(distinct kpi_id) from main.fct_kpi_values").fetchone()
    except duckdb.Error:
        return None
    return int(row[0]) if row else None
