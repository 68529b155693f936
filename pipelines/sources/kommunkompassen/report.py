"""The quarantine report: what happened to a file, in Swedish, for the person who typed it.

One header line with the counts, then one line per rejected row and per warning, each naming
the row and column as the spreadsheet shows them, so the analyst can go straight to the cell:
`rad 7, kolumn "poäng", värde "120": poängen måste vara mellan 0 och 100`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from pipelines.sources.kommunkompassen.problems import Problem, UnreadableFile


class _Result(Protocol):
    """What the report needs of a ReadResult (kept structural to avoid an import cycle)."""

    file: str
    sha256: str
    layout: str
    records: list[Any]
    problems: list[Problem]
    warnings: list[Problem]
    rows_read: int
    example_rows_skipped: int

    @property
    def rejected_rows(self) -> list[int]: ...


def format_problem(problem: Problem) -> str:
    where = [f"rad {problem.row}"] if problem.row is not None else ["filen"]
    if problem.column:
        where.append(f"kolumn \"{problem.column}\"")
    if problem.row is not None or problem.value:
        where.append(f"värde \"{problem.value}\"")
    return f"{', '.join(where)}: {problem.reason}"


def format_report(result_or_problems: _Result | UnreadableFile | Iterable[Problem],
                  *, title: str = "Kommunkompassen-import") -> str:
    """A ReadResult, an UnreadableFile or a list of Problems as a plain-text report; `title`
    names the import format (the initiatives import passes its own)."""
    if isinstance(result_or_problems, UnreadableFile):
        problem = result_or_problems.as_problem()
        return "\n".join([
            f"{title}: {problem.file}",
            "Filen kan inte användas: ingen rad har lästs in.",
            f"  {format_problem(problem)}",
        ]) + "\n"
    if hasattr(result_or_problems, "records"):
        result: _Result = result_or_problems  # type: ignore[assignment]
        lines = [
            f"{title}: {result.file} (sha256 {result.sha256[:12]}, {result.layout})",
            f"rader lästa: {result.rows_read}, godkända: {len(result.records)}, "
            f"avvisade: {len(result.rejected_rows)}, varningar: {len(result.warnings)}"
            + (f", exempelrader överhoppade: {result.example_rows_skipped}"
               if result.example_rows_skipped else ""),
        ]
        problems, warnings = result.problems, result.warnings
    else:
        problems = list(result_or_problems)  # type: ignore[arg-type]
        warnings = []
        rows = {p.row for p in problems}
        lines = [f"avvisade: {len(rows)}, problem: {len(problems)}"]
    if problems:
        lines.append("Avvisade rader (rättas i filen och läses in igen):")
        lines.extend(f"  {format_problem(p)}" for p in problems)
    if warnings:
        lines.append("Varningar (raderna är inlästa):")
        lines.extend(f"  {format_problem(p)}" for p in warnings)
    return "\n".join(lines) + "\n"
