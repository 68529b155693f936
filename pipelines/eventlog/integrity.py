"""Is every committed batch file exactly what was written? Checked against the ledger.

The ledger row of a batch records its file's sha256 and size when it is committed
(store.EventLog.append). A file that was truncated (a full disk, a bad copy), edited by hand, or
deleted no longer matches; readers refuse the stream (`EventLog.ensure_intact`) instead of
silently reading fewer or different events, and `kommunkvalitet verify` / `status` report it
with its path. Rows written before checksums existed are checked as far as possible: the file
must be readable Parquet with the ledger's event count ("no checksum recorded").

`verify --repair` (quarantine) moves a damaged file to `_quarantine/` and ledgers that; the
next ingest of the stream is then a full fetch, which re-fetches the batch's events.

Readers and writers check with `trusted=True`: a file whose size and mtime are unchanged since
its hash last matched is not hashed again (pipelines/eventlog/trust.py); `verify` and
`status` hash every file. `verify` (payloads) also compares each stream's current-state file
(pipelines/eventlog/state.py) with a recomputation from the log; a repair drops the state.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipelines.eventlog import state, trust
from pipelines.eventlog.checksums import file_digest
from pipelines.eventlog.layout import EMPTY_FILE_NAME, LogLayout
from pipelines.eventlog.ledger import BATCH_STATUSES, LedgerEntry

QUARANTINE_DIR = "_quarantine"


@dataclass(frozen=True)
class Problem:
    stream: str
    path: str
    kind: str  # truncated | checksum | missing | unreadable | row_count | payload_hash | state
    detail: str
    batch_id: str | None = None

    def __str__(self) -> str:
        return f"{self.path} ({self.stream}): {self.kind}: {self.detail}"


@dataclass
class IntegrityReport:
    files_checked: int = 0
    bytes_checked: int = 0  # hashed; a trusted check skips files unchanged since last verified
    files_trusted: int = 0
    events_checked: int = 0  # payload hashes recomputed (only with payloads=True)
    no_checksum: list[str] = field(default_factory=list)  # older ledger rows
    unledgered: list[str] = field(default_factory=list)  # committed, ledger row still to come
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


class CorruptEventLog(RuntimeError):
    """Batch files do not match the ledger; the message names each file and its stream."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(
            f"the event log is damaged: {listed}{more}. Refusing to read it. Run "
            "`kommunkvalitet verify` for the full list and docs/event-log.md (Recovery) for the "
            "fix: `kommunkvalitet verify --repair`, then `kommunkvalitet ingest`."
        )


def _batch_rows(log: LogLayout) -> tuple[dict[tuple[str, str], dict], set[tuple[str, str]]]:
    """Ledger rows of committed batches by (stream, file name), and the quarantined batches."""
    rows, quarantined = {}, set()
    for row in log.ledger().to_pylist():
        if row["status"] == "quarantined":
            quarantined.add((row["stream"], row["batch_id"]))
        elif row["status"] in BATCH_STATUSES and row["event_file"]:
            rows[(row["stream"], row["event_file"])] = row
    return rows, quarantined


def check_files(log: LogLayout, streams: Iterable[str] | None = None, *,
                payloads: bool = False, trusted: bool = False) -> IntegrityReport:
    """Every batch file of `streams` (default all) against its ledger row; `payloads` also
    recomputes each event's payload hash and checks the current-state files (the `verify`
    command; slower). `trusted` (the read and append path) hashes only files whose size or
    mtime changed since they last matched (trust.py); a size change is always caught."""
    report = IntegrityReport()
    names = list(streams) if streams is not None else list(log.streams)
    rows, quarantined = _batch_rows(log)
    for stream in names:
        folder = log.stream_dir(stream)
        present = {p.name for p in folder.glob("*.parquet")}
        intact: list[Path] = []
        cache = trust.load(log, stream) if trusted else None
        known = dict(cache or {})
        for name in sorted(present):
            path = folder / name
            report.files_checked += 1
            if name == EMPTY_FILE_NAME:
                _check_readable(path, stream, None, report)
                continue
            row = rows.get((stream, name))
            if row is None:
                if (stream, path.stem) in quarantined:
                    continue  # put back by hand after a repair: it is no longer part of the log
                report.unledgered.append(str(path))
                continue
            if _check_one(path, stream, row, report, cache):
                intact.append(path)
        if cache is not None and cache != known:
            trust.save(log, stream, {k: v for k, v in cache.items() if k in present})
        for (row_stream, name), row in rows.items():
            if row_stream == stream and name not in present and (
                    (stream, row["batch_id"]) not in quarantined):
                report.problems.append(Problem(
                    stream, str(folder / name), "missing",
                    "the ledger records this batch but its file is gone", row["batch_id"]))
        if payloads and intact:
            _check_payloads(log, stream, intact, report)
        if payloads and not report.problems:
            _check_state(log, stream, report)
    return report


def _check_one(path: Path, stream: str, row: dict, report: IntegrityReport,
               cache: dict[str, trust.Entry] | None = None) -> bool:
    """`cache` given (a trusted check): skip the hash of a file unchanged since it matched,
    and record each file whose hash matches now."""
    expected_sha, expected_bytes = row.get("file_sha256"), row.get("file_bytes")
    if not expected_sha:
        report.no_checksum.append(str(path))
        return _check_readable(path, stream, int(row["upserted"]) + int(row["deleted"]), report,
                               batch_id=row["batch_id"])
    stat = path.stat()
    size = stat.st_size
    if (cache is not None and size == expected_bytes
            and trust.trusted(cache, path, size, stat.st_mtime_ns, expected_sha)):
        report.files_trusted += 1
        return True
    report.bytes_checked += size
    if expected_bytes is not None and size != expected_bytes:
        kind = "truncated" if size < expected_bytes else "checksum"
        report.problems.append(Problem(stream, str(path), kind,
                                       f"{size:,} bytes, the ledger recorded {expected_bytes:,}",
                                       row["batch_id"]))
        return False
    actual, _ = file_digest(path)
    if actual != expected_sha:
        report.problems.append(Problem(stream, str(path), "checksum",
                                       f"sha256 {actual[:12]}…, the ledger recorded "
                                       f"{expected_sha[:12]}… (the file was changed)",
                                       row["batch_id"]))
        return False
    if cache is not None:
        cache[path.name] = (size, stat.st_mtime_ns, expected_sha)
    return True


def _check_state(log: LogLayout, stream: str, report: IntegrityReport) -> None:
    """A current-state file that claims to match the log must equal a recomputation from it
    (a stale one is not a problem: the next writer rebuilds it)."""
    current = state.fresh(log, stream)
    if current is None:
        return
    differing = state.differences(log, stream, current)
    if differing:
        report.problems.append(Problem(
            stream, str(current.path), "state",
            "the current-state file does not match the log "
            + ("(unreadable)" if differing < 0 else f"({differing:,} rows differ)")
            + "; `verify --repair` drops it and the next ingest rebuilds it"))


def _check_readable(path: Path, stream: str, expected_rows: int | None, report: IntegrityReport,
                    batch_id: str | None = None) -> bool:
    """No checksum to compare: at least the Parquet footer must parse and the count match."""
    try:
        rows = pq.read_metadata(path).num_rows
    except Exception as exc:  # noqa: BLE001 - any parse failure means the same: damaged
        report.problems.append(Problem(stream, str(path), "unreadable",
                                       f"not readable Parquet ({exc})", batch_id))
        return False
    if expected_rows is not None and rows != expected_rows:
        report.problems.append(Problem(stream, str(path), "row_count",
                                       f"{rows:,} events, the ledger recorded {expected_rows:,}",
                                       batch_id))
        return False
    return True


def _check_payloads(log: LogLayout, stream: str, files: list[Path], report: IntegrityReport) -> None:
    """Each event's payload_hash must be the sha256 of its payload (set-wise, in DuckDB)."""
    with log._connect() as con:
        total, bad = con.execute(
            """
            select count(*), list(distinct filename) filter (where payload is not null
                   and sha256(payload) <> payload_hash)
            from read_parquet(?, filename = true)
            """,
            [[str(p) for p in files]],
        ).fetchone()
    report.events_checked += int(total)
    for name in bad or []:
        report.problems.append(Problem(stream, str(name), "payload_hash",
                                       "an event's payload no longer matches its stored hash",
                                       Path(name).stem))


def quarantine(log: LogLayout, problems: Iterable[Problem]) -> list[Path]:
    """Move each damaged batch file to `_quarantine/<stream>/` and ledger it as quarantined.

    The ledger row makes the next ingest of the stream a full fetch (ingest.incremental_
    from_date), which re-fetches what the batch held; the file is kept for inspection.
    """
    moved = []
    for problem in problems:
        # the stream's history changes (or its state was wrong): its derived files go
        state.invalidate(log, problem.stream)
        trust.forget(log, problem.stream)
        if problem.batch_id is None:
            continue
        source = Path(problem.path)
        target = log.events_dir / QUARANTINE_DIR / problem.stream / source.name
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), target)
            moved.append(target)
        entry = LedgerEntry(
            batch_id=problem.batch_id, stream=problem.stream, recorded_at=datetime.now(UTC),
            status="quarantined", mode="repair", event_file=source.name,
            note=json.dumps({"kind": problem.kind, "detail": problem.detail,
                             "moved_to": str(target) if source.exists() or target.exists()
                             else None}, ensure_ascii=False),
        )
        log._write_atomically(
            entry.to_table(),
            log.ledger_dir / f"{problem.batch_id}--{problem.stream}--quarantined-{os.getpid()}.parquet")
    return moved
