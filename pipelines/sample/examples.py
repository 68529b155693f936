"""The bundled example import files (assessments, initiatives) the sample drops in landing/.

Each holds a row that is wrong on purpose, so that a first run shows what a quarantine report
looks like. Their reports are the demonstration, not a problem: a run reports them as
information, not as warnings, and a newcomer's first run on the sample warns about nothing.
Recognised by content (sha256), so an edited copy is reported like any other file.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_FOLDERS = (Path(__file__).with_name("assessments"), Path(__file__).with_name("initiatives"))


@cache
def example_digests() -> frozenset[str]:
    return frozenset(
        hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in _FOLDERS for path in sorted(folder.glob("*.csv"))
    )


def is_bundled_example(sha256: str | None) -> bool:
    return sha256 is not None and sha256 in example_digests()
