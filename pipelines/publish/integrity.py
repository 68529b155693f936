"""Are a publication's files exactly what was published? Checked against its manifest.

The publisher records every file's sha256 and size in manifest.json (`files`) as the last
step before the version folder is renamed into place; `status` and `verify` recompute them
for `current`, so a file edited, truncated or deleted after publishing (a BI tool saving
over the CSV, a bad sync) is reported instead of served. Publications from before file
hashes were recorded say so and are not failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.eventlog.checksums import file_digest
from pipelines.publish.versions import MANIFEST


def file_hashes(folder: Path, known: Mapping[str, Mapping[str, Any]] | None = None
                ) -> dict[str, dict[str, Any]]:
    """Every file under `folder` except the manifest itself, by relative POSIX path.

    `known`: records of files whose bytes were just checked (a file shared with the previous
    version, pipelines/publish/sharing.py), taken as they are when the size agrees. A shared
    file is the previous version's file (or a copy of it), so it needs no second read.
    """
    known = known or {}
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel == MANIFEST:
            continue
        record = known.get(rel)
        if record is not None and path.stat().st_size == record["bytes"]:
            out[rel] = {"sha256": record["sha256"], "bytes": record["bytes"]}
            continue
        sha256, size = file_digest(path)
        out[rel] = {"sha256": sha256, "bytes": size}
    return out


@dataclass
class PublicationReport:
    version: str
    files_checked: int = 0
    hashes_recorded: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def verify_publication(published_dir: Path, version: str, manifest: dict) -> PublicationReport:
    report = PublicationReport(version)
    recorded = manifest.get("files")
    if not recorded:
        report.hashes_recorded = False
        return report
    folder = Path(published_dir) / version
    for rel, expected in sorted(recorded.items()):
        path = folder / rel
        report.files_checked += 1
        if not path.is_file():
            report.problems.append(f"{path}: missing (the manifest lists it)")
            continue
        sha256, size = file_digest(path)
        if size != expected["bytes"]:
            report.problems.append(f"{path}: {size:,} bytes, the manifest recorded "
                                   f"{expected['bytes']:,}")
        elif sha256 != expected["sha256"]:
            report.problems.append(f"{path}: sha256 differs from the manifest (the file was "
                                   "changed after publishing)")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST and rel not in recorded:
            report.problems.append(f"{path}: not part of the publication (not in the manifest)")
    return report
