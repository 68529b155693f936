"""The Dagster instance's SQLite files are written without an fsync per event
(pipelines/orchestration/instance/sqlite_storage.py), and nothing is lost by it: another
process reads every event of a run, and only the instance's own WAL files are touched."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pipelines.orchestration.instance import shared_instance
from pipelines.orchestration.instance.sqlite_storage import kept_open
from pipelines.settings import load_settings


@dg.op
def _emit(context) -> None:
    for n in range(40):
        context.log.info(f"event {n}")


@dg.job
def _chatty() -> None:
    _emit()


def test_run_history_is_tuned_and_complete_for_another_process(tmp_path: Path) -> None:
    settings = load_settings({"KK_DATA_DIR": str(tmp_path / "data")})
    other = tmp_path / "elsewhere.db"  # a SQLite file outside the instance: left as it is
    with sqlite3.connect(other) as con:
        con.execute("pragma journal_mode=wal")
    instance = shared_instance(settings)
    try:
        result = _chatty.execute_in_process(instance=instance)
        assert result.success
        shard = next(settings.dagster_home.glob(f"history/runs/{result.run_id}.db"))
        assert str(shard.resolve()) in kept_open()
        assert not any(Path(p) == other.resolve() for p in kept_open())
        # another process, with SQLite's defaults, reads every event the run stored
        code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                "print(c.execute(\"select count(*) from event_logs where "
                "event like '%event 39%'\").fetchone()[0], "
                "c.execute('pragma journal_mode').fetchone()[0])")
        out = subprocess.run([sys.executable, "-c", code, str(shard)], check=True,
                             capture_output=True, text=True).stdout.split()
        assert out == ["1", "wal"]
        stored = instance.all_logs(result.run_id)
        assert sum("event " in (e.user_message or "") for e in stored) == 40
    finally:
        instance.dispose()


def test_a_run_stores_its_events_through_one_connection_per_shard(tmp_path: Path) -> None:
    """Dagster's plain SQLite storage opens (and tunes, and compiles its INSERT on) a new
    connection for every event; the instance's storage keeps one per shard file."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    settings = load_settings({"KK_DATA_DIR": str(tmp_path / "data")})
    instance = shared_instance(settings)
    opened: list[str] = []

    def count(dbapi_connection, _record) -> None:
        opened.append(dbapi_connection.execute("pragma database_list").fetchone()[2])

    event.listen(Engine, "connect", count)
    try:
        result = _chatty.execute_in_process(instance=instance)
        assert result.success
        stored = instance.all_logs(result.run_id)
        assert sum("event " in (e.user_message or "") for e in stored) == 40
        shard = str((settings.dagster_home / "history" / "runs" / f"{result.run_id}.db").resolve())
        # one connection to create the shard (before WAL mode), one kept for the rest; the
        # plain storage opened one per stored event (>= 40 here)
        assert 1 <= sum(os.path.realpath(p) == shard for p in opened) <= 3, opened
        assert len(stored) > 40
    finally:
        event.remove(Engine, "connect", count)
        instance.dispose()
