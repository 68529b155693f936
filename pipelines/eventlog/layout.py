"""Where an event log's files are, and how a file enters it: the layer below the store.

`LogLayout` knows the folders (a stream's batch files, the ledger, temp and lock folders), the
empty typed file every folder starts with, a durable atomic write, a DuckDB connection sized
for the log and the ledger's rows. The modules that keep the log's derived files and check it
(state.py, trust.py, integrity.py) take a `LogLayout`; `store.EventLog` extends it with
appends and reads. So the imports run one way: store -> state/trust/integrity -> layout.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.durable import fsync_path, replace_durably
from pipelines.eventlog.checksums import file_digest
from pipelines.eventlog.crash import crash_point
from pipelines.eventlog.ledger import LEDGER_SCHEMA
from pipelines.eventlog.schema import EVENT_SCHEMA
from pipelines.eventlog.streams import StreamSpec

# The typed empty file in every stream folder and in the ledger: a glob never comes up empty.
EMPTY_FILE_NAME = "00000000T000000000000Z_empty.parquet"

Stream = StreamSpec | str  # a declaration, or its name


class LogLayout:
    """The folders and files of the event log under `events_dir`."""

    def __init__(self, events_dir: Path, streams: Mapping[str, StreamSpec] | None = None) -> None:
        if streams is None:
            from pipelines.sources.registry import STREAMS as streams
        self.streams = streams
        self.events_dir = Path(events_dir)
        self.tmp_dir = self.events_dir / "_tmp"
        self.lock_dir = self.events_dir / "_locks"
        self.ledger_dir = self.events_dir / "_ledger"

    def spec(self, stream: Stream) -> StreamSpec:
        name = stream if isinstance(stream, str) else stream.name
        if name not in self.streams:
            raise ValueError(f"unknown stream {name!r}; known: {', '.join(self.streams)}")
        return self.streams[name]

    def stream_dir(self, stream: Stream) -> Path:
        return self.events_dir / self.spec(stream).name

    def glob(self, stream: Stream) -> str:
        return str(self.stream_dir(stream) / "*.parquet")

    def ensure_layout(self) -> None:
        """Every stream (and the ledger) gets an empty typed file: readers never hit an empty glob."""
        for stream in self.streams:
            self._ensure_empty_file(self.stream_dir(stream), EVENT_SCHEMA)
        self._ensure_empty_file(self.ledger_dir, LEDGER_SCHEMA)

    def _ensure_empty_file(self, folder: Path, schema: pa.Schema) -> None:
        path = folder / EMPTY_FILE_NAME
        if path.exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        self._write_atomically(schema.empty_table(), path)

    def event_files(self, stream: Stream) -> list[Path]:
        return sorted(self.stream_dir(stream).glob("*.parquet"))

    def holds_batches(self, stream: Stream) -> bool:
        """Whether any batch was ever committed to `stream` (its empty typed file aside)."""
        return any(p.name != EMPTY_FILE_NAME for p in self.event_files(stream))

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB that spills to `_tmp/duckdb` past `KK_EVENTLOG_MEMORY` (default
        2GB): a full batch of millions of values is joined, sorted and written without the
        whole of it ever being in memory at once."""
        con = duckdb.connect(":memory:")
        con.execute("set threads to 2")
        con.execute("set memory_limit = ?", [os.environ.get("KK_EVENTLOG_MEMORY", "2GB")])
        spill = self.tmp_dir / "duckdb"
        con.execute("set temp_directory = ?", [str(spill)])
        return con

    def ledger(self) -> pa.Table:
        """Every ledger row. `union_by_name`: rows written before a column existed (the
        checksums) read as null in it, so an older log keeps working."""
        self.ensure_layout()
        with self._connect() as con:
            table = con.sql(
                f"select * from read_parquet('{self.ledger_dir}/*.parquet', union_by_name = true) "
                "order by recorded_at, stream"
            ).to_arrow_table()
        for name in LEDGER_SCHEMA.names:  # a log whose every row predates a column
            if name not in table.column_names:
                table = table.append_column(
                    LEDGER_SCHEMA.field(name), pa.nulls(table.num_rows, LEDGER_SCHEMA.field(name).type))
        return table.select(LEDGER_SCHEMA.names)

    def _write_atomically(
        self, table: pa.Table | Callable[[Path], None], target: Path,
        crash_prefix: str | None = None,
    ) -> tuple[str, int]:
        """Temp file outside every reader glob, fsync, rename, fsync the folder.

        Returns the file's sha256 and size, taken from the synced temp file: what the ledger
        records, so any later truncation or edit of the committed file is detectable.
        `crash_prefix` names the crash points of this write (`<prefix>.before_write`, ...).
        """
        def crash(step: str) -> None:
            if crash_prefix:
                crash_point(f"{crash_prefix}.{step}")

        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp_dir / f"{target.parent.name}--{target.name}.{os.getpid()}.tmp"
        crash("before_write")
        if isinstance(table, pa.Table):
            pq.write_table(table, tmp, compression="zstd")
        else:  # a writer of its own (a batch's events, in row groups)
            table(tmp)
        crash("before_fsync")
        fsync_path(tmp)
        digest = file_digest(tmp)
        crash("before_rename")
        replace_durably(tmp, target)
        return digest
