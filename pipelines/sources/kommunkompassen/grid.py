"""The one shape both file formats are read into, so that what follows is written once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """Rows as (row number as a spreadsheet shows it, cells as text); empty rows included.

    `delimiter` is the CSV separator (None for XLSX): with `,` a row longer than the header
    means an unquoted decimal comma split a number in two. `layout` says in Swedish what the
    file was read as (format, encoding, separator or sheet), for the report.
    """

    rows: list[tuple[int, list[str]]]
    layout: str
    delimiter: str | None = None
