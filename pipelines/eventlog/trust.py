"""Which batch files were verified, at which size and mtime: the hot path's integrity cache.

Hashing every batch file of a stream on every append and read is O(history) (600+ MB on
workload M every night). `EventLog.ensure_intact` therefore trusts a file whose size and
`mtime_ns` are what they were when its sha256 last matched the ledger, and re-hashes only files
that are new or changed. A truncated file (size) or a rewritten one (mtime) is still caught
there; an edit that keeps both size and mtime is what `kommunkvalitet verify` and `status`
are for: they always hash every file and never read this cache.

`events/_state/<stream>.verified.json`: {file name: [size, mtime_ns, sha256]}. Derived and
rebuildable: a missing or unreadable cache only means every file is hashed once more.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipelines.eventlog.layout import LogLayout
from pipelines.eventlog.state import STATE_DIR

Entry = tuple[int, int, str]  # size, mtime_ns, sha256


def cache_path(log: LogLayout, stream: str) -> Path:
    return log.events_dir / STATE_DIR / f"{stream}.verified.json"


def load(log: LogLayout, stream: str) -> dict[str, Entry]:
    try:
        doc = json.loads(cache_path(log, stream).read_text(encoding="utf-8"))
        return {name: (int(s), int(m), str(h)) for name, (s, m, h) in doc["files"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def save(log: LogLayout, stream: str, entries: dict[str, Entry]) -> None:
    """Temp + rename so a reader never sees half a cache; no fsync: losing it costs a re-hash."""
    path = cache_path(log, stream)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"files": entries}, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def entry(path: Path, sha256: str) -> Entry:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, sha256


def trusted(entries: dict[str, Entry], path: Path, size: int, mtime_ns: int,
            expected_sha256: str) -> bool:
    """Verified before, unchanged since (size and mtime), against the same ledger checksum."""
    return entries.get(path.name) == (size, mtime_ns, expected_sha256)


def record(log: LogLayout, stream: str, path: Path, sha256: str) -> None:
    """A file this process just wrote and hashed: the next reader need not hash it again."""
    entries = load(log, stream)
    entries[path.name] = entry(path, sha256)
    save(log, stream, entries)


def forget(log: LogLayout, stream: str) -> None:
    cache_path(log, stream).unlink(missing_ok=True)
