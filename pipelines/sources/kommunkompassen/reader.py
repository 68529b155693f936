"""Read one Kommunkompassen import file: the entry point the sensor, the CLI and tests call.

Pure: bytes in, records and problems out; nothing is written. A file that cannot be used at
all raises `UnreadableFile`; otherwise good rows always land and each rejected row becomes a
`Problem` pointing at the row and column a spreadsheet user sees (docs/assessment-import.md).

The scope a file speaks for is the assessments (municipality x year x version) its good rows
contain, minus any assessment a rejected row may belong to: the event log tombstones keys
missing from a snapshot, and a row rejected for a typo must never look like a deletion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.sources.kommunkompassen.assessments import (
    Assessment,
    check_assessments,
    to_records,
)
from pipelines.sources.kommunkompassen.columns import find_header
from pipelines.sources.kommunkompassen.municipalities import MunicipalityIndex
from pipelines.sources.kommunkompassen.problems import Problem, UnreadableFile
from pipelines.sources.kommunkompassen.report import format_report
from pipelines.sources.kommunkompassen.rows import Fact, PartialKey, RowReader
from pipelines.sources.kommunkompassen.table import load_table, read_file_bytes
from pipelines.sources.records import SourceRecord

__all__ = [
    "Problem", "ReadResult", "UnreadableFile", "format_report", "read_assessment_file",
]

SCOPE_PARTS = ("municipality", "year", "version")


@dataclass
class ReadResult:
    """What one file said: records to land, rejected rows, warnings and the file's identity.

    `rows_read` counts the non-empty rows below the header; it equals accepted + rejected
    rows + `example_rows_skipped`.
    """

    file: str
    sha256: str
    layout: str
    records: list[SourceRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    example_rows_skipped: int = 0
    held_back: list[PartialKey] = field(default_factory=list, repr=False)

    @property
    def source(self) -> str:
        return f"{self.file}#sha256:{self.sha256}"

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})

    def assessments(self) -> list[Assessment]:
        """Every (municipality, year, version) the good rows contain."""
        return sorted({_assessment(r.payload) for r in self.records})

    def snapshot_assessments(self) -> list[Assessment]:
        """The assessments this file speaks for completely: no rejected row may belong there."""
        landed = {_key(r.payload) for r in self.records}
        return [a for a in self.assessments() if not _held_back(a, self.held_back, landed)]

    def scope(self) -> dict[str, list[str]]:
        """Scope part -> sorted values over `snapshot_assessments()`, for a SnapshotScope.

        Always has all three parts (an empty list matches nothing; an empty mapping would mean
        the whole stream). It is a cross product: exact only when `scopes()` has one entry.
        """
        chosen = self.snapshot_assessments()
        return {
            part: sorted({str(a[i]) for a in chosen}) for i, part in enumerate(SCOPE_PARTS)
        }

    def scopes(self) -> list[dict[str, list[str]]]:
        """Exact scopes, one per (year, version), whose union is `snapshot_assessments()`."""
        groups: dict[tuple[int, int], set[str]] = {}
        for municipality, year, version in self.snapshot_assessments():
            groups.setdefault((year, version), set()).add(municipality)
        return [
            {"municipality": sorted(codes), "year": [str(year)], "version": [str(version)]}
            for (year, version), codes in sorted(groups.items())
        ]


def _assessment(payload: Mapping[str, Any]) -> Assessment:
    return (str(payload["municipality"]), int(payload["year"]), int(payload["version"]))


def _key(payload: Mapping[str, Any]) -> tuple[str, int, int, int]:
    return (*_assessment(payload), int(payload["area"]))


def _held_back(
    assessment: Assessment, partials: list[PartialKey], landed: set[tuple[str, int, int, int]]
) -> bool:
    """Whether a rejected row may be this assessment's (a part it could not read matches all)."""
    for p in partials:
        parts = (p.municipality, p.year, p.version)
        if any(mine is not None and mine != theirs for mine, theirs in zip(parts, assessment)):
            continue
        if None not in parts and p.area is not None and (*assessment, p.area) in landed:
            continue  # a later duplicate of a row that landed: its key is not missing
        return True
    return False


def read_assessment_file(path: Path, *, municipalities: Mapping[str, str]) -> ReadResult:
    """Read `path` (CSV or XLSX); `municipalities` maps 4-digit code -> name ("1784" -> "Arvika").

    Raises UnreadableFile when nothing in the file can be used.
    """
    path = Path(path)
    data = read_file_bytes(path)
    table = load_table(path, data)
    header = find_header(path, table)
    result = ReadResult(
        file=path.name, sha256=hashlib.sha256(data).hexdigest(), layout=table.layout
    )
    for name in header.unknown:
        result.warnings.append(
            Problem(path.name, header.row, name, "", "okänd kolumn, ignoreras")
        )
    reader = RowReader(path.name, header, MunicipalityIndex(municipalities), table.delimiter)
    facts: list[Fact] = []
    row_warnings: list[Problem] = []
    for number, cells in table.rows:
        if number <= header.row:
            continue
        outcome = reader.read(number, cells)
        if outcome is None:
            continue
        result.rows_read += 1
        if outcome.example:
            result.example_rows_skipped += 1
        elif outcome.fact is None:
            result.problems.extend(outcome.problems)
            result.held_back.append(outcome.partial)
        else:
            facts.append(outcome.fact)
            row_warnings.extend(outcome.warnings)
    if result.rows_read == 0:
        raise UnreadableFile(path, f"filen har inga datarader under rubrikraden (rad {header.row})")
    checked = check_assessments(path.name, header, facts)
    rejected = {p.row for p in checked.problems}
    result.problems.extend(checked.problems)
    result.held_back.extend(PartialKey(*f.key) for f in facts if f.row in rejected)
    result.warnings.extend(w for w in row_warnings if w.row not in rejected)
    result.warnings.extend(checked.warnings)
    result.records = to_records(checked.facts, result.source)
    result.problems.sort(key=_order)
    result.warnings.sort(key=_order)
    return result


def _order(problem: Problem) -> int:
    return problem.row or 0
