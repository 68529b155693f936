"""A writer's intent to commit a batch file, recorded before the rename that commits it.

Without it, a batch file without a ledger row could be one of two things that look alike: a
writer killed between its rename and its ledger row (whole, to be adopted), or a file no writer
of this log wrote (a batch edited with its payload hashes recomputed and its ledger row
deleted, a copy of a batch under a new name, a junk `*.parquet`), which `verify` called "a
writer was killed" and the next ingest adopted as `recovered`. Now the writer, after the batch
file's temp copy is fsynced and hashed, records `_intents/<stream>--<batch>.json` (durably)
with the file's name, sha256 and size, then renames the file into the stream, writes its
ledger row, and clears the intent. A file without a ledger row is adopted only when an intent
names it with its checksum; any other is a problem `verify` reports and `--repair` moves aside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.eventlog.layout import LogLayout

INTENTS_DIR = "_intents"


def _path(log: LogLayout, stream: str, batch_id: str) -> Path:
    return log.events_dir / INTENTS_DIR / f"{stream}--{batch_id}.json"


def record(log: LogLayout, stream: str, target: Path, digest: tuple[str, int]) -> None:
    """Durably record that `target` (not yet renamed into place) will hold a batch whose file
    has `digest` (sha256, bytes). Called between the temp file's fsync and its rename."""
    path = _path(log, stream, target.stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"stream": stream, "event_file": target.name, "file_sha256": digest[0],
           "file_bytes": digest[1]}
    text = json.dumps(doc, sort_keys=True)
    log._write_atomically(lambda tmp: tmp.write_text(text, encoding="utf-8"), path)


def read(log: LogLayout, stream: str, batch_id: str) -> dict | None:
    try:
        doc = json.loads(_path(log, stream, batch_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def matches(log: LogLayout, stream: str, path: Path, digest: tuple[str, int]) -> bool:
    """Whether an intent names the batch file `path` with exactly this (sha256, bytes)."""
    doc = read(log, stream, path.stem)
    return (doc is not None and doc.get("event_file") == path.name
            and doc.get("file_sha256") == digest[0] and doc.get("file_bytes") == digest[1])


def clear(log: LogLayout, stream: str, batch_id: str) -> None:
    _path(log, stream, batch_id).unlink(missing_ok=True)


def stale(log: LogLayout, stream: str) -> list[str]:
    """Batch ids of the stream's recorded intents (a writer's leftovers once it is gone)."""
    folder = log.events_dir / INTENTS_DIR
    return [p.stem.split("--", 1)[1] for p in folder.glob(f"{stream}--*.json")]
