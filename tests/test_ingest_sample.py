"""Ingestion (pipelines/sources/kolada/ingest.py) against the sample server: idempotent, exact about what
changed, and incremental ingestion ends in the same state as a full one."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.eventlog.schema import UPSERTED
from pipelines.eventlog.store import EventLog, SnapshotScope
from pipelines.sample.generator import world
from pipelines.sample.server import SampleKoladaServer
from pipelines.sample.world import NEW_YEAR
from pipelines.scope import IngestScope
from pipelines.sources.kolada.client import KoladaClient
from pipelines.sources.kolada.ingest import (
    IngestReport,
    incremental_from_date,
    ingest_metadata,
    ingest_values,
    resolve_kpis,
    resolve_municipalities,
    value_scope_fingerprint,
)
from pipelines.sources.kolada.streams import KPI_VALUE, METADATA_STREAMS

ALL_SINGLE_KPIS = tuple(k for k in world(1).kpi_ids if k not in
                        {m["member_id"] for g in world(1).kpi_groups for m in g["members"]})
SCOPE = IngestScope(kpi_groups=("GKPI118",), kpis=ALL_SINGLE_KPIS, kpi_themes={},
                    municipalities="all", years=tuple(range(2016, NEW_YEAR + 1)), networks=())


def quiet(_: str) -> None:
    """Progress lines are not under test here."""


@dataclass
class DayIngest:
    metadata: dict[str, IngestReport]
    values: IngestReport


def ingest_day(log: EventLog, day: int, *, scope: IngestScope = SCOPE, full: bool = True,
               epoch: date | None = None, metadata: bool = True) -> DayIngest:
    with (SampleKoladaServer(day=day, epoch=epoch) as server,
          KoladaClient(server.base_url, max_rps=1000.0, backoff_base=0.01) as client):
        meta = {s.name: ingest_metadata(s, client, log, run_id=f"day{day}run", progress=quiet)
                for s in METADATA_STREAMS} if metadata else {}
        values = ingest_values(client, log, scope, run_id=f"day{day}run", full=full,
                               progress=quiet)
    return DayIngest(meta, values)


def copy_log(log: EventLog, target: Path) -> EventLog:
    shutil.copytree(log.events_dir, target / "events")
    return EventLog(target / "events")


def live_state(log: EventLog) -> set[tuple[str, str]]:
    """(entity_key, payload_hash) of every live value: the state the marts would see."""
    with duckdb.connect() as con:
        rows = con.execute(f"""
            select entity_key, event_type, payload_hash from read_parquet('{log.glob(KPI_VALUE)}')
            qualify row_number() over (partition by entity_key
                                       order by recorded_at desc, batch_id desc) = 1
        """).fetchall()
    return {(key, h) for key, kind, h in rows if kind == UPSERTED}


@pytest.fixture(scope="module")
def day1(tmp_path_factory: pytest.TempPathFactory) -> tuple[EventLog, DayIngest]:
    log = EventLog(tmp_path_factory.mktemp("day1") / "events")
    return log, ingest_day(log, 1)


@pytest.fixture(scope="module")
def day2_full(day1: tuple[EventLog, DayIngest], tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[EventLog, DayIngest]:
    log = copy_log(day1[0], tmp_path_factory.mktemp("day2full"))
    return log, ingest_day(log, 2)


def test_ingest_day1_appends_every_value_and_metadata_object(
        day1: tuple[EventLog, DayIngest]) -> None:
    log, report = day1
    assert report.values.result.appended == world(1).value_count
    assert report.values.result.deleted == 0
    assert {s: r.result.appended for s, r in report.metadata.items()} == \
        dict(world(1).changes.metadata)
    assert len(resolve_kpis(SCOPE, log)) == len(world(1).kpi_ids)
    assert len(resolve_municipalities(SCOPE, log)) == 312


def test_ingest_identical_day_again_appends_zero_events(
        day1: tuple[EventLog, DayIngest], tmp_path: Path) -> None:
    log = copy_log(day1[0], tmp_path)
    again = ingest_day(log, 1)
    assert again.values.result.appended == 0
    assert again.values.result.unchanged == world(1).value_count
    assert all(r.result.appended == 0 for r in again.metadata.values())


def test_ingest_day2_appends_exactly_the_generated_changes(
        day2_full: tuple[EventLog, DayIngest]) -> None:
    _, report = day2_full
    changes = world(2).changes
    result = report.values.result
    assert (result.upserted, result.deleted) == (changes.added + changes.revised,
                                                 changes.deleted)
    assert {s: r.result.appended for s, r in report.metadata.items()} == \
        dict(changes.metadata)


def test_ingest_incremental_day2_reaches_the_same_state_as_full(
        day1: tuple[EventLog, DayIngest], day2_full: tuple[EventLog, DayIngest],
        tmp_path: Path) -> None:
    log = copy_log(day1[0], tmp_path)
    kpis, units = resolve_kpis(SCOPE, log), resolve_municipalities(SCOPE, log)
    since = incremental_from_date(log, value_scope_fingerprint(kpis, units, list(SCOPE.years)))
    assert since is not None
    # The served day's date is the from_date the ingest will ask for: only day 2's changes.
    report = ingest_day(log, 2, full=False, epoch=since, metadata=False).values
    assert report.mode == "incremental" and report.from_date == since
    assert report.result.received == world(2).changes.values_changed
    assert live_state(log) == live_state(day2_full[0])


def test_ingest_incremental_with_a_day_of_overlap_reaches_the_same_state(tmp_path: Path
                                                                         ) -> None:
    # A smaller scope (the KPIs day 2 touches) keeps this affordable: three ingests.
    changed = sorted({world(2).kpi_ids[k] for k in world(2).select(since_day=2).cells[0]})
    scope = IngestScope(kpi_groups=(), kpis=tuple(changed[:6]), kpi_themes={},
                        municipalities="all", years=SCOPE.years, networks=())
    full = EventLog(tmp_path / "full" / "events")
    ingest_day(full, 1, scope=scope)
    incremental = copy_log(full, tmp_path / "incremental")
    ingest_day(full, 2, scope=scope, metadata=False)
    # Default epoch (today): from_date (yesterday) also covers day 1, so everything returns.
    report = ingest_day(incremental, 2, scope=scope, full=False, metadata=False).values
    assert report.mode == "incremental"
    assert report.result.received > world(2).select(scope.kpis).value_count
    assert live_state(incremental) == live_state(full)


def test_ingest_moving_year_range_keeps_older_years(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    early = IngestScope(kpi_groups=(), kpis=("N15428", "N01951"), kpi_themes={},
                        municipalities=("0000", "0180", "1784"), years=(2016, 2017, 2018),
                        networks=())
    late = IngestScope(**{**early.__dict__, "years": (2018, 2019, 2020)})
    first = ingest_day(log, 1, scope=early, metadata=True).values
    second = ingest_day(log, 1, scope=late, metadata=False).values
    old_years = SnapshotScope(
        {"kpi": early.kpis, "municipality": early.municipalities, "period": ["2016", "2017"]}
    )
    assert second.result.deleted == 0
    assert log.live_key_count(KPI_VALUE, old_years) == \
        world(1).select(early.kpis, early.municipalities, [2016, 2017]).value_count
    assert first.result.appended > 0
