"""One row of an import file -> one area score (a `Fact`), or the reasons it cannot land.

Every cell of a row is checked, not only the first bad one, so the analyst can fix a row in one
go. What could be read of a rejected row's key is kept (`PartialKey`): the reader must not let
a rejected row look like a deletion of the value it was meant to update.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.sources.kommunkompassen import columns as col
from pipelines.sources.kommunkompassen.areas import VERSIONS, version_for_year
from pipelines.sources.kommunkompassen.cells import CellError, clean, integer, number, one_line
from pipelines.sources.kommunkompassen.columns import Header
from pipelines.sources.kommunkompassen.controls import control_problem
from pipelines.sources.kommunkompassen.municipalities import MunicipalityIndex
from pipelines.sources.kommunkompassen.problems import Problem
from pipelines.sources.kommunkompassen.row_areas import resolve_area

YEAR_RANGE = (2000, 2100)
EXAMPLE_MARKER = "exempel"


@dataclass(frozen=True)
class PartialKey:
    """The key parts a row resolved to (None where the row was wrong or silent)."""

    municipality: str | None = None
    year: int | None = None
    version: int | None = None
    area: int | None = None


@dataclass(frozen=True)
class Fact:
    row: int
    municipality: str
    year: int
    version: int
    area: int
    area_label: str
    score: float
    benchmark: float | None
    total: float | None
    strengths: str | None
    improvement_areas: str | None

    @property
    def assessment(self) -> tuple[str, int, int]:
        return (self.municipality, self.year, self.version)

    @property
    def key(self) -> tuple[str, int, int, int]:
        return (self.municipality, self.year, self.version, self.area)


@dataclass
class RowOutcome:
    row: int
    fact: Fact | None = None
    partial: PartialKey = field(default_factory=PartialKey)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    example: bool = False


class RowReader:
    """Validates the data rows of one file against its header."""

    def __init__(
        self, file: str, header: Header, municipalities: MunicipalityIndex,
        delimiter: str | None,
    ) -> None:
        self.file = file
        self.header = header
        self.municipalities = municipalities
        self.delimiter = delimiter

    def read(self, number: int, cells: list[str]) -> RowOutcome | None:
        """None for an empty row; an example row (`kommun` starts with EXEMPEL) is flagged."""
        if not any(c.strip() for c in cells):
            return None
        out = RowOutcome(row=number)
        if one_line(self.header.cell(cells, col.KOMMUN)).casefold().startswith(EXAMPLE_MARKER):
            out.example = True
            return out
        if self._overflows(cells):
            hint = (
                "med komma som avgränsare måste tal med decimalkomma stå inom citattecken "
                "(\"73,5\")" if self.delimiter == "," else
                "ta bort värdena till höger om sista kolumnen"
            )
            out.problems.append(Problem(
                self.file, number, None, (self.delimiter or "").join(cells),
                f"raden har {len(cells)} fält men rubrikraden har {self.header.width}; {hint}",
            ))
            return out
        _Row(self, out, cells).check()
        control = control_problem(self.file, self.header, number, cells)
        if control is not None:
            # the row is read as far as it goes (its partial key holds its assessment back
            # from the snapshot), but it does not land: the character is in the data
            out.problems.append(control)
            out.fact = None
            out.warnings = []
        return out

    def _overflows(self, cells: list[str]) -> bool:
        width = self.header.width
        if self.delimiter == ",":
            return len(cells) > width
        return self.delimiter == ";" and any(c.strip() for c in cells[width:])


class _Row:
    """The checks of one row; each records its own Problem and returns None on failure."""

    def __init__(self, reader: RowReader, out: RowOutcome, cells: list[str]) -> None:
        self.r = reader
        self.h = reader.header
        self.out = out
        self.cells = cells

    def cell(self, column: str) -> str:
        return self.h.cell(self.cells, column)

    def fail(self, columns: tuple[str, ...], value: str, reason: str) -> None:
        self.out.problems.append(
            Problem(self.r.file, self.out.row, self.h.name(*columns) or None, value, reason)
        )

    def warn(self, columns: tuple[str, ...], value: str, reason: str) -> None:
        self.out.warnings.append(
            Problem(self.r.file, self.out.row, self.h.name(*columns) or None, value, reason)
        )

    def check(self) -> None:
        municipality = self.municipality()
        year = self.year()
        version = self.version(year)
        area_number, label = self.area(version)
        self.out.partial = PartialKey(municipality, year, version, area_number)
        score = self.score(col.POANG, "poängen", required=True)
        benchmark = self.score(col.SVERIGESNITT, "sverigesnittet", required=False)
        total = self.total()
        if self.out.problems:
            return
        assert municipality and year and version and area_number and label and score is not None
        self.out.fact = Fact(
            row=self.out.row, municipality=municipality, year=year, version=version,
            area=area_number, area_label=label, score=score, benchmark=benchmark, total=total,
            strengths=clean(self.cell(col.STYRKOR)) or None,
            improvement_areas=clean(self.cell(col.FORBATTRINGSOMRADEN)) or None,
        )

    def municipality(self) -> str | None:
        code_text, name_text = self.cell(col.KOMMUNKOD).strip(), self.cell(col.KOMMUN).strip()
        if not code_text and not name_text:
            self.fail((col.KOMMUNKOD, col.KOMMUN), "", "kommun saknas (ange kommunkod eller kommun)")
            return None
        index = self.r.municipalities
        by_code = by_name = None
        try:
            by_code = index.by_code(code_text, pad=True) if code_text else None
        except CellError as exc:
            self.fail((col.KOMMUNKOD,), code_text, str(exc))
        try:
            by_name, warning = index.by_name(name_text) if name_text else (None, None)
            if warning:
                self.warn((col.KOMMUN,), name_text, warning)
        except CellError as exc:
            self.fail((col.KOMMUN,), name_text, str(exc))
        if by_code and by_name and by_code != by_name:
            names = index.names
            self.fail(
                (col.KOMMUNKOD, col.KOMMUN), f"{code_text} / {name_text}",
                f"kommunkod och kommun pekar på olika kommuner ({by_code} {names[by_code]}, "
                f"{by_name} {names[by_name]})",
            )
            return None
        if (code_text and not by_code) or (name_text and not by_name):
            return None
        return by_code or by_name

    def year(self) -> int | None:
        text = self.cell(col.AR).strip()
        if not text:
            self.fail((col.AR,), "", "år saknas")
            return None
        try:
            year = integer(text, what="året")
        except CellError as exc:
            self.fail((col.AR,), text, str(exc))
            return None
        low, high = YEAR_RANGE
        if not low <= year <= high:
            self.fail((col.AR,), text, f"året måste vara mellan {low} och {high}")
            return None
        return year

    def version(self, year: int | None) -> int | None:
        text = self.cell(col.VERSION).strip()
        if not text:
            return version_for_year(year) if year is not None else None
        try:
            version = integer(text, what="versionen")
        except CellError:
            version = None
        if version not in VERSIONS:
            self.fail((col.VERSION,), text, "versionen måste vara 2010 eller 2020")
            return None
        if year is not None and version_for_year(year) != version:
            self.fail(
                (col.VERSION,), text,
                f"version {version} stämmer inte med år {year}: 2010 års version gäller "
                "2010–2019 och 2020 års version från 2020",
            )
            return None
        return version

    def area(self, version: int | None) -> tuple[int | None, str | None]:
        nr_text, label_text = self.cell(col.OMRADE_NR).strip(), one_line(self.cell(col.OMRADE))
        return resolve_area(self, version, nr_text, label_text)

    def score(self, column: str, what: str, *, required: bool) -> float | None:
        text = self.cell(column).strip()
        if not text:
            if required:
                self.fail((column,), "", f"{column} saknas")
            return None
        try:
            value = number(text, what=what)
        except CellError as exc:
            self.fail((column,), text, str(exc))
            return None
        if not 0 <= value <= 100:
            self.fail((column,), text, f"{what} måste vara mellan 0 och 100")
            return None
        return value

    def total(self) -> float | None:
        text = self.cell(col.TOTALT).strip()
        if not text:
            return None
        try:
            value = number(text, what="totalt", percent=False)
        except CellError as exc:
            self.fail((col.TOTALT,), text, str(exc))
            return None
        if not 0 <= value <= 800:
            self.fail((col.TOTALT,), text, "totalt måste vara mellan 0 och 800")
            return None
        return value
