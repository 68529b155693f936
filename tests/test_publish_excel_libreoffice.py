"""LibreOffice Calc (headless) reads the published files with codes kept as text.

The path an Excel user takes is the xlsx: LibreOffice converts the published workbook to a
Swedish CSV and `0114` is still `0114`. The CSV keeps its codes only through the import step
the publication's README describes (code columns typed Text); this test runs that step through
LibreOffice's CSV filter options, so the instructions are checked, not just written.
Needs Debian's libreoffice-calc-nogui (`.ci/run` installs it when missing); skips otherwise.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from pipelines.publish import writers

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None, reason="no LibreOffice (apt-get install -y libreoffice-calc-nogui)")

# LibreOffice's CSV filter options: separator ; (59), quote " (34), UTF-8 (76), from line 1
CSV_FILTER = "Text - txt - csv (StarCalc)"
SWEDISH_CSV = "59,34,76,1"


def _table() -> pa.Table:
    return pa.table({"municipality_id": ["0114", "1784"], "kpi_id": ["N15428", "U00405"],
                     "year": pa.array([2024, 2024], pa.int32()), "value": [85.8, 1234.4],
                     "colour": ["green", None]})


def _soffice(args: list[str], profile: Path) -> None:
    done = subprocess.run(
        [SOFFICE, "--headless", "--norestore", "--nolockcheck",
         f"-env:UserInstallation={profile.as_uri()}", *args],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_libreoffice_reads_the_published_xlsx_with_codes_as_text(tmp_path: Path) -> None:
    xlsx = writers.write_xlsx("mart_kkik_board", _table(), tmp_path, {"N15428": 1}, {"a": "b"})
    out = tmp_path / "out"
    _soffice(["--convert-to", f"csv:{CSV_FILTER}:{SWEDISH_CSV}", "--outdir", str(out),
              str(xlsx)], tmp_path / "profile")
    with open(out / "mart_kkik_board.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header = rows[0]
    codes = [r[header.index("Kommunkod")] for r in rows[1:]]
    assert codes == ["0114", "1784"]  # the leading zero survives LibreOffice's reading
    assert rows[1][header.index("Utfall")] in ("85.8", "85,8")


def test_libreoffice_reads_the_csv_with_codes_as_text_through_the_documented_import(
        tmp_path: Path) -> None:
    path = writers.write_csv("mart_kkik_board", _table(), tmp_path, {"N15428": 1})
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter=";"))
    # the README's import step: the code columns typed Text (format 2), the rest standard
    text_columns = [i + 1 for i, h in enumerate(header) if h in ("Kommunkod", "Nyckeltal id")]
    formats = "/".join(f"{i}/2" for i in text_columns)
    out = tmp_path / "out"
    _soffice([f"--infilter={CSV_FILTER}:{SWEDISH_CSV},{formats}", "--convert-to", "xlsx",
              "--outdir", str(out), str(path)], tmp_path / "profile")
    ws = openpyxl.load_workbook(out / "mart_kkik_board.xlsx")["mart_kkik_board"]
    codes = [ws.cell(r, text_columns[0]).value for r in (2, 3)]
    assert codes == ["0114", "1784"]
