"""Append batches of events to the log, set-wise, atomically and idempotently.

A batch is computed by comparing what the source said now with the latest event per key
already in the log (DuckDB over Arrow, never a Python loop per row):

* a new key, a changed payload or a key that was deleted and came back -> `upserted`;
* a record the source marks deleted, for a key that is alive -> `deleted`;
* a live key missing from the answer -> `deleted`, but only when the answer was a full
  snapshot *and* the key lies inside the scope of that same query (a year range moving
  forward must not delete the older years).

Identical data therefore appends zero events; the batch ledger still records the check.

"The latest event per key" is the stream's current-state file (state.py), advanced after each
committed batch, so a re-ingest does not rank the whole history; the history is read only
to rebuild that file when it does not match the log.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.eventlog import state, trust
from pipelines.eventlog.checksums import file_digest
from pipelines.eventlog.crash import crash_point
from pipelines.eventlog.integrity import CorruptEventLog, check_files
from pipelines.eventlog.layout import EMPTY_FILE_NAME, LogLayout, Stream
from pipelines.eventlog.ledger import BatchResult, LedgerEntry
from pipelines.eventlog.lock import stream_lock
from pipelines.eventlog.schema import (
    DELETED,
    EVENT_SCHEMA,
    SCHEMA_VERSION,
    UPSERTED,
    canonical_json,
    payload_hash,
)
from pipelines.eventlog.streams import AnyOf, SnapshotScope, StreamSpec

INCOMING_SCHEMA = pa.schema(
    [
        ("entity_key", pa.string()),
        ("payload", pa.string()),
        ("payload_hash", pa.string()),
        ("deleted", pa.bool_()),
        ("source", pa.string()),
    ]
)


class OriginMismatch(RuntimeError):
    """Sample (synthetic) and live events must never share one event log."""


class RecordLike(Protocol):
    entity_key: str
    payload: dict[str, Any]
    deleted: bool
    source: str


def records_to_table(records: Iterable[RecordLike]) -> pa.Table:
    """Canonicalise payloads and hash them; the last record of a key wins."""
    by_key: dict[str, RecordLike] = {}
    for record in records:
        by_key[record.entity_key] = record
    keys, payloads, hashes, deleted, sources = [], [], [], [], []
    for key, record in by_key.items():
        text = canonical_json(record.payload)
        keys.append(key)
        payloads.append(text)
        hashes.append(payload_hash(text))
        deleted.append(bool(record.deleted))
        sources.append(record.source)
    return pa.Table.from_arrays(
        [pa.array(keys), pa.array(payloads), pa.array(hashes), pa.array(deleted), pa.array(sources)],
        schema=INCOMING_SCHEMA,
    )


class EventLog(LogLayout):
    """The event log under `events_dir`: `<stream>/<batch_id>.parquet`, plus `_ledger/`.

    `streams` are the declared streams (default: every source's, from the registry); a name
    outside them is refused, so a typo cannot create a stream nobody reads. Where its files
    are and how they are written is the layout's (pipelines.eventlog.layout); what is in
    them (appends, reads, replay) is this class's.
    """

    # -- origin -----------------------------------------------------------------------------
    @property
    def origin_path(self) -> Path:
        return self.events_dir / "_origin.json"

    def origin(self) -> str | None:
        """`sample` (synthetic) or `live`: what this log was first fed from, None when new."""
        try:
            return json.loads(self.origin_path.read_text(encoding="utf-8"))["origin"]
        except FileNotFoundError:
            return None

    def claim_origin(self, origin: str) -> None:
        """Refuse to mix synthetic sample events with live Kolada events in one log.

        A mixed log would publish synthetic values next to real ones; no later step could tell
        them apart, so the mistake is stopped at the first write.
        """
        current = self.origin()
        if current is None:
            self.events_dir.mkdir(parents=True, exist_ok=True)
            for stale in self.events_dir.glob("_origin.json.*.tmp"):  # a killed first writer's
                stale.unlink(missing_ok=True)
            doc = {"origin": origin, "claimed_at": datetime.now(UTC).isoformat()}
            tmp = self.events_dir / f"_origin.json.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(doc), encoding="utf-8")
            crash_point("origin.before_rename")
            os.replace(tmp, self.origin_path)
        elif current != origin:
            raise OriginMismatch(
                f"{self.events_dir} holds {current} events; refusing to add {origin} events to "
                f"it. Use another KK_DATA_DIR for {origin} data (see {self.origin_path})."
            )

    # -- reading ----------------------------------------------------------------------------
    def events(self, stream: Stream, *, as_of: datetime | None = None) -> pa.Table:
        self.ensure_layout()
        self.ensure_intact([self.spec(stream).name])
        with self._connect() as con:  # as of a moment: the log itself, never the state
            sql = f"select * from read_parquet('{self.glob(stream)}')"
            params: list[Any] = []
            if as_of is not None:
                sql += " where recorded_at <= ?"
                params.append(as_of)
            return con.sql(sql + " order by recorded_at, batch_id, entity_key", params=params).to_arrow_table()

    def watermark(self) -> datetime | None:
        """The latest `recorded_at` in the whole log: the default `as_of` of a build."""
        self.ensure_layout()
        globs = ", ".join(f"'{self.glob(s)}'" for s in self.streams)
        with self._connect() as con:
            row = con.execute(f"select max(recorded_at) from read_parquet([{globs}])").fetchone()
        return row[0] if row else None

    def ensure_intact(self, streams: Iterable[str] | None = None) -> None:
        """Refuse to read a stream whose batch files do not match their ledger checksums.

        A truncated or edited file is never silently skipped: its events would vanish from
        (or change in) every mart without anyone noticing. See docs/event-log.md, Recovery.
        """
        # trusted: files unchanged (size, mtime) since they last matched are not re-hashed
        problems = check_files(self, streams, trusted=True).problems
        if problems:
            raise CorruptEventLog(problems)

    def record_failure(
        self, stream: Stream, *, batch_id: str, error: BaseException | str,
        ledger: Mapping[str, Any] | None = None,
    ) -> None:
        """A `failed` ledger row: the attempt, when, and why; no events (nothing was appended)."""
        stream = self.spec(stream).name
        self.ensure_layout()
        message = str(error) if isinstance(error, str) else f"{type(error).__name__}: {error}"
        entry = LedgerEntry(batch_id=batch_id, stream=stream, recorded_at=datetime.now(UTC),
                            status="failed", note=message[:2000], **dict(ledger or {}))
        self._write_atomically(entry.to_table(), self.ledger_dir / f"{batch_id}--{stream}.parquet")

    def live_key_count(self, stream: Stream, scope: SnapshotScope | AnyOf) -> int:
        """How many live keys the log holds inside `scope` (used by the empty-answer guard)."""
        name = self.spec(stream).name
        with self._connect() as con:
            where, params = _scope_predicate(scope, self.spec(stream), "c.entity_key")
            sql = _current_cte(self, name, state.fresh(self, name)) + f"""
                select count(*) from current_state c where c.event_type = '{UPSERTED}' and {where}"""
            return con.execute(sql, params).fetchone()[0]

    # -- writing ----------------------------------------------------------------------------
    def append(
        self,
        stream: Stream,
        incoming: pa.Table,
        *,
        batch_id: str,
        snapshot: SnapshotScope | AnyOf | None,
        scope_source: str,
        ledger: Mapping[str, Any] | None = None,
    ) -> BatchResult:
        """Append one batch for `stream` from `incoming` (see `records_to_table`).

        `snapshot` is None for a partial answer (incremental `from_date`): then absence means
        nothing. Otherwise absent live keys inside the snapshot scope become tombstones.
        """
        started = time.monotonic()
        stream = self.spec(stream).name
        self.ensure_layout()
        with stream_lock(self.lock_dir, stream):
            self._recover(stream)
            self.ensure_intact([stream])  # a diff against damaged history would be wrong
            current = state.ensure_current(self, stream)  # rebuilt from the log if stale
            recorded_at = self._next_recorded_at(current)
            with self._connect() as con:
                try:
                    diff = self._diff(con, stream, incoming, snapshot, current)
                except duckdb.Error as exc:  # a state whose footer reads but whose data does not
                    current = state.rebuild(
                        self, stream, f"the current-state file is unreadable: {exc}")
                    diff = self._diff(con, stream, incoming, snapshot, current)
                target: Path | None = None
                digest: tuple[str | None, int | None] = (None, None)
                if diff.appended:
                    target = self.stream_dir(stream) / f"{batch_id}.parquet"
                    if target.exists():
                        raise FileExistsError(f"batch {batch_id} already exists for {stream}; batch ids must be unique")
                    constants = _Constants(stream, recorded_at, batch_id, scope_source)
                    digest = self._write_atomically(
                        lambda path: _write_batch(con, incoming, constants, path), target,
                        crash_prefix="eventlog")
                    trust.record(self, stream, target, digest[0])  # hashed just now: trust it
            crash_point("eventlog.after_rename")
            result = BatchResult(
                stream=stream,
                batch_id=batch_id,
                recorded_at=recorded_at,
                received=incoming.num_rows,
                upserted=diff.upserted,
                deleted=diff.deleted,
                unchanged=max(incoming.num_rows - diff.touched, 0),
                event_file=target,
            )
            entry = LedgerEntry.from_result(
                result, seconds=time.monotonic() - started, status="committed", **dict(ledger or {})
            )
            entry.file_sha256, entry.file_bytes = digest
            if current.rebuilt:  # say so where an operator looks for what a batch did
                rebuilt = f"current state rebuilt from the log: {current.rebuilt}"
                entry.note = f"{entry.note}; {rebuilt}" if entry.note else rebuilt
            self._write_atomically(entry.to_table(), self.ledger_dir / f"{batch_id}--{stream}.parquet",
                                   crash_prefix="ledger")
            crash_point("ledger.after_rename")
            if target is not None:
                # derived, after the batch is committed: a kill before the state's rename leaves
                # a state that no longer matches the batch files, and the next writer rebuilds it
                state.advance(self, stream, current, target, new_keys=diff.new_keys,
                              recorded_at=recorded_at)
            return result

    def _next_recorded_at(self, current: state.CurrentState) -> datetime:
        """Transaction time, strictly after every event already in the stream (clocks step back).

        The latest event of the stream is the latest of its key, so the state knows it."""
        now = datetime.now(UTC)
        latest = current.max_recorded_at
        if latest is not None and latest >= now:
            now = latest + timedelta(microseconds=1)
        return now

    def _diff(
        self,
        con: duckdb.DuckDBPyConnection,
        stream: str,
        incoming: pa.Table,
        snapshot: SnapshotScope | AnyOf | None,
        current: state.CurrentState,
    ) -> _Diff:
        """The batch's events, narrow, as the temp table `batch_changes`: the incoming row each
        upsert or explicit delete comes from, and its event type, or the live key a full
        snapshot no longer has (`absent_key`). Payloads stay in the Arrow table: DuckDB joins
        and sorts keys, hashes and row numbers only, so a batch of millions never copies its
        payloads through SQL (`_write_batch` takes them from `incoming`)."""
        numbered = incoming.select(["entity_key", "payload_hash", "deleted"]).append_column(
            "row", pa.array(np.arange(incoming.num_rows, dtype=np.int64)))
        con.register("incoming", numbered)
        # one join for both kinds: a full snapshot joins `full`, and the state's unmatched
        # live keys inside its scope are its absence tombstones (the scope test runs on those
        # only); a partial answer says nothing about absent keys and joins `left`
        absent, join, params = "false", "left", []
        if snapshot is not None:
            where, params = _scope_predicate(snapshot, self.spec(stream), "c.entity_key")
            absent, join = f"i.row is null and c.event_type = '{UPSERTED}' and {where}", "full"
        con.execute("create or replace temp table batch_changes as " + _current_cte(
            self, stream, current) + f"""
            select i.row, case when i.row is null then c.entity_key end as absent_key,
                   case when i.row is null or i.deleted then '{DELETED}'
                        else '{UPSERTED}' end as event_type,
                   i.row is not null and c.entity_key is null as new_key
            from incoming i {join} join current_state c on c.entity_key = i.entity_key
            where (i.row is not null and not i.deleted
                   and (c.entity_key is null or c.event_type = '{DELETED}'
                        or c.payload_hash is distinct from i.payload_hash))
               or (i.row is not null and i.deleted and c.event_type = '{UPSERTED}')
               or ({absent})""", params)
        upserted, deleted, new_keys, touched = con.execute(f"""
            select count(*) filter (where event_type = '{UPSERTED}'),
                   count(*) filter (where event_type = '{DELETED}'),
                   count(*) filter (where new_key), count(row)
            from batch_changes""").fetchall()[0]
        return _Diff(int(upserted), int(deleted), int(touched), int(new_keys))

    def _recover(self, stream: str) -> None:
        """Finish what a killed writer left: drop its temp files, ledger its committed batches."""
        # its batch files' temp files, and its ledger rows' (`_ledger--<batch>--<stream>...`)
        for pattern in (f"{stream}--*.tmp", f"{self.ledger_dir.name}--*--{stream}.parquet.*.tmp",
                        f"{state.STATE_DIR}--{stream}.parquet.*.tmp"):
            for tmp in self.tmp_dir.glob(pattern):
                tmp.unlink(missing_ok=True)
        ledgered = {p.name.split("--")[0] for p in self.ledger_dir.glob(f"*--{stream}.parquet")}
        for event_file in self.event_files(stream):
            batch_id = event_file.stem
            if event_file.name == EMPTY_FILE_NAME or batch_id in ledgered:
                continue
            # the rename was atomic after an fsync, so the file is whole: record its checksum now
            sha256, size = file_digest(event_file)
            events = pq.read_table(event_file, columns=["event_type", "recorded_at"])
            upserted = int(pc.sum(pc.equal(events["event_type"], UPSERTED)).as_py() or 0)
            entry = LedgerEntry(
                batch_id=batch_id,
                stream=stream,
                recorded_at=events["recorded_at"][0].as_py(),
                status="recovered",
                upserted=upserted,
                deleted=events.num_rows - upserted,
                event_file=event_file.name,
                note="event file committed but the writer died before its ledger entry",
                file_sha256=sha256,
                file_bytes=size,
            )
            self._write_atomically(entry.to_table(), self.ledger_dir / f"{batch_id}--{stream}.parquet")


@dataclass(frozen=True)
class _Diff:
    upserted: int
    deleted: int
    touched: int  # events that came from an incoming record (absence tombstones did not)
    new_keys: int  # upserts of keys the stream never had (the state file grows by these)

    @property
    def appended(self) -> int:
        return self.upserted + self.deleted


@dataclass(frozen=True)
class _Constants:
    """What every event of one batch shares."""

    stream: str
    recorded_at: datetime
    batch_id: str
    scope_source: str  # the source of an absence tombstone: the query that no longer had it


ROW_GROUP = 1 << 20


def _write_batch(con: duckdb.DuckDBPyConnection, incoming: pa.Table, constants: _Constants,
                 path: Path) -> None:
    """The batch file: the events that come from incoming records, in the order received,
    then the absence tombstones by key; ~1M rows per row group. Rows are gathered from
    `incoming` chunk by chunk (`batch_rows` sorted by row number), so only one row group of
    events is ever built at a time."""
    picked = con.sql("select row, event_type from batch_changes where row is not null "
                     "order by row").to_arrow_table()
    rows = picked.column("row").to_numpy()
    kinds = picked.column("event_type").combine_chunks()
    with pq.ParquetWriter(path, EVENT_SCHEMA, compression="zstd") as writer:
        pending: list[pa.Table] = []
        size = 0

        def add(events: pa.Table) -> None:
            nonlocal pending, size
            pending.append(events)
            size += events.num_rows
            if size >= ROW_GROUP:
                _flush(writer, pending)
                pending, size = [], 0

        start = 0
        for chunk in incoming.to_batches():
            end = start + chunk.num_rows
            lo, hi = np.searchsorted(rows, [start, end])
            if hi > lo:
                part = chunk if hi - lo == chunk.num_rows else chunk.take(
                    pa.array(rows[lo:hi] - start))
                add(_events(constants, part.column("entity_key"), kinds.slice(lo, hi - lo),
                            part.column("payload"), part.column("payload_hash"),
                            part.column("source")))
            start = end
        absent = con.sql("select absent_key from batch_changes where row is null "
                     "order by absent_key")
        for batch in absent.to_arrow_reader(batch_size=ROW_GROUP):
            keys = batch.column(0)
            n = len(keys)
            add(_events(constants, keys, _repeat(DELETED, n, pa.string()),
                        pa.nulls(n, pa.string()), pa.nulls(n, pa.string()),
                        _repeat(constants.scope_source, n, pa.string())))
        if pending:
            _flush(writer, pending)


def _flush(writer: pq.ParquetWriter, tables: list[pa.Table]) -> None:
    table = pa.concat_tables(tables)
    writer.write_table(table, row_group_size=max(table.num_rows, 1))


def _repeat(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    return pc.fill_null(pa.nulls(n, type_), pa.scalar(value, type_))


def _events(constants: _Constants, keys: pa.Array, kinds: pa.Array, payloads: pa.Array,
            hashes: pa.Array, sources: pa.Array) -> pa.Table:
    """One slice of the batch file, in the event schema."""
    n = len(keys)
    if pa.types.is_dictionary(sources.type):  # the bulk path stores a page URL once per page
        sources = sources.dictionary_decode()
    arrays = [
        _repeat(constants.stream, n, pa.string()), keys, kinds, payloads, hashes,
        _repeat(constants.recorded_at, n, EVENT_SCHEMA.field("recorded_at").type),
        _repeat(constants.batch_id, n, pa.string()), sources,
        pa.array(np.full(n, SCHEMA_VERSION, dtype=np.int32)),
    ]
    return pa.Table.from_arrays(
        [a.cast(field.type) for a, field in zip(arrays, EVENT_SCHEMA, strict=True)],
        schema=EVENT_SCHEMA)


_CURRENT_SQL = """
    with current_state as (
        select entity_key, event_type, payload_hash
        from read_parquet('{glob}')
        qualify row_number() over (
            partition by entity_key order by recorded_at desc, batch_id desc
        ) = 1
    )
"""


def _current_cte(log: EventLog, stream: str, current: state.CurrentState | None) -> str:
    """`current_state` (entity_key, event_type, payload_hash): the state file when it matches
    the log (one row per key, no ranking), else the latest event per key over the history."""
    if current is not None:
        return f"""
    with current_state as (
        select entity_key, event_type, payload_hash from read_parquet('{current.path}')
    )
"""
    return _CURRENT_SQL.format(glob=log.glob(stream))


def _scope_predicate(
    scope: SnapshotScope | AnyOf, spec: StreamSpec, column: str
) -> tuple[str, list[Any]]:
    if isinstance(scope, AnyOf):
        if not scope.scopes:
            return "false", []
        parts = [_scope_predicate(one, spec, column) for one in scope.scopes]
        return (
            "(" + " or ".join(f"({sql})" for sql, _ in parts) + ")",
            [param for _, params in parts for param in params],
        )
    clauses, params = ["true"], []
    for index, values in scope.positions(spec):
        clauses.append(f"list_contains(?, split_part({column}, '|', {index + 1}))")
        params.append(values)
    return " and ".join(clauses), params


def current_payloads(log: EventLog, stream: Stream) -> dict[str, dict[str, Any]]:
    """Live keys of a (small, metadata) stream with their latest payload, decoded.

    With a current-state file that matches the log, only the batch files holding a live key's
    latest event are read; otherwise the whole history is ranked."""
    log.ensure_layout()
    name = log.spec(stream).name
    current = state.fresh(log, name)
    with log._connect() as con:
        if current is not None:
            live = [batch for (batch,) in con.execute(
                f"select distinct batch_id from read_parquet('{current.path}') "
                f"where event_type = '{UPSERTED}'").fetchall()]
            if not live:
                return {}
            files = [str(log.stream_dir(name) / f"{batch}.parquet") for batch in sorted(live)]
            rows = con.execute(
                f"""
                select e.entity_key, e.event_type, e.payload from read_parquet(?) e
                semi join read_parquet('{current.path}') s
                  on s.entity_key = e.entity_key and s.batch_id = e.batch_id
                 and s.event_type = '{UPSERTED}'
                """, [files]).fetchall()
            return {key: json.loads(payload) for key, kind, payload in rows
                    if kind == UPSERTED and payload}
        rows = con.execute(
            f"""
            select entity_key, event_type, payload from read_parquet('{log.glob(stream)}')
            qualify row_number() over (
                partition by entity_key order by recorded_at desc, batch_id desc
            ) = 1
            """
        ).fetchall()
    return {key: json.loads(payload) for key, kind, payload in rows if kind == UPSERTED and payload}
