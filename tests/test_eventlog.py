"""The event-log invariants: append-only, atomic, idempotent, scoped tombstones, one writer."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.eventlog.lock import StreamLocked, stream_lock
from pipelines.eventlog.store import (
    EMPTY_FILE_NAME,
    EventLog,
    OriginMismatch,
    SnapshotScope,
    records_to_table,
)
from pipelines.sources.kolada.streams import (
    KPI,
    KPI_VALUE,
    MUNICIPALITY_GROUP,
)
from tests.eventlog_helpers import grid, value

STREAM = KPI_VALUE.name
KPIS = ["N15428", "N11008"]
UNITS = ["0180", "1784", "0000"]
YEARS = [2021, 2022, 2023]


def full_scope(years: list[int] = YEARS) -> SnapshotScope:
    return SnapshotScope({"kpi": KPIS, "municipality": UNITS, "period": [str(y) for y in years]})


def append(log: EventLog, records, batch: str, snapshot: SnapshotScope | None = None):
    return log.append(STREAM, records_to_table(records), batch_id=batch, snapshot=snapshot,
                      scope_source="http://127.0.0.1/v3/data/scope")


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    return EventLog(tmp_path / "events")


def test_eventlog_every_stream_has_an_empty_typed_file(log: EventLog) -> None:
    log.ensure_layout()
    for stream in (KPI.name, KPI_VALUE.name, MUNICIPALITY_GROUP.name):
        files = log.event_files(stream)
        assert [f.name for f in files] == [EMPTY_FILE_NAME]
        assert "recorded_at" in pq.read_schema(files[0]).names
    assert log.watermark() is None


def test_eventlog_second_identical_ingest_appends_zero_events(log: EventLog) -> None:
    first = append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    second = append(log, grid(KPIS, UNITS, YEARS), "b2", full_scope())
    assert first.upserted == 18 and first.deleted == 0
    assert second.appended == 0 and second.unchanged == 18
    assert second.event_file is None
    # the ledger still records the check that found nothing new
    ledger = log.ledger().to_pylist()
    assert [(r["batch_id"], r["upserted"], r["unchanged"]) for r in ledger] == [("b1", 18, 0), ("b2", 0, 18)]


def test_eventlog_revised_value_appends_exactly_one_upsert(log: EventLog) -> None:
    records = grid(KPIS, UNITS, YEARS)
    append(log, records, "b1", full_scope())
    revised = [value("N15428", "1784", 2022, 99.5) if r.entity_key == "N15428|1784|2022|T" else r
               for r in records]
    result = append(log, revised, "b2", full_scope())
    assert (result.upserted, result.deleted) == (1, 0)
    events = log.events(STREAM).to_pylist()
    history = [e for e in events if e["entity_key"] == "N15428|1784|2022|T"]
    assert [e["batch_id"] for e in history] == ["b1", "b2"]
    assert '"value":99.5' in history[-1]["payload"]


def test_eventlog_source_isdeleted_appends_one_tombstone(log: EventLog) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    gone = value("N11008", "0180", 2023, None, deleted=True)
    result = append(log, [gone], "b2", snapshot=None)  # incremental answer: absence means nothing
    assert (result.upserted, result.deleted) == (0, 1)
    again = append(log, [gone], "b3", snapshot=None)
    assert again.appended == 0


def test_eventlog_key_missing_from_full_answer_is_deleted_inside_scope_only(log: EventLog) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    # the year range moves forward: 2021 is no longer asked for, 2024 is new
    moved = [2022, 2023, 2024]
    records = [r for r in grid(KPIS, UNITS, moved) if r.entity_key != "N15428|0180|2023|T"]
    result = append(log, records, "b2", full_scope(moved))
    deleted = [e["entity_key"] for e in log.events(STREAM).to_pylist() if e["event_type"] == "deleted"]
    assert deleted == ["N15428|0180|2023|T"]  # no 2021 key was touched
    assert result.deleted == 1


def test_eventlog_deleted_key_that_returns_is_upserted_again(log: EventLog) -> None:
    append(log, [value("N15428", "0180", 2023, 1.0)], "b1", full_scope())
    append(log, [], "b2", full_scope())
    back = append(log, [value("N15428", "0180", 2023, 1.0)], "b3", full_scope())
    assert back.upserted == 1


def test_eventlog_committed_files_are_never_rewritten(log: EventLog) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    first = log.stream_dir(STREAM) / "b1.parquet"
    before = (first.stat().st_mtime_ns, first.read_bytes())
    append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b2", full_scope())
    assert (first.stat().st_mtime_ns, first.read_bytes()) == before


def test_eventlog_recorded_at_is_strictly_increasing_per_stream(log: EventLog) -> None:
    a = append(log, [value("N15428", "0180", 2023, 1.0)], "b1", full_scope())
    b = append(log, [value("N15428", "0180", 2023, 2.0)], "b2", full_scope())
    assert b.recorded_at > a.recorded_at


_CRASH_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipelines.eventlog.store import EventLog, SnapshotScope, records_to_table
    from pipelines.sources.kolada.streams import KPI_VALUE
    from tests.eventlog_helpers import grid
    log = EventLog(Path(sys.argv[1]))
    records = grid(["N15428", "N11008"], ["0180", "1784", "0000"], [2021, 2022, 2023], bump=float(sys.argv[2]))
    log.append(KPI_VALUE, records_to_table(records), batch_id=sys.argv[3],
               snapshot=SnapshotScope(), scope_source="test")
    """
)


@pytest.mark.parametrize("point", ["eventlog.before_rename", "eventlog.after_rename"])
def test_eventlog_sigkill_mid_batch_leaves_no_partial_batch_and_rerun_completes(
    log: EventLog, tmp_path: Path, point: str
) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    marker = tmp_path / "reached"
    env = {**os.environ, "KK_CRASH_AT": point, "KK_CRASH_MARKER": str(marker)}
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(log.events_dir), "0.5", "b2"],
                          env=env, cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == -9, proc.stderr
    assert marker.read_text() == point  # the named crash point was really reached

    visible = log.events(STREAM)
    batches = set(visible.column("batch_id").to_pylist())
    if point == "eventlog.before_rename":
        assert batches == {"b1"}  # nothing of b2 is visible
    else:
        assert batches == {"b1", "b2"} and visible.num_rows == 36  # all of b2, not a part

    env.pop("KK_CRASH_AT")
    rerun = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(log.events_dir), "0.5", "b3"],
                           env=env, cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(log.tmp_dir.glob("*.tmp"))
    state = {e["entity_key"]: e["payload"] for e in log.events(STREAM).to_pylist()}
    assert all('.5' in p for p in state.values())  # the rerun finished the job
    statuses = {r["batch_id"]: r["status"] for r in log.ledger().to_pylist()}
    assert statuses["b1"] == "committed"
    if point == "eventlog.after_rename":
        assert statuses["b2"] == "recovered"


def _hold_lock(lock_dir: str, ready, release) -> None:
    with stream_lock(Path(lock_dir), STREAM):
        ready.set()
        release.wait(30)


def test_eventlog_second_concurrent_writer_is_refused(log: EventLog) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(log.lock_dir), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StreamLocked, match=f"{KPI_VALUE.name} is being written by another process"):
            append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    finally:
        release.set()
        holder.join(30)
    # once the holder is gone, writing works
    assert append(log, grid(KPIS, UNITS, YEARS), "b2", full_scope()).upserted == 18


def test_eventlog_refuses_to_mix_sample_and_live_events(log: EventLog) -> None:
    assert log.origin() is None
    log.claim_origin("sample")
    log.claim_origin("sample")  # the same origin again is fine
    assert log.origin() == "sample"
    with pytest.raises(OriginMismatch, match="holds sample events; refusing to add live"):
        log.claim_origin("live")


def test_eventlog_any_of_scopes_tombstone_only_inside_one_of_them(tmp_path: Path) -> None:
    from pipelines.eventlog.streams import AnyOf

    log = EventLog(tmp_path / "events")
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    inside = SnapshotScope({"kpi": [KPIS[0]], "municipality": [UNITS[0]], "period": ["2022"]})
    other = SnapshotScope({"kpi": [KPIS[1]], "municipality": [UNITS[1]], "period": ["2023"]})
    # an answer that covers two cells and holds neither: exactly those two keys are deleted,
    # not the cross product of their parts
    result = log.append(KPI_VALUE, records_to_table([]), batch_id="b2",
                        snapshot=AnyOf((inside, other)), scope_source="test")
    assert result.deleted == 2
    nothing = log.append(KPI_VALUE, records_to_table([]), batch_id="b3", snapshot=AnyOf(()),
                         scope_source="test")
    assert nothing.appended == 0


def test_eventlog_batch_file_holds_events_in_received_order_then_absence_tombstones_by_key(
        log: EventLog) -> None:
    """The batch is gathered from the incoming table (payloads never pass through SQL): each
    event carries its own record's payload, hash and source, in the order received, and the
    tombstones of absence follow, by key, with the query as their source."""
    first = grid(KPIS, UNITS, YEARS)
    append(log, first, "b1", full_scope())
    gone = {"N15428|0180|2021|T", "N11008|1784|2022|T", "N11008|0000|2023|T"}
    revised = {"N11008|0180|2023|T": 41.5, "N15428|0000|2022|T": 7.25}
    answer = [value(*r.entity_key.split("|")[:2], int(r.entity_key.split("|")[2]),
                    revised[r.entity_key]) if r.entity_key in revised else r
              for r in first if r.entity_key not in gone]
    answer.append(value("N15428", "1784", 2021, None, deleted=True))  # a source deletion
    result = append(log, answer, "b2", full_scope())
    assert (result.upserted, result.deleted, result.unchanged) == (2, 4, 12)
    events = pq.read_table(result.event_file).to_pylist()
    received = records_to_table(answer).to_pylist()  # a key's last record, at its first place
    expected_from_records = [r["entity_key"] for r in received
                             if r["entity_key"] in revised or r["deleted"]]
    assert expected_from_records[0] != min(expected_from_records)  # not sorted by key
    assert [e["entity_key"] for e in events] == expected_from_records + sorted(gone)
    incoming = {r["entity_key"]: r for r in received}
    for event in events[:3]:
        record = incoming[event["entity_key"]]
        assert (event["payload"], event["payload_hash"], event["source"]) == (
            record["payload"], record["payload_hash"], record["source"])
        assert event["event_type"] == ("deleted" if record["deleted"] else "upserted")
    for event in events[3:]:
        assert (event["event_type"], event["payload"], event["payload_hash"], event["source"]) == (
            "deleted", None, None, "http://127.0.0.1/v3/data/scope")
    assert {(e["stream"], e["batch_id"], e["schema_version"]) for e in events} == {
        (STREAM, "b2", 1)}
    assert len({e["recorded_at"] for e in events}) == 1
    assert pq.read_schema(result.event_file).equals(
        pq.read_schema(next(p for p in log.event_files(STREAM) if p.name == EMPTY_FILE_NAME)))
