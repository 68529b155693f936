"""The batch ledger: one row per ingest of a stream, also when it appended nothing.

"Checked at T, nothing new" is a fact analysts ask about ("is this number stale, or was
Kolada simply unchanged?"), so every batch leaves a ledger row, in its own immutable file.
A failed ingest leaves a `failed` row (what went wrong, nothing appended), and a batch file
moved aside by `kommunkvalitet verify --repair` a `quarantined` row; neither is a batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

LEDGER_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("stream", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),  # committed | recovered | failed | quarantined
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
        # sha256 and size of the committed event file: what `verify` and every reader check it
        # against (null in rows written before checksums were recorded, and for 0-event batches)
        ("file_sha256", pa.string()),
        ("file_bytes", pa.int64()),
    ]
)


# Statuses of a row that stands for a committed batch (the others record an attempt or a repair).
BATCH_STATUSES = ("committed", "recovered")


@dataclass(frozen=True)
class BatchResult:
    """What one append did (the ledger row is made from it)."""

    stream: str
    batch_id: str
    recorded_at: datetime
    received: int
    upserted: int
    deleted: int
    unchanged: int
    event_file: Path | None

    @property
    def appended(self) -> int:
        return self.upserted + self.deleted


@dataclass
class LedgerEntry:
    """One ledger row (see LEDGER_SCHEMA)."""

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
    file_sha256: str | None = None
    file_bytes: int | None = None

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
