"""A file's bytes as a grid of text cells, whatever it was saved as (CSV or XLSX).

Both formats end up as the same `Table` so that everything after this point (header matching,
row validation) is written once. The format is decided by the bytes, not the file name: a
`.csv` saved by Excel as a workbook is still read correctly, and a file named `.xlsx` that is
not one is refused with a reason.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.sources.kommunkompassen.csv_table import read_csv
from pipelines.sources.kommunkompassen.grid import Table
from pipelines.sources.kommunkompassen.problems import UnreadableFile
from pipelines.sources.kommunkompassen.xlsx_table import read_xlsx

# A Kommunkompassen export for all 290 kommuner, every area and year, is well under 1 MB, an
# initiative register smaller still: anything near these sizes is not what it claims to be,
# and reading it whole would cost the nightly run its memory.
MAX_FILE_BYTES = 25 * 1024 * 1024

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the pre-2007 binary .xls
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def read_file_bytes(path: Path) -> bytes:
    """The file's bytes, or UnreadableFile when it cannot be read or is far too large (the
    size is looked at before a byte is read)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnreadableFile(
                path, f"filen är {size / 1024 / 1024:.0f} MB; en importfil är under "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB (fel fil?)")
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"filen kan inte läsas: {exc.strerror or exc}") from None


def load_table(path: Path, data: bytes) -> Table:
    """Decode `data` (the bytes of `path`) into a Table, or raise UnreadableFile."""
    if not data.strip():
        raise UnreadableFile(path, "filen är tom")
    if data.startswith(OLE_MAGIC):
        raise UnreadableFile(
            path, "filen är i det gamla Excel-formatet (.xls); spara den som .xlsx eller CSV"
        )
    if data.startswith(ZIP_MAGIC):
        return read_xlsx(path, data)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        raise UnreadableFile(
            path, f"filen heter {path.suffix} men är ingen Excel-arbetsbok; spara om den från "
            "Excel som .xlsx eller CSV"
        )
    return read_csv(path, data)
