"""Dagster's SQLite storage without two fsyncs per event.

Why: Dagster's SQLite event log opens a new engine for every event it stores, commits and
disposes it (and an asset check's evaluation goes to the run's shard and to the index shard).
With SQLite's defaults in WAL mode each commit fsyncs (synchronous=FULL) and each close of the
file's last connection checkpoints the WAL, fsyncing again: 16 ms per event on this machine.
A build's dbt step reports ~1,300 events (a materialization per model, an evaluation per dbt
test), so stage 2 spent 20-37 s writing run history after dbt had finished.

What: for the instance's own SQLite files (under its folder, and only once they are in WAL
mode), every connection runs with synchronous=NORMAL, and this process keeps one idle
connection open per file, so that Dagster's closes are never the last one and do not
checkpoint. 0.1 ms per event in the same measurement.

Why it is safe: WAL with synchronous=NORMAL is SQLite's documented setting for WAL databases:
the file stays consistent after a power loss or an OS crash (the last commits may roll back),
and a process crash loses nothing, since the WAL is written before each commit returns. The
run history is Dagster's bookkeeping; the platform's facts are in the event log, which
syncs every batch itself (pipelines/durable.py). An idle connection holds no lock that blocks
another process's writer (WAL readers and writers do not block each other), and WAL
checkpoints still run automatically every 1,000 pages.

And without a new engine per event: Dagster's `SqliteEventLogStorage._connect` creates a
SQLAlchemy engine for every event it stores and disposes it after, so each event also paid a
new sqlite3 connection, its pragmas, and the compilation of its INSERT (SQLAlchemy caches
compiled statements per engine, and each engine was new). A build's ~1,300 events plus the
~700 "planned" events Dagster stores when the run is created took ~7 s of the stage-2
process's CPU on the sample (py-spy, 41 % of its samples). `pool_event_log_storage` keeps
one engine per shard file for the storage's lifetime (`PooledSqliteEventLogStorage`); every
transaction is still committed before `_connect` returns, exactly as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

# Idle connections kept open, least recently used closed first: a long-lived process (the
# daemon, a test session) touches a new run shard per run.
KEEP_OPEN = 16

_lock = threading.Lock()
_roots: set[str] = set()
_kept: OrderedDict[str, sqlite3.Connection] = OrderedDict()
_listening = False


def tune_sqlite_storage(root: Path) -> None:
    """Tune every SQLite file under `root` (the instance folder) that this process opens
    through SQLAlchemy from now on. Idempotent."""
    global _listening
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    with _lock:
        _roots.add(os.path.realpath(root))
        if not _listening:
            # (the decorator form of event.listen: a listener on SQLAlchemy engines)
            event.listens_for(Engine, "connect")(_on_connect)
            _listening = True


def kept_open() -> list[str]:
    """The files this process holds an idle connection to (for tests and diagnostics)."""
    with _lock:
        return list(_kept)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    row = dbapi_connection.execute("pragma database_list").fetchone()
    path = os.path.realpath(row[2]) if row and row[2] else ""
    if not path or not any(path.startswith(root + os.sep) for root in _roots):
        return
    # NORMAL is safe in WAL mode only; a file Dagster is still creating (before it switches
    # the file to WAL) keeps the default.
    mode = dbapi_connection.execute("pragma journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        return
    dbapi_connection.execute("pragma synchronous=NORMAL")
    _keep_open(path)


def _keep_open(path: str) -> None:
    with _lock:
        if path in _kept:
            _kept.move_to_end(path)
            return
        keeper = sqlite3.connect(path, check_same_thread=False)
        keeper.execute("pragma synchronous=NORMAL")
        _kept[path] = keeper
        while len(_kept) > KEEP_OPEN:
            _, oldest = _kept.popitem(last=False)
            oldest.close()  # the last connection of that file: SQLite checkpoints it here


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log with one engine per shard file, kept while the storage
    lives (the module docstring says why). The files, schema and transactions are Dagster's:
    a process with the plain storage (the daemon, `dagster dev`) reads and writes the same
    files. At most KEEP_OPEN engines: a long-lived process touches a new run shard per run."""

    def _pooled_engines(self) -> OrderedDict[str, Any]:
        engines = self.__dict__.get("_kk_engines")
        if engines is None:
            engines = self.__dict__["_kk_engines"] = OrderedDict()
        return engines

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        from sqlalchemy import create_engine

        with self._db_lock:
            engines = self._pooled_engines()
            engine = engines.get(shard)
            if engine is None:
                engine = create_engine(self.conn_string_for_shard(shard),
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                engines[shard] = engine
                while len(engines) > KEEP_OPEN:
                    engines.popitem(last=False)[1].dispose()
            engines.move_to_end(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
                # the pooled connection predates the WAL mode _initdb switched the file to, so
                # _on_connect left it at synchronous=FULL: drop it, the next one is tuned
                engine.dispose()
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Asked before every asset check evaluation is stored (`supports_asset_checks`), each
        # time through a new engine; a table Dagster created stays (wipe forgets the answers).
        known: set[str] = self.__dict__.setdefault("_kk_tables", set())
        if table_name in known:
            return True
        present = super().has_table(table_name)
        if present:
            known.add(table_name)
        return present

    def _dispose_engines(self) -> None:
        self.__dict__.pop("_kk_tables", None)
        with self._db_lock:
            engines = self._pooled_engines()
            while engines:
                engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._dispose_engines()  # before Dagster unlinks the shard files they hold open
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def pool_event_log_storage(storage: Any) -> Any:
    """Make the instance's plain SQLite event log a `PooledSqliteEventLogStorage` in place
    (same state, one more method table: the subclass adds no fields but its engine cache).
    Any other storage (Postgres, a test double) is returned as it is."""
    if type(storage) is SqliteEventLogStorage:
        storage.__class__ = PooledSqliteEventLogStorage
    return storage
