"""A full disk, said in one line: which folder, how much is free.

A write that hits a full disk surfaces in many shapes: an OSError (ENOSPC, EDQUOT) from the
event log or a publish, or Dagster's SQLite storage raising "database or disk is full" through
SQLAlchemy, which printed a ~90-line traceback (the data stayed intact: every write here is
atomic). Whatever the shape, the operator needs the folder and its free space.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_MESSAGES = ("database or disk is full", "no space left on device", "disk quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or any exception it was raised from or during, is a full disk."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_SPACE:
            return True
        if any(m in str(current).lower() for m in _MESSAGES):
            return True
        stack += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return False


def disk_full_line(folder: Path) -> str:
    """One line naming `folder` (the data dir) and the free space of its file system."""
    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
        free = (f"{usage.free / 1024 / 1024:.0f} MB free of "
                f"{usage.total / 1024 / 1024 / 1024:.1f} GB")
    except OSError:
        free = "free space unknown"
    return (f"the disk is full: {folder} ({free}); nothing was half-written (every write is "
            "atomic): free some space and run the command again")
