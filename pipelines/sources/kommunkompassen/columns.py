"""The columns of the import format and finding them in a header typed by hand.

Headers are compared after `fold()`, so `År`, `ar` and `AR` are one column and `Område nr`,
`omrade_nr` and `OMRÅDE-NR` another. The header is the first row (of the first few non-empty
ones, so a title line above it does no harm) that names every required column; a file without
one is unusable and the reason names the columns that are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.sources.kommunkompassen.areas import fold
from pipelines.sources.kommunkompassen.grid import Table
from pipelines.sources.kommunkompassen.problems import UnreadableFile

# The documented names, in template order (docs/assessment-import.md).
KOMMUNKOD = "kommunkod"
KOMMUN = "kommun"
AR = "år"
VERSION = "version"
OMRADE_NR = "område_nr"
OMRADE = "område"
POANG = "poäng"
SVERIGESNITT = "sverigesnitt"
TOTALT = "totalt"
STYRKOR = "styrkor"
FORBATTRINGSOMRADEN = "förbättringsområden"

COLUMNS: tuple[str, ...] = (
    KOMMUNKOD, KOMMUN, AR, VERSION, OMRADE_NR, OMRADE, POANG, SVERIGESNITT, TOTALT, STYRKOR,
    FORBATTRINGSOMRADEN,
)
# Each group needs at least one of its columns.
REQUIRED: tuple[tuple[str, ...], ...] = ((KOMMUNKOD, KOMMUN), (AR,), (OMRADE_NR, OMRADE), (POANG,))
HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class Header:
    """Where each known column sits, and how the file spelled it."""

    row: int
    width: int
    index: dict[str, int]
    written: dict[str, str]
    unknown: list[str] = field(default_factory=list)

    def has(self, column: str) -> bool:
        return column in self.index

    def name(self, *columns: str) -> str:
        """The header(s) as written, for a Problem: `Kommunkod / Kommun`."""
        return " / ".join(self.written[c] for c in columns if c in self.written)

    def cell(self, cells: list[str], column: str) -> str:
        position = self.index.get(column)
        if position is None or position >= len(cells):
            return ""
        return cells[position]


def _group_text(group: tuple[str, ...]) -> str:
    return " eller ".join(group)


def _parse(path: Path, number: int, cells: list[str], by_folded: dict[str, str],
           required: tuple[tuple[str, ...], ...]) -> tuple[Header, list[str]]:
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    unknown: list[str] = []
    for position, raw in enumerate(cells):
        text = raw.strip()
        if not text:
            continue
        column = by_folded.get(fold(text))
        if column is None:
            unknown.append(text)
            continue
        if column in index:
            raise UnreadableFile(
                path, f"kolumnen {column} finns flera gånger i rubrikraden (rad {number}: "
                f"\"{written[column]}\" och \"{text}\")"
            )
        index[column] = position
        written[column] = text
    header = Header(row=number, width=len(cells), index=index, written=written, unknown=unknown)
    missing = [_group_text(g) for g in required if not any(c in index for c in g)]
    return header, missing


def find_header(path: Path, table: Table, columns: tuple[str, ...] = COLUMNS,
                required: tuple[tuple[str, ...], ...] = REQUIRED) -> Header:
    """The header row, or UnreadableFile naming the required columns that are missing.

    `columns` and `required` default to the Kommunkompassen format; another import format
    (initiatives) passes its own."""
    by_folded = {fold(name): name for name in columns}
    candidates = [(n, cells) for n, cells in table.rows if any(c.strip() for c in cells)]
    best: tuple[int, list[str], list[str]] | None = None
    for number, cells in candidates[:HEADER_SEARCH_ROWS]:
        header, missing = _parse(path, number, cells, by_folded, required)
        if not missing:
            return header
        if best is None or len(header.index) > best[0]:
            best = (len(header.index), cells, missing)
    if best is None:
        raise UnreadableFile(path, "filen har inga rader")
    found, cells, missing = best
    hint = ""
    if found <= 1 and any("\t" in c for c in cells):
        hint = "; kolumnerna verkar vara åtskilda med tabb, spara som CSV med semikolon"
    elif found <= 1 and len(cells) == 1 and table.delimiter:
        hint = "; kolumnerna ska skiljas med semikolon (;) eller komma (,)"
    if found == 0:
        wanted = ", ".join(_group_text(g) for g in required)
        raise UnreadableFile(path, f"hittar ingen rubrikrad med kolumnerna {wanted}{hint}")
    noun = "kolumnen" if len(missing) == 1 else "kolumnerna"
    raise UnreadableFile(path, f"rubrikraden saknar {noun} {', '.join(missing)}{hint}")
