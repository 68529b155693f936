"""One writer per stream: an OS file lock that dies with its process.

`flock` is released by the kernel when the holder exits, even on SIGKILL, so a crashed
ingest never leaves a stale lock behind that an operator must clean up by hand.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class StreamLocked(RuntimeError):
    """Another process is writing this stream right now."""


@contextmanager
def stream_lock(lock_dir: Path, stream: str) -> Iterator[None]:
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{stream}.lock"
    # Not a `with`: the descriptor must stay open (holding the flock) until the finally below.
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise StreamLocked(
                f"stream {stream} is being written by another process ({holder}); "
                f"refusing to interleave events. Wait for it to finish, or check {path}."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the descriptor releases the flock
