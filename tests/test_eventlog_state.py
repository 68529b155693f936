"""The per-stream current-state file (pipelines/eventlog/state.py) and the integrity cache
(trust.py): history costs O(answer), not O(history), and neither derived file is ever trusted
when it does not match the log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.eventlog import integrity, state, trust
from pipelines.eventlog.integrity import CorruptEventLog, check_files, quarantine
from pipelines.eventlog.schema import UPSERTED
from pipelines.eventlog.store import EventLog, SnapshotScope, current_payloads, records_to_table
from pipelines.sources.kolada.streams import KPI
from tests.eventlog_helpers import Rec, grid, value
from tests.test_eventlog import _CRASH_SCRIPT, KPIS, STREAM, UNITS, YEARS, append, full_scope


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    return EventLog(tmp_path / "events")


def recomputed(log: EventLog, stream: str = STREAM) -> set[tuple]:
    """The latest event per key, ranked over the whole history: what the state must equal."""
    with duckdb.connect() as con:
        return set(con.execute(f"""
            select entity_key, event_type, payload_hash, recorded_at, batch_id
            from read_parquet('{log.glob(stream)}')
            qualify row_number() over (partition by entity_key
                                       order by recorded_at desc, batch_id desc) = 1
        """).fetchall())


def state_rows(log: EventLog, stream: str = STREAM) -> set[tuple]:
    with duckdb.connect() as con:
        return set(con.execute(
            f"select {state.COLUMNS} from read_parquet('{state.state_path(log, stream)}')"
        ).fetchall())


def notes(log: EventLog) -> dict[str, str | None]:
    return {r["batch_id"]: r["note"] for r in log.ledger().to_pylist() if r["stream"] == STREAM}


def test_state_equals_the_full_recomputation_through_deletes_tombstones_and_resurrection(
        log: EventLog) -> None:
    records = grid(KPIS, UNITS, YEARS)
    revised = [value("N15428", "1784", 2022, 99.5) if r.entity_key == "N15428|1784|2022|T"
               else r for r in records]
    source_deleted = [*revised, value("N11008", "0180", 2021, None, deleted=True)]
    absent = [r for r in revised if r.entity_key != "N11008|0000|2023|T"]
    batches = [
        ("b1", records, full_scope()),          # 18 new keys
        ("b2", revised, full_scope()),          # one revision
        ("b3", source_deleted, full_scope()),   # a source deletion (isdeleted)
        ("b4", absent, full_scope()),           # b3's key comes back; a tombstone of absence
        ("b5", revised, full_scope()),          # the absent key comes back
        ("b6", revised, full_scope()),          # nothing new: no file, the state stays
    ]
    appended = []
    for batch, recs, scope in batches:
        result = append(log, recs, batch, scope)
        appended.append((result.upserted, result.deleted))
        assert state_rows(log) == recomputed(log), batch
        assert state.fresh(log, STREAM) is not None  # matches the log after every batch
        assert not notes(log)[batch]  # built as it went: never rebuilt from the log
    assert appended == [(18, 0), (1, 0), (0, 1), (1, 1), (1, 0), (0, 0)]
    header = state.read_header(state.state_path(log, STREAM))
    assert (header["files"], header["last_batch"], header["rows"]) == (5, "b5", 18)
    live = {(k, t) for k, t, *_ in state_rows(log)}
    assert {t for _, t in live} == {UPSERTED}  # the resurrected keys are live again
    assert log.live_key_count(STREAM, full_scope()) == 18
    assert log.live_key_count(STREAM, full_scope([2023])) == 6
    assert check_files(log, payloads=True).ok  # `verify` compares the state with the log


def test_state_of_a_metadata_stream_gives_the_same_current_payloads(log: EventLog) -> None:
    def kpis(titles: dict[str, str]) -> list[Rec]:
        return [Rec(k, {"id": k, "title": t}) for k, t in titles.items()]

    for batch, titles in (("m1", {"N1": "a", "N2": "b", "N3": "c"}),
                          ("m2", {"N1": "a", "N2": "B"}),          # N2 revised, N3 absent
                          ("m3", {"N1": "a", "N2": "B", "N3": "c"})):  # N3 back
        log.append(KPI.name, records_to_table(kpis(titles)), batch_id=batch,
                   snapshot=SnapshotScope(), scope_source="test")
    expected = {"N1": {"id": "N1", "title": "a"}, "N2": {"id": "N2", "title": "B"},
                "N3": {"id": "N3", "title": "c"}}
    assert state.fresh(log, KPI.name) is not None
    assert current_payloads(log, KPI) == expected
    state.invalidate(log, KPI.name)  # without the state: the history, same answer
    assert current_payloads(log, KPI) == expected


def test_state_missing_stale_or_corrupt_is_rebuilt_and_the_ledger_says_so(
        log: EventLog, tmp_path: Path) -> None:
    path = state.state_path(log, STREAM)
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    old = tmp_path / "state-after-b1.parquet"
    shutil.copyfile(path, old)
    append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b2", full_scope())

    # stale: the state of b1 put back. Trusted, it would re-upsert all 18 values of b2.
    shutil.copyfile(old, path)
    assert state.fresh(log, STREAM) is None
    assert log.live_key_count(STREAM, full_scope()) == 18  # readers fall back to the log
    same = append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b3", full_scope())
    assert same.appended == 0
    assert "rebuilt from the log" in notes(log)["b3"] and "up to b1" in notes(log)["b3"]
    assert state_rows(log) == recomputed(log)

    path.unlink()  # missing
    assert append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b4", full_scope()).appended == 0
    assert "no current-state file" in notes(log)["b4"]

    path.write_bytes(b"not parquet at all")  # corrupt
    assert log.live_key_count(STREAM, full_scope()) == 18
    revised = append(log, grid(KPIS, UNITS, YEARS, bump=0.75), "b5", full_scope())
    assert revised.upserted == 18
    assert "unreadable" in notes(log)["b5"]
    assert state_rows(log) == recomputed(log)
    assert not notes(log)["b1"] and not notes(log)["b2"]


@pytest.mark.parametrize("point", ["state.before_rename", "state.after_rename"])
def test_state_writer_killed_around_the_state_rename_never_leaves_a_trusted_stale_state(
        log: EventLog, tmp_path: Path, point: str) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    marker = tmp_path / "reached"
    env = {**os.environ, "KK_CRASH_AT": point, "KK_CRASH_MARKER": str(marker)}
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(log.events_dir), "0.5", "b2"],
                          env=env, cwd=repo, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == -9, proc.stderr
    assert marker.read_text() == point
    # b2 and its ledger row are committed; the state is b1's (stale) or b2's (current)
    assert (state.fresh(log, STREAM) is None) == (point == "state.before_rename")
    assert len(list(log.tmp_dir.glob("_state--*.tmp"))) == (point == "state.before_rename")
    env.pop("KK_CRASH_AT")
    rerun = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(log.events_dir), "0.5", "b3"],
                           env=env, cwd=repo, capture_output=True, text=True, timeout=120,
                           check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert {r["batch_id"]: r["upserted"] for r in log.ledger().to_pylist()} == {
        "b1": 18, "b2": 18, "b3": 0}  # a stale state would have re-upserted b2's values
    assert ("rebuilt" in (notes(log)["b3"] or "")) == (point == "state.before_rename")
    assert not list(log.tmp_dir.glob("*.tmp"))
    assert state_rows(log) == recomputed(log)


class _Recording:
    """A DuckDB connection that records every statement it is given (what the log reads)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, statements: list[str]) -> None:
        self._con, self._statements = con, statements

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._con.close()

    def execute(self, sql: str, *args, **kwargs):
        self._statements.append(sql)
        return self._con.execute(sql, *args, **kwargs)

    def sql(self, sql: str, *args, **kwargs):
        self._statements.append(sql)
        return self._con.sql(sql, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def test_state_after_30_batches_a_reingest_reads_only_the_state_and_hashes_nothing(
        log: EventLog, monkeypatch: pytest.MonkeyPatch) -> None:
    records = grid(KPIS, UNITS, YEARS)
    for night in range(30):  # one revised value a night
        nightly = [value(r.entity_key.split("|")[0], r.entity_key.split("|")[1],
                         int(r.entity_key.split("|")[2]), 1000.0 + night)
                   if i == night % len(records) else r for i, r in enumerate(records)]
        append(log, nightly, f"n{night:02d}", full_scope())
    assert len(state.batch_files(log, STREAM)) == 30

    statements: list[str] = []
    connect = EventLog._connect
    monkeypatch.setattr(EventLog, "_connect",
                        lambda self: _Recording(connect(self), statements))
    hashed: list[Path] = []
    digest = integrity.file_digest
    monkeypatch.setattr(integrity, "file_digest", lambda p: hashed.append(p) or digest(p))

    again = append(log, nightly, "again", full_scope())
    assert again.appended == 0 and again.unchanged == 18
    stream_folder = str(log.stream_dir(STREAM))
    reads = [s for s in statements if "read_parquet" in s]
    assert reads and not [s for s in reads if stream_folder in s]  # no history read at all
    assert any(str(state.state_path(log, STREAM)) in s for s in reads)
    assert hashed == []  # every batch file unchanged since it was verified

    statements.clear()
    assert log.live_key_count(STREAM, full_scope()) == 18
    assert not [s for s in statements if stream_folder in s]


def test_state_replay_as_of_reads_the_log_not_the_state(log: EventLog) -> None:
    first = append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b2", full_scope())
    state.state_path(log, STREAM).write_bytes(b"garbage")  # replay must not care
    as_of = log.events(STREAM, as_of=first.recorded_at)
    assert set(as_of["batch_id"].to_pylist()) == {"b1"} and as_of.num_rows == 18


def test_state_verify_finds_a_state_that_disagrees_with_the_log_and_repair_drops_it(
        log: EventLog) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b2", full_scope())
    path = state.state_path(log, STREAM)
    before = path.read_bytes()
    header = json.dumps(state.read_header(path))
    with duckdb.connect() as con:  # the same header (it claims to match), one hash wrong
        con.execute(f"""
            copy (select entity_key, event_type,
                         case when entity_key = 'N15428|1784|2022|T' then 'x' else payload_hash
                         end as payload_hash, recorded_at, batch_id
                  from read_parquet('{path}'))
            to '{path}.new' (format parquet, kv_metadata {{kk_state: '{header}'}})
        """)
    os.replace(f"{path}.new", path)
    assert path.read_bytes() != before and state.fresh(log, STREAM) is not None
    report = check_files(log, payloads=True)
    assert [(p.kind, p.path) for p in report.problems] == [("state", str(path))]
    assert "2 rows differ" in report.problems[0].detail
    quarantine(log, report.problems)  # `verify --repair`
    assert not path.exists() and check_files(log, payloads=True).ok
    assert append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b3", full_scope()).appended == 0
    assert state_rows(log) == recomputed(log)


def test_state_quarantine_of_a_batch_invalidates_the_state(log: EventLog) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b2", full_scope())
    b2 = log.stream_dir(STREAM) / "b2.parquet"
    b2.write_bytes(b2.read_bytes()[:100])
    problems = check_files(log).problems
    quarantine(log, problems)
    assert not state.state_path(log, STREAM).exists()
    # the next ingest diffs against the history without b2: its values come back as upserts
    again = append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b3", full_scope())
    assert again.upserted == 18
    assert state_rows(log) == recomputed(log)


def test_trust_a_changed_file_is_rehashed_and_an_edit_keeping_size_and_mtime_is_verifys_job(
        log: EventLog, monkeypatch: pytest.MonkeyPatch) -> None:
    append(log, grid(KPIS, UNITS, YEARS), "b1", full_scope())
    append(log, grid(KPIS, UNITS, YEARS, bump=0.5), "b2", full_scope())
    hashed: list[str] = []
    digest = integrity.file_digest
    monkeypatch.setattr(integrity, "file_digest", lambda p: hashed.append(p.name) or digest(p))
    log.ensure_intact([STREAM])
    assert hashed == []  # both were hashed when written

    b1 = log.stream_dir(STREAM) / "b1.parquet"
    stat = b1.stat()
    os.utime(b1, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))  # touched: hash it again
    log.ensure_intact([STREAM])
    assert hashed == ["b1.parquet"]
    log.ensure_intact([STREAM])
    assert hashed == ["b1.parquet"]  # and trusted again after it matched

    # one byte flipped in place, size and mtime put back: only the full check sees it
    stat = b1.stat()
    data = bytearray(b1.read_bytes())
    data[len(data) // 2] ^= 0xFF
    b1.write_bytes(bytes(data))
    os.utime(b1, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    log.ensure_intact([STREAM])  # documented: the hot path trusts size + mtime
    assert [p.kind for p in check_files(log).problems] == ["checksum"]  # `verify`, `status`

    b1.write_bytes(bytes(data[:200]))  # truncated: caught on the hot path too
    with pytest.raises(CorruptEventLog, match="b1.parquet.*truncated"):
        log.ensure_intact([STREAM])
    trust.forget(log, STREAM)  # a lost cache only costs hashing again
    with pytest.raises(CorruptEventLog):
        log.ensure_intact([STREAM])
