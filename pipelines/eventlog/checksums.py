"""sha256 and size of a file, read in chunks: the fingerprint the ledger and manifest record.

One helper for the event log and the publication, so both verify with the same function
that wrote the fingerprint.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def file_digest(path: Path) -> tuple[str, int]:
    """(hex sha256, size in bytes) of `path`."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
