"""The current state of a stream: the latest event per key, kept as one derived file.

`events/_state/<stream>.parquet` holds one row per key the stream ever saw (entity_key,
event_type, payload_hash, recorded_at, batch_id; tombstones included, so a key that comes back
is an upsert). The diff of an ingest, the empty-answer guard and `current_payloads` read it
instead of ranking the stream's whole history, so a re-ingest costs O(answer + keys), not
O(history).

It is derived, never the truth. Its Parquet footer (key-value metadata `kk_state`) names what
it was built from: the stream's batch files (how many, the last, and a sha256 over their names
and sizes) and the latest `recorded_at`. It is used only when that matches the stream's batch
files as they are now; otherwise (missing, unreadable, left stale by a writer killed between
a batch's rename and the state's, a file quarantined) the writer rebuilds it from the log and
says so in the batch's ledger note, and readers outside the writer lock fall back to the log.
Replay as of a moment (`EventLog.events(as_of=...)`, dbt) always reads the log.

Written like every other file of the log: a temp file under `_tmp/`, fsync, rename, fsync the
folder, with named crash points (`state.*`, pipelines/eventlog/crash.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.durable import fsync_path, replace_durably
from pipelines.eventlog.crash import crash_point
from pipelines.eventlog.layout import EMPTY_FILE_NAME, LogLayout

STATE_DIR = "_state"
HEADER_KEY = b"kk_state"
STATE_VERSION = 1
COLUMNS = "entity_key, event_type, payload_hash, recorded_at, batch_id"

log_output = logging.getLogger(__name__)


@dataclass(frozen=True)
class CurrentState:
    """A state file that matches the stream's batch files (`path`), and its header."""

    path: Path
    header: dict[str, Any]
    rebuilt: str | None = None  # why it had to be rebuilt from the log, if it had

    @property
    def max_recorded_at(self) -> datetime | None:
        value = self.header.get("max_recorded_at")
        return datetime.fromisoformat(value) if value else None


def state_path(log: LogLayout, stream: str) -> Path:
    return log.events_dir / STATE_DIR / f"{stream}.parquet"


def batch_files(log: LogLayout, stream: str) -> list[Path]:
    """The stream's batch files, in history order (the empty typed file holds no events)."""
    return [p for p in log.event_files(stream) if p.name != EMPTY_FILE_NAME]


def fingerprint(files: list[Path]) -> dict[str, Any]:
    """What a state is built from: names and sizes of the batch files (a directory listing,
    no file read). A file added, removed or truncated changes it; the ledger checksums (checked
    before every append) say the files are the ones that were written."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}\t{path.stat().st_size}\n".encode())
    return {"files": len(files), "last_batch": files[-1].stem if files else None,
            "fingerprint": digest.hexdigest()}


def read_header(path: Path) -> dict[str, Any] | None:
    """The state's header, or None when the file is missing or not a readable state file."""
    try:
        meta = pq.read_metadata(path)
        header = json.loads((meta.metadata or {})[HEADER_KEY])
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - unreadable, foreign or without a header: not a state
        return {"unreadable": True}
    if header.get("version") != STATE_VERSION or header.get("rows") != meta.num_rows:
        return {"unreadable": True}
    return header


def _check(log: LogLayout, stream: str, files: list[Path]) -> tuple[str | None, dict[str, Any]]:
    """(None, header) when the state file matches the batch files now; else (why not, {})."""
    header = read_header(state_path(log, stream))
    if header is None:
        return "no current-state file", {}
    if header.get("unreadable"):
        return "the current-state file is unreadable", {}
    now = fingerprint(files)
    if header.get("stream") != stream or any(header.get(k) != v for k, v in now.items()):
        return (f"the current-state file covers {header.get('files')} batch files up to "
                f"{header.get('last_batch')}, the stream has {now['files']} up to "
                f"{now['last_batch']}"), {}
    return None, header


def fresh(log: LogLayout, stream: str) -> CurrentState | None:
    """The state when it provably matches the log (for readers: no write, no lock)."""
    reason, header = _check(log, stream, batch_files(log, stream))
    return None if reason else CurrentState(state_path(log, stream), header)


def ensure_current(log: LogLayout, stream: str) -> CurrentState:
    """The state, rebuilt from the log first when it does not match it (writer lock held)."""
    files = batch_files(log, stream)
    reason, header = _check(log, stream, files)
    if reason is None:
        return CurrentState(state_path(log, stream), header)
    return rebuild(log, stream, reason if files else None)


def rebuild(log: LogLayout, stream: str, reason: str | None) -> CurrentState:
    """The latest event per key over the whole history (the one O(history) read)."""
    if reason:
        log_output.warning("%s: rebuilding the current state from the log (%s)", stream, reason)
    files = batch_files(log, stream)
    source = f"""
        select {COLUMNS} from read_parquet('{log.glob(stream)}')
        qualify row_number() over (
            partition by entity_key order by recorded_at desc, batch_id desc) = 1"""
    header = _write(log, stream, source, {}, files)
    return CurrentState(state_path(log, stream), header, rebuilt=reason)


def advance(log: LogLayout, stream: str, current: CurrentState, batch_file: Path, *,
            new_keys: int, recorded_at: datetime) -> CurrentState:
    """Old state + one committed batch's events (at most one per key, all later than any),
    read from the batch file just committed (not from memory: a batch can be millions).

    The header is known before the write (the old rows plus the keys the batch added; its
    `recorded_at` is the latest), so the rows stream from the query to the file and are
    never held in a table."""
    source = f"""
        with batch as (select {COLUMNS} from read_parquet('{batch_file}'))
        select {COLUMNS} from read_parquet('{current.path}') s
        anti join batch b on b.entity_key = s.entity_key
        union all
        select {COLUMNS} from batch"""
    known = {"rows": int(current.header.get("rows") or 0) + new_keys,
             "max_recorded_at": recorded_at.isoformat()}
    header = _write(log, stream, source, {}, batch_files(log, stream), known=known)
    return CurrentState(current.path, header)


def invalidate(log: LogLayout, stream: str) -> None:
    """Drop the state (after a repair): the next writer rebuilds it from the log."""
    state_path(log, stream).unlink(missing_ok=True)


def _write(log: LogLayout, stream: str, source: str, tables: dict[str, pa.Table],
           files: list[Path], known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the state `source` selects; `known` (rows, max_recorded_at) lets the rows stream
    straight to the file, else they are counted in a temp table first. A streamed file whose
    row count is not the one expected is written again the counting way (and logged): the
    header must be right, or every later append would rebuild the state."""
    target = state_path(log, stream)
    log.tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = log.tmp_dir / f"{STATE_DIR}--{target.name}.{os.getpid()}.tmp"
    crash_point("state.before_write")
    with log._connect() as con:
        for name, table in tables.items():
            con.register(name, table)
        relation = f"({source})"
        if known is None:
            con.execute(f"create temp table new_state as {source}")
            known = _counted(con, "new_state")
            relation = "new_state"
        header = _copy(con, relation, tmp, stream, files, known)
        if header["rows"] != pq.read_metadata(tmp).num_rows:
            log_output.warning("%s: the state's expected row count %s was wrong; recounted",
                               stream, header["rows"])
            con.execute(f"create temp table new_state as {source}")
            header = _copy(con, "new_state", tmp, stream, files, _counted(con, "new_state"))
    crash_point("state.before_fsync")
    fsync_path(tmp)
    crash_point("state.before_rename")
    replace_durably(tmp, target)
    crash_point("state.after_rename")
    return header


def _counted(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, Any]:
    rows, latest = con.execute(f"select count(*), max(recorded_at) from {table}").fetchall()[0]
    return {"rows": rows, "max_recorded_at": latest.isoformat() if latest else None}


def _copy(con: duckdb.DuckDBPyConnection, relation: str, tmp: Path, stream: str,
          files: list[Path], known: dict[str, Any]) -> dict[str, Any]:
    header = {"version": STATE_VERSION, "stream": stream, **fingerprint(files),
              "rows": known["rows"], "max_recorded_at": known["max_recorded_at"]}
    text = json.dumps(header).replace("'", "''")
    con.execute(f"copy {relation} to '{tmp}' (format parquet, compression zstd, "
                f"kv_metadata {{kk_state: '{text}'}})")
    return header


def differences(log: LogLayout, stream: str, state: CurrentState) -> int:
    """Rows in which the state and a full recomputation from the log differ (`verify`)."""
    recomputed = f"""
        select {COLUMNS} from read_parquet('{log.glob(stream)}')
        qualify row_number() over (
            partition by entity_key order by recorded_at desc, batch_id desc) = 1"""
    with log._connect() as con:
        try:
            return con.execute(f"""
                select (select count(*) from (select {COLUMNS} from read_parquet('{state.path}')
                                              except all ({recomputed})))
                     + (select count(*) from (({recomputed}) except all
                                              select {COLUMNS} from read_parquet('{state.path}')))
            """).fetchone()[0]
        except duckdb.Error:
            return -1
