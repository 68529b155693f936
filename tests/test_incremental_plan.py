"""The incremental plan's decisions (pipelines.warehouse.incremental), on real batch files written
by the event log: which KPIs a night recomputes, and every reason for a full rebuild. The
equality of the two paths is tests/test_incremental.py (slow, real dbt builds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.eventlog.store import EventLog, records_to_table
from pipelines.settings import Layout
from pipelines.sources.kolada.streams import KPI, KPI_GROUP, KPI_VALUE, MUNICIPALITY
from pipelines.sources.scb.streams import POPULATION
from pipelines.warehouse.fingerprint import Fingerprint
from pipelines.warehouse.incremental import batch_listing, plan_build
from tests.eventlog_helpers import Rec, value

PARTS = {"events": "e1", "code": "c1", "config": "f1", "as_of_requested": ""}


class World:
    def __init__(self, root: Path) -> None:
        self.layout = Layout(root / "data")
        self.log = EventLog(self.layout.events_dir)
        self.batches = 0
        self.previous: dict | None = None
        self.layout.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        self.layout.warehouse_path.write_bytes(b"")  # a warehouse exists

    def append(self, stream, records: list[Rec]) -> None:
        self.batches += 1
        self.log.append(stream, records_to_table(records),
                        batch_id=f"20260101T0000000000{self.batches:02d}Z_t", snapshot=None,
                        scope_source="test://plan")

    def plan(self, parts: dict | None = None, **flags):
        listing = batch_listing(self.layout.events_dir)
        plan = plan_build(events_dir=self.layout.events_dir,
                          warehouse_path=self.layout.warehouse_path,
                          fingerprint=Fingerprint({**PARTS, **(parts or {})}), listing=listing,
                          previous=self.previous, **flags)
        return plan, listing

    def built(self) -> None:
        """A successful build of the log as it is now (what nights.record_build keeps)."""
        _, listing = self.plan()
        self.previous = {"parts": dict(PARTS), "batches": listing}


def _group(members: list[str]) -> Rec:
    return Rec("GKPI118", {"id": "GKPI118", "title": "KKiK",
                           "members": [{"member_id": m, "member_title": m} for m in members]})


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    w.append(KPI_VALUE, [value("N00001", "1784", 2020, 1.0), value("N00002", "1784", 2020, 2.0)])
    w.append(KPI_GROUP, [_group(["N00001", "N00002"])])
    w.built()
    return w


def test_new_values_recompute_their_kpis_only(world: World) -> None:
    world.append(KPI_VALUE, [value("N00002", "0180", 2021, 3.0),
                             value("N00001", "1784", 2020, None, deleted=True)])  # tombstone
    plan, _ = world.plan()
    assert plan.incremental and plan.changed_kpis == ("N00001", "N00002")
    assert plan.summary(52) == ("incremental: 2 of 52 KPIs recomputed (1 new batch files since "
                                "the last build)")


def test_nothing_new_is_an_incremental_build_of_no_kpi(world: World) -> None:
    plan, _ = world.plan()
    assert plan.incremental and plan.changed_kpis == () and plan.new_batch_files == 0


def test_a_retitled_kpi_and_streams_outside_the_value_chain(world: World) -> None:
    world.append(KPI, [Rec("N00007", {"id": "N00007", "title": "Ny titel"})])
    world.append(POPULATION, [Rec("1784|2020|0-19", {"value": 1})])
    plan, _ = world.plan()
    assert plan.incremental and plan.changed_kpis == ("N00007",)


def test_a_republished_kpi_group_recomputes_who_joined_or_left(world: World) -> None:
    world.append(KPI_GROUP, [_group(["N00002", "N00005"])])  # N00001 left, N00005 joined
    plan, _ = world.plan()
    assert plan.incremental and plan.changed_kpis == ("N00001", "N00005")
    world.built()
    world.append(KPI_GROUP, [Rec("GKPI118", {}, deleted=True)])  # the group is gone
    plan, _ = world.plan()
    assert plan.changed_kpis == ("N00002", "N00005")


@pytest.mark.parametrize(("change", "reason"), [
    ("full_refresh", "--full-refresh asked for"),
    ("as_of", "a build as of a requested moment"),
    ("no_previous", "no successful build recorded"),
    ("no_warehouse", "no warehouse file"),
    ("previous_as_of", "the last build was as of a requested moment"),
    ("code", "changed since the last build: code"),
    ("config", "changed since the last build: config"),
    ("no_listing", "recorded no batch listing"),
    ("quarantined", "is gone or changed"),
    ("municipality", f"new events in {MUNICIPALITY.name}, which reach every KPI's rows"),
    ("unknown_stream", "new events in example.new_source"),
])
def test_every_doubt_is_a_full_rebuild(world: World, change: str, reason: str) -> None:
    parts, flags = {}, {}
    if change == "full_refresh":
        flags["full_refresh"] = True
    elif change == "as_of":
        flags["as_of_requested"] = True
    elif change == "no_previous":
        world.previous = None
    elif change == "no_warehouse":
        world.layout.warehouse_path.unlink()
    elif change == "previous_as_of":
        world.previous["parts"]["as_of_requested"] = "2026-01-01T00:00:00+00:00"
    elif change in ("code", "config"):
        parts[change] = "changed"
    elif change == "no_listing":
        del world.previous["batches"]
    elif change == "quarantined":
        batch = next((world.layout.events_dir / KPI_VALUE.name).glob("2026*.parquet"))
        batch.rename(world.layout.data_dir / batch.name)
    elif change == "municipality":
        world.append(MUNICIPALITY, [Rec("1784", {"id": "1784", "title": "Arvika", "type": "K"})])
    elif change == "unknown_stream":
        folder = world.layout.events_dir / "example.new_source"
        folder.mkdir()
        (folder / "b1.parquet").write_bytes(b"PAR1")
    plan, _ = world.plan(parts, **flags)
    assert not plan.incremental and reason in plan.full_reason
    assert plan.summary().startswith("full rebuild: ")
