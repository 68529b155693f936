"""What goes wrong with an import file, in words the analyst who typed it can act on.

Two kinds: a `Problem` concerns one row (it is rejected, or lands with a warning) and points at
the row and column as a spreadsheet shows them; `UnreadableFile` means nothing in the file can
be used. Reasons are plain Swedish because the report goes back to the person who typed it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One rejected row or warning.

    `row` is 1-based as a spreadsheet shows it (the header is normally row 1; None for the file
    as a whole); `column` is the header as written in the file (None when no single column is
    at fault); `value` is the cell as read.
    """

    file: str
    row: int | None
    column: str | None
    value: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class UnreadableFile(Exception):
    """The file cannot be used at all (empty, not a spreadsheet, no usable header row, ...)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason

    def as_problem(self) -> Problem:
        """The failure as a file-level Problem, for the same quarantine report."""
        return Problem(self.path.name, None, None, "", self.reason)
