"""Named crash points, so tests can SIGKILL a writer at an exact step and prove atomicity.

Set `KK_CRASH_AT=<point>` (and optionally `KK_CRASH_MARKER=<file>`) in a child process: when
the writer reaches that point it writes the marker (so the test can assert the point was
really reached) and kills itself with SIGKILL, which no cleanup handler can intercept.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def crash_point(name: str) -> None:
    if os.environ.get("KK_CRASH_AT") != name:
        return
    marker = os.environ.get("KK_CRASH_MARKER")
    if marker:
        Path(marker).write_text(name, encoding="utf-8")
    os.kill(os.getpid(), signal.SIGKILL)
