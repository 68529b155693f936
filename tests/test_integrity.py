"""Batch-file checksums in the ledger: a truncated, edited or deleted event file is detected on
read and by `verify`, named with its path and stream, never silently skipped; the documented
recovery (verify --repair, then ingest) re-fetches the lost events."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipelines import cli
from pipelines.eventlog.checksums import file_digest
from pipelines.eventlog.integrity import CorruptEventLog, check_files, quarantine
from pipelines.eventlog.ledger import LEDGER_SCHEMA
from pipelines.eventlog.store import EventLog, records_to_table
from pipelines.sample.server import SampleKoladaServer
from pipelines.scope import IngestScope
from pipelines.sources.kolada.client import KoladaClient
from pipelines.sources.kolada.ingest import ingest_metadata, ingest_values
from pipelines.sources.kolada.streams import KPI_VALUE, METADATA_STREAMS
from tests.eventlog_helpers import grid
from tests.test_ingest_sample import live_state

STREAM = KPI_VALUE.name
KPIS, UNITS, YEARS = ["N15428", "N11008"], ["0180", "1784", "0000"], [2021, 2022, 2023]


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    log = EventLog(tmp_path / "events")
    log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS)), batch_id="b1", snapshot=None,
               scope_source="test")
    log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS, bump=0.5)), batch_id="b2",
               snapshot=None, scope_source="test")
    return log


def _truncate(path: Path, keep: int = 100) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def test_integrity_ledger_records_sha256_and_size_of_each_batch_file(log: EventLog) -> None:
    rows = {r["batch_id"]: r for r in log.ledger().to_pylist()}
    path = log.stream_dir(STREAM) / "b2.parquet"
    assert (rows["b2"]["file_sha256"], rows["b2"]["file_bytes"]) == file_digest(path)
    assert check_files(log).ok


def test_integrity_truncated_file_is_refused_on_read_naming_path_and_stream(log: EventLog) -> None:
    path = log.stream_dir(STREAM) / "b2.parquet"
    _truncate(path)
    with pytest.raises(CorruptEventLog, match=rf"{path}.*\({STREAM}\): truncated"):
        log.events(STREAM)
    with pytest.raises(CorruptEventLog, match="b2.parquet"):  # a writer refuses it too
        log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS)), batch_id="b3",
                   snapshot=None, scope_source="test")
    assert not (log.stream_dir(STREAM) / "b3.parquet").exists()


def test_integrity_edited_payload_is_detected_by_checksum_and_payload_hash(log: EventLog) -> None:
    path = log.stream_dir(STREAM) / "b2.parquet"
    table = pq.read_table(path)
    edited = table.set_column(table.schema.get_field_index("payload"), "payload",
                              pc.replace_substring(table["payload"], "0.5", "9.5"))
    pq.write_table(edited, path)
    report = check_files(log, payloads=True)
    assert {(p.kind, p.path) for p in report.problems} >= {("checksum", str(path))}
    # the payload pass finds it even where the checksum row was rewritten with the file
    ledger_row = log.ledger_dir / f"b2--{STREAM}.parquet"
    row = pq.read_table(ledger_row).to_pylist()[0]
    row["file_sha256"], row["file_bytes"] = file_digest(path)
    pq.write_table(pa.Table.from_pylist([row], schema=LEDGER_SCHEMA), ledger_row)
    report = check_files(log, payloads=True)
    assert [(p.kind, Path(p.path).name) for p in report.problems] == [("payload_hash", "b2.parquet")]


def test_integrity_deleted_file_is_reported_missing(log: EventLog) -> None:
    (log.stream_dir(STREAM) / "b1.parquet").unlink()
    assert [p.kind for p in check_files(log).problems] == ["missing"]


def test_integrity_older_ledger_rows_without_checksums_keep_working(log: EventLog) -> None:
    old = LEDGER_SCHEMA.remove(LEDGER_SCHEMA.get_field_index("file_sha256"))
    old = old.remove(old.get_field_index("file_bytes"))
    for path in log.ledger_dir.glob("*.parquet"):  # as written before checksums existed
        pq.write_table(pq.read_table(path).select(old.names), path)
    assert log.events(STREAM).num_rows == 36
    assert log.ledger()["file_sha256"].null_count == log.ledger().num_rows
    report = check_files(log)
    assert report.ok and len(report.no_checksum) == 2
    _truncate(log.stream_dir(STREAM) / "b1.parquet")  # still caught: the footer is gone
    assert [p.kind for p in check_files(log).problems] == ["unreadable"]


def test_integrity_verify_cli_exit_codes_and_json(data_dir: Path, capsys) -> None:
    log = EventLog(data_dir / "events")
    log.append(STREAM, records_to_table(grid(KPIS, UNITS, YEARS)), batch_id="b1", snapshot=None,
               scope_source="test")
    assert cli.main(["verify"]) == 0
    assert "OK" in capsys.readouterr().out
    _truncate(log.stream_dir(STREAM) / "b1.parquet")
    assert cli.main(["verify", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and "b1.parquet" in doc["problem_lines"][0]
    assert cli.main(["status"]) == 1
    assert "b1.parquet" in capsys.readouterr().out


SMALL = IngestScope(kpi_groups=(), kpis=("N15428", "N00945"), kpi_themes={},
                    municipalities=("0180", "1480", "1784"), years=(2019, 2020, 2021, 2022),
                    networks=())


def _ingest(log: EventLog, day: int, *, metadata: bool) -> None:
    with (SampleKoladaServer(day=day) as server,
          KoladaClient(server.base_url, max_rps=1000.0, backoff_base=0.01) as client):
        if metadata:
            for stream in METADATA_STREAMS:
                ingest_metadata(stream, client, log, run_id=f"day{day}run", progress=lambda _: None)
        ingest_values(client, log, SMALL, run_id=f"day{day}run", progress=lambda _: None)


def test_integrity_documented_recovery_refetches_the_damaged_batch(tmp_path: Path) -> None:
    """docs/event-log.md, Recovery: verify --repair, then ingest (a full fetch follows)."""
    reference, damaged = EventLog(tmp_path / "ref" / "events"), EventLog(tmp_path / "bad" / "events")
    for log in (reference, damaged):
        _ingest(log, 1, metadata=True)
    day1 = [p for p in damaged.event_files(KPI_VALUE) if "day1run" in p.name]
    _truncate(day1[0])
    problems = check_files(damaged).problems
    assert [(p.stream, p.path) for p in problems] == [(STREAM, str(day1[0]))]
    moved = quarantine(damaged, problems)
    assert [p.name for p in moved] == [day1[0].name] and check_files(damaged).ok
    for log in (reference, damaged):
        _ingest(log, 2, metadata=False)  # an ordinary (incremental-capable) ingest
    assert live_state(damaged) == live_state(reference)
    assert live_state(damaged)  # not vacuous
    modes = [r["mode"] for r in damaged.ledger().to_pylist() if r["stream"] == STREAM]
    assert modes[-1] == "full"  # the quarantine forced a full fetch
