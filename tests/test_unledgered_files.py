"""Issue 31, item 3: `verify` tells a killed writer's interrupted commit from a file no writer
of this log wrote. A writer records its intent (the file's sha256 and size) before the rename
(pipelines/eventlog/intents.py); a batch file without a ledger row is adopted only when an
intent names it with its checksum. The probe's three cases, each through the real CLI's
`verify` and `verify --repair` and the real append: (a) a batch edited, its payload hashes
recomputed and its ledger row deleted; (b) a batch copied under a new name; (c) a junk
`*.parquet`. (A killed writer's commit is still adopted as `recovered`:
tests/test_eventlog.py, tests/test_crash_points.py.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipelines import cli
from pipelines.eventlog.integrity import CorruptEventLog, check_files
from pipelines.eventlog.schema import payload_hash
from pipelines.eventlog.store import EventLog, records_to_table
from tests.eventlog_helpers import grid
from tests.test_integrity import KPIS, STREAM, UNITS, YEARS


@pytest.fixture
def log(data_dir: Path) -> EventLog:
    log = EventLog(data_dir / "events")
    log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS)), batch_id="b1", snapshot=None,
               scope_source="test")
    log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS, bump=0.5)), batch_id="b2",
               snapshot=None, scope_source="test")
    return log


def _edit_and_unledger(log: EventLog) -> Path:
    """(a): one value changed, its payload hash recomputed, the batch's ledger row deleted."""
    path = log.stream_dir(STREAM) / "b2.parquet"
    table = pq.read_table(path)
    payloads = table["payload"].to_pylist()
    doc = json.loads(payloads[0])
    doc["value"] = 999.0
    payloads[0] = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    table = table.set_column(table.schema.get_field_index("payload"), "payload",
                             pa.array(payloads, pa.string()))
    table = table.set_column(table.schema.get_field_index("payload_hash"), "payload_hash",
                             pa.array([payload_hash(p) for p in payloads], pa.string()))
    pq.write_table(table, path)
    for row in log.ledger_dir.glob("b2--*.parquet"):
        row.unlink()
    return path


def _copy(log: EventLog) -> Path:
    """(b): a batch copied under a new name (a dbt uniqueness test fails on every build)."""
    path = log.stream_dir(STREAM) / "b3.parquet"
    shutil.copyfile(log.stream_dir(STREAM) / "b1.parquet", path)
    return path


def _junk(log: EventLog) -> Path:
    """(c): a file that is no Parquet at all."""
    path = log.stream_dir(STREAM) / "notes.parquet"
    path.write_text("not a batch", encoding="utf-8")
    return path


@pytest.mark.parametrize("make", [_edit_and_unledger, _copy, _junk],
                         ids=["edited-unledgered", "copied", "junk"])
def test_a_file_no_writer_wrote_is_reported_refused_and_quarantined(
        log: EventLog, data_dir: Path, capsys: pytest.CaptureFixture[str], make) -> None:
    path = make(log)
    problems = check_files(log).problems
    assert [(p.path, p.kind) for p in problems] == [(str(path), "unledgered")]
    assert check_files(log).unledgered == []  # not "a writer was killed"
    assert cli.main(["verify"]) == 1
    out = capsys.readouterr().out
    assert path.name in out and "no writer recorded an intent" in out
    assert "await their ledger row" not in out
    # the next ingest does not adopt it as `recovered`: it refuses the stream, naming it
    with pytest.raises(CorruptEventLog, match=path.name):
        log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS, bump=1.0)), batch_id="b4",
                   snapshot=None, scope_source="test")
    assert "recovered" not in log.ledger()["status"].to_pylist()
    # --repair moves it aside; then the log is clean and the next append works
    assert cli.main(["verify", "--repair"]) in (0, 1)
    assert not path.exists()
    assert (log.events_dir / "_quarantine" / STREAM / path.name).exists()
    capsys.readouterr()
    assert cli.main(["verify"]) == 0
    log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS, bump=1.0)), batch_id="b4",
               snapshot=None, scope_source="test")
    events = log.events(STREAM)
    assert "999.0" not in "".join(p for p in events["payload"].to_pylist() if p)
    assert pc.count_distinct(events["batch_id"]).as_py() == len(set(
        events["batch_id"].to_pylist()))


def test_a_ledgerless_file_whose_intent_recorded_another_checksum_is_a_problem(
        log: EventLog) -> None:
    """A writer's intent names the file, but the file was changed after it was written."""
    from pipelines.eventlog import intents
    from pipelines.eventlog.checksums import file_digest

    path = log.stream_dir(STREAM) / "b2.parquet"
    intents.record(log, STREAM, path, file_digest(path))
    for row in log.ledger_dir.glob("b2--*.parquet"):
        row.unlink()
    assert check_files(log).unledgered == [str(path)]  # as a killed writer leaves it
    _edit_and_unledger(log)
    [problem] = check_files(log).problems
    assert problem.kind == "unledgered" and "another checksum" in problem.detail


def test_a_committed_batch_leaves_no_intent_behind(log: EventLog) -> None:
    assert not list((log.events_dir / "_intents").glob("*.json"))
    assert not list(log.tmp_dir.glob("*.tmp"))
