"""Issue 31, item 8: the smaller things a fault probe broke. A full disk is one line naming the
folder and its free space (not a ~90-line SQLite traceback); refusing to publish an older
build exits 3 as README's table says for the gate; a stray control character quarantines its
row, not the file; an xlsx sheet is read streaming, and a sheet far larger than any import
file is refused before its rows are parsed. ("flyttad till None": tests/test_landing_entries;
deep JSON: tests/test_http_bounds.)"""

from __future__ import annotations

import errno
import io
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
import sqlalchemy.exc

from pipelines import cli
from pipelines.cli.commands import BY_NAME
from pipelines.cli.exit_codes import EXIT_BLOCKED, EXIT_FAILED, exit_code
from pipelines.sources.kommunkompassen.problems import UnreadableFile
from pipelines.sources.kommunkompassen.reader import read_assessment_file
from pipelines.sources.kommunkompassen.xlsx_table import read_xlsx
from tests.kommunkompassen_helpers import MUNICIPALITIES
from tests.test_initiatives_import import read as read_initiatives
from tests.test_initiatives_import import write as write_initiatives

# -- a full disk ------------------------------------------------------------------------------


def _sqlite_full() -> Exception:
    try:
        raise sqlite3.OperationalError("database or disk is full")
    except sqlite3.OperationalError as orig:
        return sqlalchemy.exc.OperationalError("INSERT INTO event_logs ...", {}, orig)


@pytest.mark.parametrize("error", [_sqlite_full, lambda: OSError(errno.ENOSPC,
                                                                 "No space left on device")],
                         ids=["dagster-sqlite", "enospc"])
def test_a_full_disk_is_one_line_naming_the_folder_and_its_free_space(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        error) -> None:
    def run(args, settings):
        raise error()

    monkeypatch.setattr(BY_NAME["status"], "run", run)
    assert cli.main(["status"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "disk is full" in err and str(data_dir) in err and "MB free" in err


def test_an_error_that_is_no_full_disk_is_not_disguised(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(args, settings):
        raise sqlalchemy.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("locked"))

    monkeypatch.setattr(BY_NAME["status"], "run", run)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        cli.main(["status"])


# -- the exit code of the publishing gate -----------------------------------------------------


def _failed_run(cause: str) -> SimpleNamespace:
    from dagster import DagsterEventType

    error = SimpleNamespace(cause=None, message=cause)
    event = SimpleNamespace(event_type=DagsterEventType.STEP_FAILURE, is_step_failure=True,
                            step_failure_data=SimpleNamespace(error=error))
    return SimpleNamespace(success=False, all_events=[event])


@pytest.mark.parametrize(("cause", "code"), [
    (("pipelines.publish.publisher.PublishOlderRefused: the build is as of 2026-01-01, older "
     "than the current publication"), EXIT_BLOCKED),
    ("pipelines.checks.gate.PublishBlocked: 2 blocking checks failed", EXIT_BLOCKED),
    ("pipelines.publish.publisher.PublishRefused: blocking checks failed", EXIT_BLOCKED),
    ("OSError: [Errno 5] Input/output error", EXIT_FAILED),
])
def test_refusing_to_publish_an_older_build_exits_as_the_gate(cause: str, code: int) -> None:
    assert exit_code(_failed_run(cause)) == code
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "3 blocked by a check" in readme and "older than the current" in readme


# -- a control character in one row -----------------------------------------------------------

KK_HEADER = "kommunkod;år;område_nr;poäng\n"


@pytest.mark.parametrize("char", ["\x07", "\x00", "\x1b"])
def test_a_control_character_quarantines_its_row_and_the_rest_land(tmp_path: Path, char: str
                                                                   ) -> None:
    rows = [f"1784;2022;{n};60\n" for n in range(1, 9)]
    rows[3] = f"1784;2022;4;6{char}0\n"  # row 5 as the spreadsheet shows it
    path = tmp_path / "kk.csv"
    path.write_text(KK_HEADER + "".join(rows) + "".join(
        f"1444;2014;{n};50\n" for n in range(1, 9)), encoding="utf-8")
    result = read_assessment_file(path, municipalities=MUNICIPALITIES)
    assert len(result.records) == 15
    [problem] = [p for p in result.problems if "styrtecken" in p.reason]
    assert (problem.row, problem.column) == (5, "poäng")
    assert f"U+{ord(char):04X}" in problem.reason and "\\x" in problem.value
    # the row's assessment is held back from the snapshot: its other areas are not deleted
    assert {tuple(s["municipality"]) for s in result.scopes()} == {("1444",)}


def test_a_control_character_in_an_initiative_row_quarantines_that_row(tmp_path: Path) -> None:
    path = write_initiatives(
        tmp_path, "1784;Arvika;;Studiero åk 7-9;N15428;2023;;bra\x07",
        "0180;Stockholm;;Fossilfria fordon;N15436;2022;riket;")
    result = read_initiatives(path)
    assert len(result.records) == 1
    [problem] = result.problems
    assert problem.row == 2 and problem.column == "Beskrivning" and "U+0007" in problem.reason


def test_a_binary_file_is_still_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "bild.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(32)) * 40)
    with pytest.raises(UnreadableFile, match="varken en textfil"):
        read_assessment_file(path, municipalities=MUNICIPALITIES)


# -- the cost of an xlsx ----------------------------------------------------------------------


def _workbook(rows: int) -> bytes:
    """A minimal xlsx written as XML (openpyxl takes seconds to write 100,000 rows), without a
    <dimension>: the size is only known by looking at the rows."""
    import zipfile

    def row(n: int) -> str:
        return (f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>1784</t></is></c>'
                f'<c r="B{n}"><v>2022</v></c><c r="C{n}"><v>{n % 8 + 1}</v></c>'
                f'<c r="D{n}"><v>60</v></c></row>')

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (f'<Relationships xmlns="{pkg}"><Relationship Id="r1" Type="{rel}/'
                        'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet '
                            'name="Kommunkompassen" sheetId="1" r:id="r1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="r1" Type="{rel}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>kommunkod</t></is></c></row>'
            + "".join(row(n) for n in range(2, rows + 2)) + "</sheetData></worksheet>"),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_a_sheet_far_larger_than_an_import_file_is_refused_before_its_rows_are_read(
        tmp_path: Path) -> None:
    data = _workbook(100_000)
    assert len(read_xlsx(tmp_path / "liten.xlsx", _workbook(100)).rows) == 101  # it is a sheet
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match="rader") as raised:
        read_xlsx(tmp_path / "stor.xlsx", data)
    assert time.monotonic() - started < 5  # reading the rows took 15 s here, 132 s in the probe
    assert "60 000" in raised.value.reason


def test_a_sheet_is_read_streaming_with_its_row_numbers(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Kommunkompassen"
    sheet.append(["kommunkod", "år", "område_nr", "poäng"])
    sheet.append(["1784", 2022, 1, 0.6])
    sheet["D2"].number_format = "0%"
    sheet.cell(row=5, column=1, value="1784")  # rows 3 and 4 empty
    out = io.BytesIO()
    book.save(out)
    table = read_xlsx(tmp_path / "a.xlsx", out.getvalue())
    rows = dict(table.rows)
    assert rows[2] == ["1784", "2022", "1", "60 %"]
    assert rows[5][0] == "1784"
