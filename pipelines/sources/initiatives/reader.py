"""Read one initiatives file (CSV or XLSX): rows -> records, rejected rows -> problems.

Pure: bytes in, records and problems out. The same file handling, Swedish cell rules and
quarantine report as the Kommunkompassen import (docs/initiatives.md): the header is found by
folded name, a bad row is rejected with the row and column a spreadsheet shows, good rows land.

One row per initiative: kommunkod or kommun, initiativ (the title), nyckeltal (one or more
Kolada KPI ids), startår, and optionally id, jämförelsegrupp (kommungrupp by default) and
beskrivning.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.sources.initiatives.streams import INITIATIVE
from pipelines.sources.kommunkompassen.areas import fold
from pipelines.sources.kommunkompassen.cells import CellError, clean, integer, one_line
from pipelines.sources.kommunkompassen.columns import Header, find_header
from pipelines.sources.kommunkompassen.controls import control_problem
from pipelines.sources.kommunkompassen.municipalities import MunicipalityIndex
from pipelines.sources.kommunkompassen.problems import Problem, UnreadableFile
from pipelines.sources.kommunkompassen.table import load_table, read_file_bytes
from pipelines.sources.records import SourceRecord

KOMMUNKOD, KOMMUN, ID, INITIATIV, NYCKELTAL, STARTAR, GRUPP, BESKRIVNING = (
    "kommunkod", "kommun", "id", "initiativ", "nyckeltal", "startår", "jämförelsegrupp",
    "beskrivning",
)
COLUMNS = (KOMMUNKOD, KOMMUN, ID, INITIATIV, NYCKELTAL, STARTAR, GRUPP, BESKRIVNING)
REQUIRED = ((KOMMUNKOD, KOMMUN), (INITIATIV,), (NYCKELTAL,), (STARTAR,))
REPORT_TITLE = "Initiativ-import"

KPI_ID = re.compile(r"^[NU]\d{5}$")
_KPI_SPLIT = re.compile(r"[\s,;]+")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_PEER_SETS = {
    "": "kommungrupp", "kommungrupp": "kommungrupp", "liknandekommuner": "liknande_kommuner",
    "liknande": "liknande_kommuner", "lan": "county", "riket": "riket",
}
MAX_TITLE = 200


@dataclass
class InitiativesRead:
    """What one file said (the shape the shared quarantine report reads)."""

    file: str
    sha256: str
    layout: str
    records: list[SourceRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    example_rows_skipped: int = 0
    held_back: set[str | None] = field(default_factory=set)

    @property
    def source(self) -> str:
        return f"{self.file}#sha256:{self.sha256}"

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.row is not None})

    def scope(self) -> dict[str, list[str]]:
        """The kommuner this file is the register of: those with good rows and no rejected row
        that may be theirs (a row whose kommun could not be read holds back every kommun)."""
        if None in self.held_back:
            return {"municipality": []}
        landed = {r.payload["municipality"] for r in self.records}
        return {"municipality": sorted(landed - self.held_back)}


def slug(title: str) -> str:
    """An id from a title: folded, runs of other characters as `-`, at most 60 characters."""
    text = clean(title).casefold()
    for a, b in (("å", "a"), ("ä", "a"), ("ö", "o"), ("é", "e"), ("ü", "u")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-") or "initiativ"


def parse_kpis(text: str) -> list[str]:
    ids: list[str] = []
    for part in _KPI_SPLIT.split(one_line(text).upper()):
        if not part:
            continue
        if not KPI_ID.match(part):
            raise CellError(f"{part} är inget Kolada-nyckeltal (N eller U och fem siffror, t.ex. "
                            "N15428)")
        if part not in ids:
            ids.append(part)
    if not ids:
        raise CellError("ange minst ett nyckeltal, t.ex. N15428")
    return ids


def parse_peer_set(text: str, networks: Collection[str]) -> str:
    value = one_line(text)
    folded = fold(value)
    if folded in _PEER_SETS:
        return _PEER_SETS[folded]
    for network in networks:
        if value == network or folded == fold(network):
            return f"network:{network}"
    known = ", ".join(sorted(networks)) or "inga nätverk i KK_CONFIG"
    raise CellError("okänd jämförelsegrupp; skriv kommungrupp, liknande kommuner, län, riket "
                    f"eller ett nätverks-id ({known})")


class _Row:
    """The cells of one row, read column by column; problems collect instead of raising."""

    def __init__(self, file: str, header: Header, number: int, cells: list[str]) -> None:
        self.file, self.header, self.number, self.cells = file, header, number, cells
        self.problems: list[Problem] = []

    def text(self, column: str) -> str:
        return self.header.cell(self.cells, column)

    def read(self, column: str, parse):
        raw = self.text(column)
        try:
            return parse(raw)
        except CellError as error:
            self.problems.append(Problem(self.file, self.number, self.header.name(column),
                                         raw, str(error)))
            return None


def _municipality(row: _Row, index: MunicipalityIndex) -> tuple[str | None, str | None]:
    """(code, warning) from kommunkod and/or kommun; both given must agree."""
    code = name_code = warning = None
    if row.header.has(KOMMUNKOD) and row.text(KOMMUNKOD).strip():
        code = row.read(KOMMUNKOD, lambda t: index.by_code(t, pad=True))
    if row.header.has(KOMMUN) and row.text(KOMMUN).strip():
        found = row.read(KOMMUN, index.by_name)
        if found:
            name_code, warning = found
    if code is None and name_code is None and not row.problems:
        row.problems.append(Problem(row.file, row.number, row.header.name(KOMMUNKOD, KOMMUN),
                                    "", "ange kommunkod eller kommun"))
    if code and name_code and code != name_code:
        row.problems.append(Problem(
            row.file, row.number, row.header.name(KOMMUNKOD, KOMMUN),
            f"{row.text(KOMMUNKOD)} / {row.text(KOMMUN)}",
            f"kommunkoden ({code}) och kommunnamnet ({name_code}) avser olika kommuner"))
        return None, None
    return code or name_code, warning


def _title(text: str) -> str:
    title = one_line(text)
    if not title:
        raise CellError("initiativet behöver en titel")
    if len(title) > MAX_TITLE:
        raise CellError(f"titeln är längre än {MAX_TITLE} tecken")
    return title


def _start_year(text: str) -> int:
    year = integer(text, what="startåret")
    if not 1990 <= year <= 2100:
        raise CellError("startåret ska vara ett år mellan 1990 och 2100")
    return year


def _id(text: str) -> str | None:
    value = one_line(text).casefold()
    if not value:
        return None
    if not _ID.match(value):
        raise CellError("id får bara innehålla a-z, 0-9, - och _ (högst 60 tecken)")
    return value


def read_initiatives_file(
    path: Path,
    *,
    municipalities: Mapping[str, str],
    known_kpis: Collection[str],
    networks: Collection[str] = (),
) -> InitiativesRead:
    """Read `path`; `known_kpis` are the KPIs the platform ingests (others land with a
    warning: their follow-up stays empty until the KPI is in scope). Raises UnreadableFile."""
    path = Path(path)
    data = read_file_bytes(path)
    table = load_table(path, data)
    header = find_header(path, table, COLUMNS, REQUIRED)
    result = InitiativesRead(file=path.name, sha256=hashlib.sha256(data).hexdigest(),
                             layout=table.layout)
    for name in header.unknown:
        result.warnings.append(Problem(path.name, header.row, name, "", "okänd kolumn, ignoreras"))
    index = MunicipalityIndex(municipalities)
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        if number <= header.row or not any(c.strip() for c in cells):
            continue
        result.rows_read += 1
        row = _Row(path.name, header, number, cells)
        municipality, warning = _municipality(row, index)
        title = row.read(INITIATIV, _title)
        kpis = row.read(NYCKELTAL, parse_kpis)
        start_year = row.read(STARTAR, _start_year)
        given_id = row.read(ID, _id) if header.has(ID) else None
        peer_set = row.read(GRUPP, lambda t: parse_peer_set(t, networks)) if header.has(
            GRUPP) else "kommungrupp"
        description = clean(row.text(BESKRIVNING)) or None
        initiative = given_id or (slug(title) if title else None)
        if not row.problems and municipality and initiative:
            key = INITIATIVE.entity_key(municipality, initiative)
            if key in seen:
                row.problems.append(Problem(
                    path.name, number, header.name(ID) or header.name(INITIATIV),
                    initiative, f"samma initiativ för {municipality} finns redan på rad "
                    f"{seen[key]}; ge det ett eget id"))
        control = control_problem(path.name, header, number, cells)
        if control is not None:  # a stray control character: this row waits, the rest land
            row.problems.append(control)
        if row.problems:
            result.problems.extend(row.problems)
            result.held_back.add(municipality)
            continue
        seen[key] = number
        if warning:
            result.warnings.append(Problem(path.name, number, header.name(KOMMUN),
                                           row.text(KOMMUN), warning))
        unknown = [k for k in kpis if k not in known_kpis]
        if unknown:
            result.warnings.append(Problem(
                path.name, number, header.name(NYCKELTAL), row.text(NYCKELTAL),
                f"{', '.join(unknown)} hämtas inte av plattformen (KK_CONFIG); uppföljningen "
                "av dem blir tom tills de finns i urvalet"))
        result.records.append(SourceRecord(
            entity_key=key,
            payload={"municipality": municipality, "initiative": initiative, "title": title,
                     "kpis": ",".join(kpis), "start_year": start_year, "peer_set": peer_set,
                     "description": description},
            deleted=False,
            source=result.source,
        ))
    if result.rows_read == 0:
        raise UnreadableFile(path, f"filen har inga datarader under rubrikraden (rad {header.row})")
    result.problems.sort(key=lambda p: p.row or 0)
    result.warnings.sort(key=lambda p: p.row or 0)
    return result
