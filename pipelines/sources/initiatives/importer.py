"""Import initiatives files: landing/initiatives/ -> events -> archive, as the assessments do.

Read, append the good rows as one atomic batch (its snapshot scope: the kommuner the file is
the register of), archive the file under its sha256 with its quarantine report, then remove it
from the landing folder. A file that cannot be read moves to landing/rejected/ with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path

from pipelines.eventlog.store import EventLog, SnapshotScope, current_payloads, records_to_table
from pipelines.settings import Layout
from pipelines.sources.initiatives.reader import REPORT_TITLE, read_initiatives_file
from pipelines.sources.initiatives.streams import INITIATIVE
from pipelines.sources.kolada.streams import KPI
from pipelines.sources.kommunkompassen.importer import (
    ImportOutcome,
    archived_outcome,
    refuse_entry,
)
from pipelines.sources.kommunkompassen.problems import UnreadableFile
from pipelines.sources.kommunkompassen.report import format_report
from pipelines.sources.landing import (
    archive_copy,
    move_to_rejected,
    refused_entries,
    waiting_files,
)
from pipelines.sources.landing import drop_examples as drop_bundled

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample" / "initiatives"


def landing_files(layout: Layout) -> list[Path]:
    return waiting_files(layout.initiative_landing_dir)


def refused_landing_entries(layout: Layout) -> list[tuple[Path, str]]:
    """Entries of the initiatives' landing folder that are not importable files, and why."""
    return refused_entries(layout.initiative_landing_dir)


def refuse_initiatives_entry(path: Path, reason: str, layout: Layout) -> ImportOutcome:
    return refuse_entry(path, reason, layout, title=REPORT_TITLE)


def known_kpis(log: EventLog) -> set[str]:
    return set(current_payloads(log, KPI))


def import_initiatives(
    path: Path,
    log: EventLog,
    *,
    layout: Layout,
    batch_id: str,
    run_id: str,
    municipalities: Mapping[str, str],
    networks: Collection[str],
    remove: bool,
) -> ImportOutcome:
    """Import one file. `remove`: it lives in the landing folder and leaves it when done."""
    path = Path(path)
    try:
        result = read_initiatives_file(path, municipalities=municipalities,
                                       known_kpis=known_kpis(log), networks=networks)
    except UnreadableFile as error:
        report = format_report(error, title=REPORT_TITLE)
        outcome = ImportOutcome(file=path.name, status="rejected", report=report,
                                problems=[error.as_problem().to_dict()])
        if remove:
            outcome.rejected_to = move_to_rejected(path, layout.rejected_dir, report)
        return outcome
    archive_copy(path, layout.initiative_archive_dir, result.sha256)  # before the events
    batch = None
    if result.records:
        batch = log.append(
            INITIATIVE,
            records_to_table(result.records),
            batch_id=batch_id,
            snapshot=SnapshotScope(result.scope()),
            scope_source=result.source,
            ledger={
                "run_id": run_id, "mode": "file", "source": result.source,
                "scope": json.dumps(result.scope()), "pages": 1, "requests": 0,
                "note": f"{result.rows_read} rows, {len(result.rejected_rows)} rejected",
            },
        )
    return archived_outcome(path, result, batch, format_report(result, title=REPORT_TITLE),
                            layout.initiative_archive_dir, remove=remove)


def drop_examples(layout: Layout) -> list[Path]:
    """The sample's example register into the landing folder, once per data dir."""
    return drop_bundled(EXAMPLES_DIR, layout.initiative_landing_dir, layout.initiative_archive_dir)
