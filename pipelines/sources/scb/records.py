"""SCB codes and cells -> population records in Kolada's units and the platform's age bands.

SCB writes Riket as `00` and the län as `01`-`25`; Kolada (and so the rest of the platform)
writes `0000` and `0001`-`0025`. Kommun codes are the same four digits in both. Ages are
single years `0`..`99` and `100+`; the bands sum them, and a band is only recorded when every
one of its ages has a number (a partial sum would look like a falling population).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.sources.records import SourceRecord
from pipelines.sources.scb.jsonstat import Dataset
from pipelines.sources.scb.streams import POPULATION

# (label, first age, last age or None for open-ended)
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5),
    ("6-15", 6, 15),
    ("16-19", 16, 19),
    ("20-64", 20, 64),
    ("65-79", 65, 79),
    ("80+", 80, None),
)
BAND_LABELS = tuple(label for label, _, _ in AGE_BANDS)

_AGE_RE = re.compile(r"^(\d{1,3})(\+)?$")
_SCB_REGION_RE = re.compile(r"^\d{2}$|^\d{4}$")
_KOLADA_UNIT_RE = re.compile(r"^\d{4}$")


class ScbParseError(ValueError):
    """An SCB answer does not have the shape the platform relies on; names the cell."""


def to_kolada_unit(scb_region: str) -> str:
    """`00` -> `0000`, `17` -> `0017`, `1784` -> `1784`."""
    if not _SCB_REGION_RE.match(scb_region):
        raise ScbParseError(f"Region {scb_region!r} is neither a 2-digit län/Riket code nor a "
                            "4-digit kommun code")
    return scb_region if len(scb_region) == 4 else f"00{scb_region}"


def to_scb_region(kolada_unit: str) -> str:
    """`0000` -> `00`, `0017` -> `17`, `1784` -> `1784` (kommun codes never start with 00)."""
    if not _KOLADA_UNIT_RE.match(kolada_unit):
        raise ScbParseError(f"unit {kolada_unit!r} is not a 4-digit Kolada code")
    return kolada_unit.removeprefix("00")


def age_of(code: str) -> int:
    """`0`..`99` -> the age, `100+` -> 100; anything else (such as `tot`) is an error."""
    m = _AGE_RE.match(code.strip())
    if not m:
        raise ScbParseError(f"age code {code!r} is not a single year of age (like '7' or "
                            "'100+')")
    return int(m.group(1))


def band_of(age: int) -> str:
    for label, first, last in AGE_BANDS:
        if age >= first and (last is None or age <= last):
            return label
    raise ScbParseError(f"age {age} is in no band")


def single_year_ages(codes: Iterable[str]) -> list[str]:
    """The codes of a table's Alder variable that are single years (drops `tot` and the like)."""
    return [c for c in codes if _AGE_RE.match(c.strip())]


def check_ages_complete(codes: Iterable[str]) -> None:
    """Every band needs all its ages: 0..99 and an open top (100+) must all be there."""
    ages = {age_of(c) for c in codes}
    missing = [a for a in range(100) if a not in ages]
    if missing:
        raise ScbParseError(f"the table's Alder variable lacks ages {missing[:10]}"
                            f"{' ...' if len(missing) > 10 else ''}: bands cannot be summed")


@dataclass(frozen=True)
class Provenance:
    """Where one answer came from: the table, its `updated` stamp and the POST body's hash."""

    url: str
    table: str
    updated: str | None
    body_sha256: str

    def source(self) -> str:
        return (f"{self.url}#table={self.table};updated={self.updated or 'unknown'};"
                f"body_sha256={self.body_sha256}")


def population_records(dataset: Dataset, provenance: Provenance,
                       *, ages: Iterable[str] | None = None, region_dim: str = "Region",
                       age_dim: str = "Alder", time_dim: str = "Tid") -> list[SourceRecord]:
    """Sum single years of age into bands per (unit, year); every other dimension (contents,
    and sex if it was not eliminated) is summed over as well.

    `ages` are all the ages a band may need (default: the answer's own); a band is complete
    only when each of its ages in `ages` has a number in this answer, so an answer that holds
    part of a band (a query split along Alder) yields no sum for it rather than a partial one.
    """
    sums: dict[tuple[str, int, str], float] = {}
    counts: dict[tuple[str, int, str], int] = {}
    ages_in_band: dict[str, int] = {}
    for code in (dataset.dimension(age_dim).codes if ages is None else ages):
        ages_in_band[band_of(age_of(code))] = ages_in_band.get(band_of(age_of(code)), 0) + 1
    others = [d for d in dataset.dimensions if d.id not in (region_dim, age_dim, time_dim)]
    combos = 1
    for dim in others:
        combos *= len(dim.codes)
    for coords, value in dataset.cells():
        if value is None:
            continue
        try:
            year = int(coords[time_dim])
        except ValueError:
            raise ScbParseError(f"{time_dim} {coords[time_dim]!r} is not a year "
                                f"(from {provenance.url})") from None
        key = (to_kolada_unit(coords[region_dim]), year, band_of(age_of(coords[age_dim])))
        sums[key] = sums.get(key, 0.0) + value
        counts[key] = counts.get(key, 0) + 1
    records: list[SourceRecord] = []
    source = provenance.source()
    for (unit, year, band), total in sorted(sums.items()):
        if counts[(unit, year, band)] < ages_in_band.get(band, 0) * combos:
            continue  # an age without a number: no band sum rather than a wrong one
        if not float(total).is_integer() or total < 0:
            raise ScbParseError(f"population of {unit} {year} {band} sums to {total}, not a "
                                f"count (from {provenance.url})")
        records.append(SourceRecord(
            entity_key=POPULATION.entity_key(unit, year, band),
            payload={"municipality": unit, "year": year, "age_band": band,
                     "population": int(total)},
            deleted=False,
            source=source,
        ))
    return records
