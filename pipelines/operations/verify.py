"""`kommunkvalitet verify`: every batch file against the ledger, every published file against
the manifest, and (with payloads) every event's payload against its stored hash.

`status` runs the same check without the payload pass (file sizes and sha256 only, cheap
enough for a monitor; docs/operations.md has the measured cost), so "healthy" includes "the
data on disk is the data that was written".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pipelines.eventlog.integrity import IntegrityReport, check_files
from pipelines.eventlog.store import EventLog
from pipelines.publish.integrity import PublicationReport, verify_publication
from pipelines.publish.versions import InvalidManifest, current_version, read_manifest
from pipelines.settings import Settings


@dataclass
class PlatformReport:
    events: IntegrityReport
    publication: PublicationReport | None
    manifest: dict | None
    manifest_error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.events.ok and self.manifest_error is None and (
            self.publication is None or self.publication.ok)

    def problem_lines(self) -> list[str]:
        lines = [f"event log: {p}" for p in self.events.problems]
        if self.manifest_error:
            lines.append(f"publication: {self.manifest_error}")
        if self.publication:
            lines += [f"publication {self.publication.version}: {p}"
                      for p in self.publication.problems]
        return lines

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "problems": len(self.problem_lines()),
            "event_files_checked": self.events.files_checked,
            "event_bytes_checked": self.events.bytes_checked,
            "events_payload_checked": self.events.events_checked,
            "no_checksum": len(self.events.no_checksum),
            "unledgered": len(self.events.unledgered),
            "published_files_checked": self.publication.files_checked if self.publication else 0,
            "published_hashes_recorded": (self.publication.hashes_recorded
                                          if self.publication else None),
            "seconds": round(self.seconds, 2),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary(), "problem_lines": self.problem_lines(),
            "event_problems": [vars(p) for p in self.events.problems],
            "no_checksum_files": self.events.no_checksum,
            "unledgered_files": self.events.unledgered,
            "publication": self.publication.as_dict() if self.publication else None,
            "manifest_error": self.manifest_error,
        }


def verify_platform(settings: Settings, *, payloads: bool = True) -> PlatformReport:
    started = time.monotonic()
    layout = settings.layout
    log = EventLog(layout.events_dir)
    events = check_files(log, payloads=payloads) if layout.events_dir.is_dir() else (
        IntegrityReport())
    manifest, manifest_error, publication = None, None, None
    version = current_version(layout.published_dir) if layout.published_dir.is_dir() else None
    if version is not None:
        try:
            manifest = read_manifest(layout.published_dir, version)
        except InvalidManifest as exc:
            manifest_error = str(exc)
        else:
            publication = verify_publication(layout.published_dir, version, manifest)
    return PlatformReport(events, publication, manifest, manifest_error,
                          time.monotonic() - started)


def render(report: PlatformReport) -> str:
    s = report.summary()
    lines = [
        (f"kommunkvalitet verify: {'OK' if report.ok else 'PROBLEMS FOUND'} "
         f"({s['seconds']} s)"),
        (f"  event log: {s['event_files_checked']} batch files, {s['event_bytes_checked']:,} "
         f"bytes checked against the ledger; {s['events_payload_checked']:,} payload hashes "
         "recomputed"),
    ]
    if report.events.no_checksum:
        lines.append(f"  {len(report.events.no_checksum)} files have no checksum recorded "
                     "(ledger rows older than checksums): checked readable, with the ledger's "
                     "event count")
    if report.events.unledgered:
        lines.append(f"  {len(report.events.unledgered)} committed files await their ledger "
                     "row (a writer was killed; the next ingest of the stream ledgers them)")
    if report.publication:
        p = report.publication
        lines.append(f"  publication {p.version}: " + (
            f"{p.files_checked} files checked against manifest.json" if p.hashes_recorded
            else "no file hashes recorded (published before they were)"))
    elif report.manifest_error is None:
        lines.append("  publication: none yet")
    lines += [f"  ! {line}" for line in report.problem_lines()]
    if report.events.problems:
        lines.append("  recovery: `kommunkvalitet verify --repair` moves the damaged batch "
                     "files to events/_quarantine/, then `kommunkvalitet ingest` re-fetches "
                     "their events (docs/event-log.md, Recovery)")
    return "\n".join(lines)
