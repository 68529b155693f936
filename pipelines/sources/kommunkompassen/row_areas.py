"""Which area a row means, from `område_nr`, `område` or both, checked against each other.

Kept apart from the other cell checks because it is the one with judgement in it: the number
wins over a disagreeing label (with a warning, since municipalities reuse old labels), a label
alone must belong to the row's version, and a label of the other version is refused with the
version it belongs to, so the analyst knows whether the year or the label is wrong.
"""

from __future__ import annotations

import re
from typing import Protocol

from pipelines.sources.kommunkompassen import columns as col
from pipelines.sources.kommunkompassen.areas import (
    AREA_NUMBERS,
    area,
    fold,
    match_label,
    other_version,
)
from pipelines.sources.kommunkompassen.cells import CellError, integer

# "3", "3. Styrning och kontroll", "3 - Styrning och kontroll" in the `område` column.
_NUMBERED_LABEL = re.compile(r"^(\d+)\s*[.:)\-\u2013]?\s*(\D.*)?$")


class Notes(Protocol):
    """Where a check records a rejection (`fail`) or a warning (`warn`) for its row."""

    def fail(self, columns: tuple[str, ...], value: str, reason: str) -> None: ...

    def warn(self, columns: tuple[str, ...], value: str, reason: str) -> None: ...


def resolve_area(
    notes: Notes, version: int | None, nr_text: str, label_text: str
) -> tuple[int | None, str | None]:
    """(area number, area label to store), checking number and label against each other."""
    if not nr_text and not label_text:
        notes.fail((col.OMRADE_NR, col.OMRADE), "", "område saknas (ange område_nr eller område)")
        return None, None
    number_ok = True
    nr = nr_label = None
    label: str | None = None
    if nr_text:
        nr, number_ok = _area_number(notes, nr_text, (col.OMRADE_NR,))
    if label_text:
        match = _NUMBERED_LABEL.match(label_text)
        if match:
            nr_label, ok = _area_number(notes, match.group(1), (col.OMRADE,), label_text)
            number_ok = number_ok and ok
            label = match.group(2).strip() if match.group(2) else None
        else:
            label = label_text
    if not number_ok or version is None:
        return None, None
    if nr is not None and nr_label is not None and nr != nr_label:
        notes.warn(
            (col.OMRADE_NR, col.OMRADE), f"{nr_text} / {label_text}",
            f"område_nr är {nr} men område börjar med {nr_label}; område_nr används",
        )
    number_given = nr if nr is not None else nr_label
    if number_given is not None:
        if label:
            _label_against_number(notes, version, number_given, label)
        return number_given, label or area(version, number_given).label
    assert label is not None
    return _label_only(notes, version, label)


def _area_number(
    notes: Notes, text: str, columns: tuple[str, ...], value: str | None = None
) -> tuple[int | None, bool]:
    try:
        nr = integer(text, what="områdesnumret")
    except CellError as exc:
        notes.fail(columns, value or text, f"{exc} mellan 1 och 8")
        return None, False
    if nr not in AREA_NUMBERS:
        notes.fail(columns, value or text, "områdesnumret måste vara mellan 1 och 8")
        return None, False
    return nr, True


def _label_against_number(notes: Notes, version: int, nr: int, label: str) -> None:
    published = area(version, nr)
    if fold(label) == fold(published.label):
        return
    columns = (col.OMRADE,)
    match = match_label(version, label)
    if match and match.area.number == nr:
        notes.warn(columns, label, f"stavningen avviker från \"{published.label}\" "
                   f"(område {nr}, {version} års version)")
        return
    named = f"område {nr} i {version} års version heter \"{published.label}\""
    if match:
        where = f"hör till område {match.area.number} ({match.area.label}), men {named}"
    else:
        other = match_label(other_version(version), label)
        where = (
            f"hör till {other.area.version} års version (område {other.area.number}); "
            f"{named}" if other else f"stämmer inte: {named}"
        )
    notes.warn(columns, label, f"etiketten {where}; numret {nr} används")


def _label_only(notes: Notes, version: int, label: str) -> tuple[int | None, str | None]:
    match = match_label(version, label)
    if match:
        if not match.exact:
            notes.warn((col.OMRADE,), label, f"området tolkades som \"{match.area.label}\" "
                       f"(område {match.area.number}, {version} års version)")
        return match.area.number, label
    other = match_label(other_version(version), label)
    if other:
        notes.fail(
            (col.OMRADE,), label,
            f"området hör till {other.area.version} års version (område "
            f"{other.area.number}), inte till {version} års version; ange område_nr eller "
            "rätt version och år",
        )
    else:
        notes.fail((col.OMRADE,), label, f"okänt område för {version} års version")
    return None, None
