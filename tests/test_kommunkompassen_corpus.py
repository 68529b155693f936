"""A corpus of broken import files: each failure class once, with the row, column and reason.

File-level cases must raise UnreadableFile with a reason that says what to do. Row-level cases
add one bad row (row 10 unless stated) below the eight good rows of Grästorp 2014 (rows 2-9):
the bad row is rejected with its own Problem and the good rows of the same file still land.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest

from pipelines.sources.kommunkompassen.reader import (
    UnreadableFile,
    format_report,
    read_assessment_file,
)
from tests.kommunkompassen_helpers import MUNICIPALITIES

COLUMNS = ("kommunkod", "kommun", "år", "version", "område_nr", "område", "poäng",
           "sverigesnitt", "totalt", "styrkor", "förbättringsområden")
HEADER = ";".join(COLUMNS)
GRASTORP = (61, 60, 73, 53, 70, 56, 65, 68)
GOOD_KEYS = {f"1444|2014|2010|{n}" for n in range(1, 9)}

ALIASES = {"ar": "år", "omrade_nr": "område_nr", "omrade": "område", "poang": "poäng"}
Row = dict[str, str] | str  # a row by column, or a raw CSV line


def good_rows() -> list[Row]:
    return [
        {"kommunkod": "1444", "år": "2014", "version": "2010", "område_nr": str(n),
         "poäng": str(s), "totalt": "506"}
        for n, s in enumerate(GRASTORP, 1)
    ]


def bad(**cells: str) -> dict[str, str]:
    """A row for Arvika 2014 area 1 (valid) with `cells` changed; "" empties a cell."""
    row = {"kommunkod": "1784", "år": "2014", "område_nr": "1", "poäng": "60"}
    row.update({ALIASES.get(k, k): v for k, v in cells.items()})
    return row


def csv_bytes(rows: list[Row], delimiter: str = ";") -> bytes:
    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value else value

    lines = [delimiter.join(COLUMNS)]
    for row in rows:
        if isinstance(row, str):
            lines.append(row)
        else:
            lines.append(delimiter.join(cell(row.get(c, "")) for c in COLUMNS))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_rows(rows: list[Row]) -> bytes:
    def typed(value: str) -> object:
        if value == "":
            return None
        return int(value) if re.fullmatch(r"-?\d+", value) else value

    grid: list[list[object]] = [list(COLUMNS)]
    for row in rows:
        assert isinstance(row, dict)
        grid.append([typed(row.get(c, "")) for c in COLUMNS])
    return xlsx_bytes({"Kommunkompassen": grid})


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# -- file-level failures ------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCase:
    id: str
    data: Callable[[], bytes]
    fragment: str
    name: str = "kk.csv"


FILE_CASES = [
    FileCase("empty-file", lambda: b"", "filen är tom"),
    FileCase("blank-lines-only", lambda: b"\r\n   \r\n", "filen är tom"),
    FileCase("bom-only", lambda: b"\xef\xbb\xbf", "filen är tom"),
    FileCase("binary-with-nul", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "varken en textfil"),
    FileCase("bytes-no-encoding-knows", lambda: b"kommunkod;\x81\x8d\x90\x9d", "varken en textfil"),
    FileCase("control-characters", lambda: b"\x01\x02\x03\x04kommunkod", "varken en textfil"),
    FileCase("utf16-unicode-text", lambda: HEADER.encode("utf-16"), "UTF-16"),
    FileCase("old-binary-xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
             "gamla Excel-formatet", "kk.xls"),
    FileCase("xlsx-name-but-text", lambda: csv_bytes(good_rows()), "ingen Excel-arbetsbok",
             "kk.xlsx"),
    FileCase("corrupt-zip", lambda: b"PK\x03\x04" + b"trasig" * 20,
             "kan inte öppnas som Excel-fil", "kk.xlsx"),
    FileCase("zip-but-no-workbook", lambda: zip_bytes({"readme.txt": b"hej"}),
             "kan inte öppnas som Excel-fil", "kk.xlsx"),
    FileCase("opendocument-ods",
             lambda: zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),
             "OpenDocument", "kk.ods"),
    FileCase("missing-year-and-score-columns", lambda: b"kommunkod;omrade_nr\r\n1784;1\r\n",
             "saknar kolumnerna år, poäng"),
    FileCase("missing-municipality-column", lambda: "år;område_nr;poäng\r\n2014;1;60\r\n".encode(),
             "saknar kolumnen kommunkod eller kommun"),
    FileCase("missing-area-column", lambda: "kommun;år;poäng\r\nArvika;2014;60\r\n".encode(),
             "saknar kolumnen område_nr eller område"),
    FileCase("no-header-row", lambda: b"1784;2014;1;60\r\n1784;2014;2;61\r\n",
             "hittar ingen rubrikrad"),
    FileCase("tab-separated", lambda: HEADER.replace(";", "\t").encode() + b"\r\n", "tabb"),
    FileCase("same-column-twice-after-folding",
             lambda: "kommunkod;År;ar;område_nr;poäng\r\n1784;2014;2014;1;60\r\n".encode(),
             "finns flera gånger"),
    FileCase("header-without-data-rows", lambda: csv_bytes([]), "inga datarader"),
    FileCase("xlsx-empty-sheet", lambda: xlsx_bytes({"Blad1": []}), 'bladet "Blad1" är tomt',
             "kk.xlsx"),
    FileCase("xlsx-named-sheet-empty",
             lambda: xlsx_bytes({"Blad1": [list(COLUMNS)], "Kommunkompassen": []}),
             'bladet "Kommunkompassen" är tomt', "kk.xlsx"),
    FileCase("xlsx-missing-score-column",
             lambda: xlsx_bytes({"Blad1": [["kommunkod", "år", "område_nr"], ["1784", 2014, 1]]}),
             "saknar kolumnen poäng", "kk.xlsx"),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.id)
def test_corpus_unreadable_file_raises_with_a_swedish_reason(tmp_path: Path, case: FileCase) -> None:
    path = tmp_path / case.name
    path.write_bytes(case.data())
    with pytest.raises(UnreadableFile) as info:
        read_assessment_file(path, municipalities=MUNICIPALITIES)
    assert case.fragment in info.value.reason
    problem = info.value.as_problem()
    assert (problem.file, problem.row, problem.column) == (case.name, None, None)
    assert case.fragment in format_report(info.value)


def test_corpus_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="kan inte läsas"):
        read_assessment_file(tmp_path / "saknas.csv", municipalities=MUNICIPALITIES)


# -- row-level failures -------------------------------------------------------------------------


@dataclass(frozen=True)
class RowCase:
    id: str
    rows: tuple[Row, ...]
    column: str | None
    fragment: str
    row: int = 10
    landed: int = 8
    delimiter: str = ";"
    extra_municipalities: dict[str, str] = field(default_factory=dict)

    @property
    def csv_only(self) -> bool:
        return self.delimiter != ";" or any(isinstance(r, str) for r in self.rows)


ROW_CASES = [
    RowCase("unknown-code", (bad(kommunkod="9999"),), "kommunkod", "okänd kommunkod"),
    RowCase("malformed-code", (bad(kommunkod="17A4"),), "kommunkod", "fyra siffror"),
    RowCase("short-code-unknown-after-padding", (bad(kommunkod="12"),), "kommunkod",
            "fyra siffror"),
    RowCase("lost-leading-zero-in-name-column", (bad(kommunkod="", kommun="180"),), "kommun",
            "okänt kommunnamn"),
    RowCase("unknown-name", (bad(kommunkod="", kommun="Atlantis kommun"),), "kommun",
            "okänt kommunnamn"),
    RowCase("ambiguous-name", (bad(kommunkod="", kommun="arvika"),), "kommun",
            "tvetydigt kommunnamn", extra_municipalities={"9784": "Arvika"}),
    RowCase("code-and-name-disagree", (bad(kommun="Stockholm"),), "kommunkod / kommun",
            "olika kommuner"),
    RowCase("municipality-missing", (bad(kommunkod=""),), "kommunkod / kommun", "kommun saknas"),
    RowCase("year-missing", (bad(ar=""),), "år", "år saknas"),
    RowCase("year-not-a-whole-number", (bad(ar="2014,5"),), "år", "heltal"),
    RowCase("year-out-of-range", (bad(ar="1999"),), "år", "mellan 2000 och 2100"),
    RowCase("version-not-2010-or-2020", (bad(version="2015"),), "version", "2010 eller 2020"),
    RowCase("version-2020-for-2014", (bad(version="2020"),), "version",
            "stämmer inte med år 2014"),
    RowCase("version-2010-for-2022", (bad(ar="2022", version="2010"),), "version",
            "stämmer inte med år 2022"),
    RowCase("area-number-out-of-range", (bad(omrade_nr="9"),), "område_nr", "mellan 1 och 8"),
    RowCase("area-number-not-a-number", (bad(omrade_nr="tre"),), "område_nr", "heltal"),
    RowCase("area-missing", (bad(omrade_nr=""),), "område_nr / område", "område saknas"),
    RowCase("unknown-area-label", (bad(omrade_nr="", omrade="Ekonomi"),), "område",
            "okänt område för 2010 års version"),
    RowCase("label-of-the-other-version", (bad(ar="2022", omrade_nr="",
                                               omrade="Offentlighet och demokrati"),),
            "område", "hör till 2010 års version"),
    RowCase("score-missing", (bad(poang=""),), "poäng", "poäng saknas"),
    RowCase("score-not-a-number", (bad(poang="sjuttio"),), "poäng", "inte ett tal"),
    RowCase("score-two-decimal-separators", (bad(poang="73,5,1"),), "poäng", "inte ett tal"),
    RowCase("score-over-100", (bad(poang="120"),), "poäng",
            "poängen måste vara mellan 0 och 100"),
    RowCase("score-negative", (bad(poang="-5"),), "poäng", "mellan 0 och 100"),
    RowCase("score-percent-over-100", (bad(poang="101 %"),), "poäng", "mellan 0 och 100"),
    RowCase("benchmark-not-a-number", (bad(sverigesnitt="n/a"),), "sverigesnitt",
            "sverigesnittet är inte ett tal"),
    RowCase("benchmark-out-of-range", (bad(sverigesnitt="101"),), "sverigesnitt",
            "sverigesnittet måste vara mellan 0 och 100"),
    RowCase("total-not-a-number", (bad(totalt="många"),), "totalt", "totalt är inte ett tal"),
    RowCase("total-out-of-range", (bad(totalt="900"),), "totalt", "mellan 0 och 800"),
    RowCase("total-as-percent", (bad(totalt="60 %"),), "totalt", "inte i procent"),
    RowCase("same-area-twice", (bad(kommunkod="1444", version="2010", poang="61"),),
            "område_nr / område", "samma kommun, år, version och område (1) som rad 2"),
    RowCase("conflicting-totals", (bad(kommunkod="0180", totalt="500"),
                                   bad(kommunkod="0180", omrade_nr="2", totalt="510")),
            "totalt", "skiljer sig från totalt 500 på rad 10", row=11, landed=9),
    RowCase("unquoted-decimal-comma-with-comma-separator",
            ("1784,,2014,,1,,73,5,,,,",), None, "decimalkomma stå inom citattecken",
            delimiter=","),
    RowCase("values-beyond-the-header", ("1784;;2014;;1;;60;;;;;extra",), None,
            "12 fält men rubrikraden har 11; ta bort värdena"),
]
PARAMS = [
    pytest.param(case, fmt, id=f"{case.id}-{fmt}")
    for case in ROW_CASES for fmt in ("csv", "xlsx") if fmt == "csv" or not case.csv_only
]


@pytest.mark.parametrize(("case", "fmt"), PARAMS)
def test_corpus_bad_row_is_rejected_and_good_rows_land(
    tmp_path: Path, case: RowCase, fmt: str
) -> None:
    rows = [*good_rows(), *case.rows]
    path = tmp_path / f"kk.{fmt}"
    path.write_bytes(csv_bytes(rows, case.delimiter) if fmt == "csv" else xlsx_rows(rows))
    result = read_assessment_file(
        path, municipalities={**MUNICIPALITIES, **case.extra_municipalities}
    )
    assert result.rejected_rows == [case.row], result.problems
    (problem,) = result.problems
    assert (problem.file, problem.row, problem.column) == (path.name, case.row, case.column)
    assert case.fragment in problem.reason
    keys = {r.entity_key for r in result.records}
    assert GOOD_KEYS <= keys and len(keys) == case.landed
    assert result.rows_read == len(rows)
    line = f"rad {case.row}, " + (f'kolumn "{case.column}", ' if case.column else "")
    assert line in format_report(result)


def test_corpus_has_at_least_twenty_distinct_failure_classes() -> None:
    ids = [c.id for c in FILE_CASES] + [c.id for c in ROW_CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 20


def zip_bomb(unpacked_mb: int) -> bytes:
    """A few hundred kB that unpack to `unpacked_mb` MB of zeros, named like a workbook part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"\x00" * (1024 * 1024)
            for _ in range(unpacked_mb):
                member.write(chunk)
    return buffer.getvalue()


@pytest.mark.parametrize("reader", ["assessment", "initiatives"])
def test_corpus_a_zip_bomb_renamed_xlsx_is_refused_before_it_unpacks(
        tmp_path: Path, reader: str) -> None:
    from pipelines.sources.initiatives.reader import read_initiatives_file

    path = tmp_path / "kk.xlsx"
    path.write_bytes(zip_bomb(300))
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(UnreadableFile, match="packar upp till 300 MB"):
        if reader == "assessment":
            read_assessment_file(path, municipalities=MUNICIPALITIES)
        else:
            read_initiatives_file(path, municipalities=MUNICIPALITIES, known_kpis=())


def test_corpus_a_200_mb_file_is_refused_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "kk.csv"
    with path.open("wb") as handle:  # sparse: 200 MB on paper, nothing written to the disk
        handle.write(HEADER.encode() + b"\r\n")
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(UnreadableFile, match="filen är 200 MB"):
        read_assessment_file(path, municipalities=MUNICIPALITIES)
