"""Import Kommunkompassen files into the event log: landing folder -> events -> archive.

One function for the sensor's runs, `kommunkvalitet import` and the tests. The order is what
makes it safe to repeat: read, append the good rows (one atomic batch), archive the file under
its sha256 with its quarantine report, and only then remove it from the landing folder. A
crash before the append leaves the file where it was; after it, the rerun appends nothing (the
log is idempotent) and finishes the move. A file that cannot be read at all goes to
`landing/rejected/` with a reason file, so it never loops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.eventlog.store import BatchResult, EventLog, current_payloads, records_to_table
from pipelines.eventlog.streams import AnyOf, SnapshotScope
from pipelines.sample.reference import load_seed
from pipelines.settings import Layout
from pipelines.sources.kolada.streams import MUNICIPALITY
from pipelines.sources.kommunkompassen.reader import (
    ReadResult,
    UnreadableFile,
    format_report,
    read_assessment_file,
)
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.sources.landing import (
    LandingPathError,  # noqa: F401 - re-exported: callers catch it from here
    archive_copy,
    archive_imported,
    entry_problem,
    move_to_rejected,
    refused_entries,
    resolve_in,
    waiting_files,
)

IMPORTABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


@dataclass
class ImportOutcome:
    """What became of one file."""

    file: str
    status: str  # imported | rejected
    sha256: str | None = None
    rows_read: int = 0
    accepted: int = 0
    rejected_rows: int = 0
    warnings: int = 0
    batch: BatchResult | None = None
    report: str = ""
    archived_to: Path | None = None
    rejected_to: Path | None = None
    problems: list[dict] = field(default_factory=list)

    @property
    def events_appended(self) -> int:
        return self.batch.appended if self.batch else 0

    def summary(self) -> str:
        if self.status == "rejected":
            # `import PATH` leaves a file where it was: there is nowhere it was moved to
            where = (f"flyttad till {self.rejected_to}" if self.rejected_to is not None
                     else "filen ligger kvar där den var")
            reason = self.problems[0]["reason"] if self.problems else ""
            return f"{self.file}: kunde inte läsas ({reason}), {where}" if reason else \
                f"{self.file}: kunde inte läsas, {where}"
        return (
            f"{self.file}: {self.rows_read} rader, {self.accepted} godkända, "
            f"{self.rejected_rows} avvisade, {self.warnings} varningar; "
            f"{self.events_appended} händelser tillagda"
        )

    def metadata(self) -> dict[str, object]:
        return {
            "file": self.file, "status": self.status, "sha256": self.sha256,
            "rows_read": self.rows_read, "accepted": self.accepted,
            "rejected_rows": self.rejected_rows, "warnings": self.warnings,
            "events_appended": self.events_appended,
        }


def landing_files(layout: Layout) -> list[Path]:
    """Files waiting in the assessments' landing folder."""
    return waiting_files(layout.assessment_landing_dir)


def refused_landing_entries(layout: Layout) -> list[tuple[Path, str]]:
    """Entries of the assessments' landing folder that are not importable files, and why."""
    return refused_entries(layout.assessment_landing_dir)


def refuse_entry(path: Path, reason: str, layout: Layout, *, title: str = "Kommunkompassen-import"
                 ) -> ImportOutcome:
    """A landing entry that is no importable file (a link out of the folder, a FIFO, a folder
    named `.csv`): a line in the report, and moved (the entry itself, never a link's target)
    to landing/rejected/ with its reason, so it is reported once, not every night."""
    error = UnreadableFile(path, reason)
    return _reject(path, error, layout, remove=True, title=title)


def landing_entry_problem(layout: Layout, path: Path) -> str | None:
    """Why a named landing entry (the sensor's) is no importable file, or None."""
    return entry_problem(layout.assessment_landing_dir, path)


def resolve_landing_name(layout: Layout, name: str) -> Path:
    """The file `name` inside the assessments' landing folder; refuses anything that escapes."""
    return resolve_in(layout.assessment_landing_dir, name)


def known_municipalities(log: EventLog) -> dict[str, str]:
    """Code -> name of the kommuner: from the Kolada stream when ingested, else the bundled
    public reference (so an import works on a data dir that never talked to Kolada)."""
    current = current_payloads(log, MUNICIPALITY)
    rows = current.values() if current else load_seed().municipalities
    return {m["id"]: m["title"] for m in rows if m.get("type") == "K"}


def _snapshot(result: ReadResult) -> AnyOf:
    return AnyOf(tuple(SnapshotScope(scope) for scope in result.scopes()))


def _reject(path: Path, error: UnreadableFile, layout: Layout, *, remove: bool,
            title: str = "Kommunkompassen-import") -> ImportOutcome:
    report = format_report(error, title=title)
    outcome = ImportOutcome(file=path.name, status="rejected", report=report,
                            problems=[error.as_problem().to_dict()])
    if remove:
        outcome.rejected_to = move_to_rejected(path, layout.rejected_dir, report)
    return outcome


def import_file(
    path: Path,
    log: EventLog,
    *,
    layout: Layout,
    batch_id: str,
    run_id: str,
    municipalities: Mapping[str, str],
    remove: bool,
) -> ImportOutcome:
    """Import one file. `remove`: it lives in the landing folder and leaves it when done."""
    path = Path(path)
    try:
        result = read_assessment_file(path, municipalities=municipalities)
    except UnreadableFile as error:
        return _reject(path, error, layout, remove=remove)
    # the archive copy first: an append whose file cannot be archived would leave events
    # behind and the file in landing/, failing every night on it again
    archive_copy(path, layout.assessment_archive_dir, result.sha256)
    batch = None
    if result.records:
        batch = log.append(
            KOMMUNKOMPASSEN,
            records_to_table(result.records),
            batch_id=batch_id,
            snapshot=_snapshot(result),
            scope_source=result.source,
            ledger={
                "run_id": run_id,
                "mode": "file",
                "source": result.source,
                "scope": json.dumps(result.scopes()),
                "pages": 1,
                "requests": 0,
                "note": f"{result.rows_read} rows, {len(result.rejected_rows)} rejected",
            },
        )
    return archived_outcome(path, result, batch, format_report(result),
                            layout.assessment_archive_dir, remove=remove)


def archived_outcome(path: Path, result, batch: BatchResult | None, report: str,
                     archive_root: Path, *, remove: bool) -> ImportOutcome:
    """Archive an imported file with its report and say what became of it. `result` is a
    file import's read result (records, problems, warnings, rows_read, rejected_rows, sha256),
    shared by the assessment and initiative imports."""
    archive = archive_imported(
        path, archive_root, result.sha256, report,
        [p.to_dict() for p in result.problems], [w.to_dict() for w in result.warnings],
        remove=remove,
    )
    return ImportOutcome(
        file=path.name, status="imported", sha256=result.sha256, rows_read=result.rows_read,
        accepted=len(result.records), rejected_rows=len(result.rejected_rows),
        warnings=len(result.warnings), batch=batch, report=report, archived_to=archive,
        problems=[p.to_dict() for p in result.problems],
    )
