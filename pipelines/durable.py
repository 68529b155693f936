"""Durable file replacement: what every atomic write here relies on (event log, its state,
the ledger, publications). A rename is atomic, but only an fsync of the file before it and of
the folder after it makes it survive a power cut."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp: Path, target: Path) -> None:
    """Rename a synced temp file onto `target` and flush the folder that now names it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    fsync_path(target.parent)
