"""The batch ledger: one row per ingest of a stream, also when it appended nothing.

"Checked at T, nothing new" is a fact analysts ask about ("is this number stale, or was
Kolada simply unchanged?"), so every batch leaves a ledger row, in its own immutable file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from pipelines.eventlog.store import BatchResult

LEDGER_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("stream", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),  # committed | recovered
        ("run_id", pa.string()),
        ("mode", pa.string()),  # full | incremental
        ("scope_fingerprint", pa.string()),
        ("scope", pa.string()),  # JSON text of what was asked
        ("from_date", pa.string()),
        ("source", pa.string()),
        ("received", pa.int64()),
        ("upserted", pa.int64()),
        ("deleted", pa.int64()),
        ("unchanged", pa.int64()),
        ("pages", pa.int64()),
        ("requests", pa.int64()),
        ("seconds", pa.float64()),
        ("event_file", pa.string()),
        ("note", pa.string()),
    ]
)


@dataclass
class LedgerEntry:
    batch_id: str
    stream: str
    recorded_at: datetime
    status: str
    run_id: str | None = None
    mode: str | None = None
    scope_fingerprint: str | None = None
    scope: str | None = None
    from_date: str | None = None
    source: str | None = None
    received: int = 0
    upserted: int = 0
    deleted: int = 0
    unchanged: int = 0
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    event_file: str | None = None
    note: str | None = None

    @classmethod
    def from_result(cls, result: BatchResult, *, seconds: float, status: str, **extra: object) -> LedgerEntry:
        return cls(
            batch_id=result.batch_id,
            stream=result.stream,
            recorded_at=result.recorded_at,
            status=status,
            received=result.received,
            upserted=result.upserted,
            deleted=result.deleted,
            unchanged=result.unchanged,
            seconds=round(seconds, 3),
            event_file=result.event_file.name if result.event_file else None,
            **extra,  # type: ignore[arg-type]
        )

    def to_table(self) -> pa.Table:
        return pa.Table.from_pylist([asdict(self)], schema=LEDGER_SCHEMA)
