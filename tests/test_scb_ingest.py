"""SCB population into the event log: idempotent re-ingest, revisions, provenance, scope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.eventlog.store import EventLog, current_payloads
from pipelines.sample.population import AGES, population_world
from pipelines.sample.scb_server import SampleScbServer
from pipelines.sources.scb.client import ScbClient, ScbError
from pipelines.sources.scb.ingest import ingest_population
from pipelines.sources.scb.records import AGE_BANDS, age_of
from pipelines.sources.scb.streams import POPULATION

UNITS = ["0000", "0017", "1784", "1780", "0180", "2584"]
YEARS = [2022, 2023, 2024]


def ingest(log: EventLog, day: int, units=UNITS, years=YEARS, **server_kw):
    with SampleScbServer(day=day, **server_kw) as server, ScbClient(server.base_url) as client:
        return ingest_population(client, log, units, years, run_id=f"day{day}",
                                 progress=lambda _: None)


def band_truth(day: int, unit: str, year: int, band: str) -> int:
    w = population_world(day)
    region = unit.removeprefix("00")
    first, last = next((f, la) for b, f, la in AGE_BANDS if b == band)
    cols = [i for i, a in enumerate(AGES) if age_of(a) >= first and (last is None or age_of(a) <= last)]
    return int(w.counts[w.regions.index(region), year - 2016, cols].sum())


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    return EventLog(tmp_path / "events")


def test_first_ingest_records_every_band_with_its_provenance(log: EventLog) -> None:
    report = ingest(log, 1, max_data_cells=1000)  # forces a split into several queries
    assert report.queries > 1 and report.cells == len(UNITS) * len(AGES) * len(YEARS)
    state = current_payloads(log, POPULATION)
    assert len(state) == len(UNITS) * len(YEARS) * 6 == report.result.upserted
    for unit in UNITS:
        for band, _, _ in AGE_BANDS:
            key = POPULATION.entity_key(unit, 2024, band)
            assert state[key]["population"] == band_truth(1, unit, 2024, band)
    # Riket is `0000` in the log, never SCB's `00`
    assert {p["municipality"] for p in state.values()} == set(UNITS)
    events = log.events(POPULATION).to_pylist()
    assert all("updated=2025-02-21T07:00:00Z" in e["source"] for e in events)
    assert all("body_sha256=" in e["source"] for e in events)
    ledger = [r for r in log.ledger().to_pylist() if r["stream"] == POPULATION.name]
    scope = json.loads(ledger[-1]["scope"])
    assert scope["updated"] == "2025-02-21T07:00:00Z" and len(scope["body_sha256"]) == report.queries


def test_reingest_of_the_same_day_appends_nothing(log: EventLog) -> None:
    first = ingest(log, 1)
    again = ingest(log, 1, max_data_cells=700)  # split differently: same facts
    assert first.result.appended > 0
    assert again.result.appended == 0 and again.result.unchanged == first.result.upserted


def test_a_revision_appends_only_the_changed_bands_and_keeps_the_old_value(log: EventLog) -> None:
    units = sorted({*UNITS, *[c for c in population_world(2).regions if len(c) == 4]})
    ingest(log, 1, units=units)
    day2 = ingest(log, 2, units=units)
    w1, w2 = population_world(1), population_world(2)
    changed_kommuner = {w1.regions[i] for i in range(len(w1.regions))
                        if len(w1.regions[i]) == 4 and (w1.counts[i] != w2.counts[i]).any()}
    assert 1 <= len(changed_kommuner) <= 6
    assert day2.result.deleted == 0
    assert 0 < day2.result.upserted < 6 * (len(changed_kommuner) + 22)
    state = current_payloads(log, POPULATION)
    kommun = min(changed_kommuner)
    for band, _, _ in AGE_BANDS:
        assert state[POPULATION.entity_key(kommun, 2024, band)]["population"] == band_truth(
            2, kommun, 2024, band)
    history = [e for e in log.events(POPULATION).to_pylist()
               if e["entity_key"].startswith(f"{kommun}|2024|")]
    assert len(history) > 6  # the first value and its revision are both kept
    assert any("updated=2025-02-22T07:00:00Z" in e["source"] for e in history)


def test_units_the_table_lacks_are_reported_and_left_out_of_the_snapshot(log: EventLog) -> None:
    report = ingest(log, 1, units=["1784", "0180", "9999"], years=[2024, 2030])
    assert report.missing_units == ("9999",)
    assert report.years == (2024,)
    keys = set(current_payloads(log, POPULATION))
    assert len(keys) == 2 * 6 and not any(k.startswith("9999") for k in keys)


def test_an_answer_without_numbers_is_refused_and_deletes_nothing(log: EventLog) -> None:
    ingest(log, 1)
    before = len(current_payloads(log, POPULATION))
    with SampleScbServer(day=1) as server, ScbClient(server.base_url) as client:
        server.faults.add("/data", "empty")
        with pytest.raises(ScbError, match="without a single number"):
            ingest_population(client, log, UNITS, YEARS, run_id="empty", progress=lambda _: None)
    assert len(current_payloads(log, POPULATION)) == before
    # the attempt is in the ledger, failed, with why and where (as for Kolada)
    last = [r for r in log.ledger().to_pylist() if r["stream"] == POPULATION.name][-1]
    assert last["status"] == "failed" and "without a single number" in last["note"]
    assert last["source"].endswith("/tables/TAB638")
