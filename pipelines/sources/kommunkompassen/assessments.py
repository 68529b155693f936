"""Checks across the rows of one assessment (municipality x year x version), and the records.

Row checks cannot see these: the same area typed twice (the later row is rejected and points
at the first), `totalt` stated differently on two rows of one assessment (the later row is
rejected), and the warnings that do not reject: fewer than 8 areas, and area scores that do
not add up to the stated total (published totals are sometimes off by rounding).

The stated total is an assessment-level fact, so every record of the assessment carries it,
whether the analyst typed it on one row or on all eight: both files give the same payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.sources.kommunkompassen import columns as col
from pipelines.sources.kommunkompassen.areas import AREA_NUMBERS
from pipelines.sources.kommunkompassen.columns import Header
from pipelines.sources.kommunkompassen.problems import Problem
from pipelines.sources.kommunkompassen.rows import Fact
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.sources.records import SourceRecord

Assessment = tuple[str, int, int]


@dataclass
class Checked:
    facts: list[Fact] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _points(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def check_assessments(file: str, header: Header, facts: list[Fact]) -> Checked:
    """Reject later duplicates and conflicting totals; warn on incomplete or mismatched sums."""
    out = Checked()
    first_row: dict[tuple[str, int, int, int], int] = {}
    stated: dict[Assessment, tuple[float, int]] = {}
    for fact in facts:
        area_cols = header.name(col.OMRADE_NR, col.OMRADE) or None
        if fact.key in first_row:
            out.problems.append(Problem(
                file, fact.row, area_cols, str(fact.area),
                f"samma kommun, år, version och område ({fact.area}) som rad {first_row[fact.key]}",
            ))
            continue
        if fact.total is not None:
            earlier = stated.get(fact.assessment)
            if earlier and earlier[0] != fact.total:
                out.problems.append(Problem(
                    file, fact.row, header.name(col.TOTALT), _points(fact.total),
                    f"totalt {_points(fact.total)} skiljer sig från totalt {_points(earlier[0])} "
                    f"på rad {earlier[1]} för samma bedömning",
                ))
                continue
            stated.setdefault(fact.assessment, (fact.total, fact.row))
        first_row[fact.key] = fact.row
        out.facts.append(fact)
    by_assessment: dict[Assessment, list[Fact]] = {}
    for fact in out.facts:
        by_assessment.setdefault(fact.assessment, []).append(fact)
    for assessment, members in by_assessment.items():
        out.warnings.extend(_assessment_warnings(file, header, members, stated.get(assessment)))
    return out


def _assessment_warnings(
    file: str, header: Header, members: list[Fact], stated: tuple[float, int] | None
) -> list[Problem]:
    municipality, year, version = members[0].assessment
    what = f"bedömningen {municipality} {year} ({version} års version)"
    present = {f.area for f in members}
    if len(present) < len(AREA_NUMBERS):
        missing = ", ".join(str(n) for n in AREA_NUMBERS if n not in present)
        return [Problem(
            file, members[0].row, header.name(col.OMRADE_NR, col.OMRADE) or None, "",
            f"{what} har {len(present)} av 8 områden (saknas: {missing})",
        )]
    if stated is None:
        return []
    total, row = stated
    summed = round(sum(f.score for f in members), 6)
    if summed == total:
        return []
    diff = round(abs(summed - total), 6)
    return [Problem(
        file, row, header.name(col.TOTALT), _points(total),
        f"summan av områdena i {what} är {_points(summed)} men totalt anges till "
        f"{_points(total)} (skillnad {_points(diff)} poäng)",
    )]


def to_records(facts: list[Fact], source: str) -> list[SourceRecord]:
    """One record per fact, payload in canonical form; the total taken per assessment."""
    totals: dict[Assessment, float] = {}
    for fact in facts:
        if fact.total is not None:
            totals.setdefault(fact.assessment, fact.total)
    records = []
    for fact in facts:
        payload = {
            "municipality": fact.municipality,
            "year": fact.year,
            "version": fact.version,
            "area": fact.area,
            "area_label": fact.area_label,
            "score": float(fact.score),
            "benchmark": None if fact.benchmark is None else float(fact.benchmark),
            "total_stated": totals.get(fact.assessment),
            "strengths": fact.strengths,
            "improvement_areas": fact.improvement_areas,
        }
        key = KOMMUNKOMPASSEN.entity_key(*fact.key)
        records.append(SourceRecord(key, payload, False, source))
    return records
