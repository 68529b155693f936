"""Two writers at once: the second is refused with the holder named, and nothing is lost.

A stream has one writer (an flock that dies with its process, pipelines/eventlog/lock.py);
the warehouse one dbt (the Dagster pool `warehouse`, tests/test_orphans.py). Here a real
`kommunkvalitet refresh` runs while another process holds the value stream's lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.eventlog.lock import stream_lock
from pipelines.eventlog.store import EventLog
from pipelines.sources.kolada.streams import KPI, KPI_VALUE

pytestmark = pytest.mark.slow


def cli(data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KK_DATA_DIR": str(data), "DAGSTER_HOME": str(data / "dagster")}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *argv], env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def test_a_refresh_while_another_process_writes_the_stream_is_refused_and_loses_nothing(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = EventLog(data / "events")
    log.ensure_layout()
    with stream_lock(log.lock_dir, KPI_VALUE.name):  # "another ingest" holds the value stream
        refused = cli(data, "refresh", "--source", "sample")
    assert refused.returncode == 1
    assert f"being written by another process (pid {os.getpid()}" in refused.stderr
    assert "the marts and the current publication are unchanged" in refused.stderr
    assert log.events(KPI_VALUE).num_rows == 0  # nothing half-written
    assert log.events(KPI).num_rows > 0  # the other streams are not held back
    assert not (data / "published" / "current").exists()  # stage 2 never ran
    # the holder is done: the same command now completes, and the log is whole
    done = cli(data, "refresh", "--source", "sample")
    assert done.returncode == 0, done.stderr[-2000:]
    assert log.events(KPI_VALUE).num_rows > 100_000
    assert cli(data, "verify").returncode == 0
