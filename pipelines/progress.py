"""How far the running step has come, for whoever is watching: a hub, not a display.

The code doing the work (the Kolada value fetch, dbt's node stream, the GX suites, the
publisher) calls `advance(done, total, unit)`; it knows nothing about terminals. The CLI
attaches a live display (pipelines.console.terminal) for the length of a run when it talks to a
terminal; otherwise nothing is attached and `advance` costs one attribute read. The step a
tick belongs to is the step that is running: Dagster's in-process executor runs one step at a
time, and the display learns which from the run's STEP_START events (pipelines.console.logger).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol


class ProgressListener(Protocol):
    def advance(self, done: int, total: int | None, unit: str, detail: str) -> None: ...

    def note(self, message: str) -> None: ...  # an INFO line of the running step

    def warn(self, line: str) -> None: ...  # a WARNING/ERROR line, shown at once

    # kind: planned (the run's plan, before it starts), started, succeeded, failed, skipped
    def step_event(self, step: str, kind: str) -> None: ...


_listener: ProgressListener | None = None


def advance(done: int, total: int | None, unit: str, detail: str = "") -> None:
    """The running step has done `done` of `total` `unit`s (total None: not known yet)."""
    if _listener is not None:
        _listener.advance(done, total, unit, detail)


def listener() -> ProgressListener | None:
    return _listener


@contextlib.contextmanager
def listening(target: ProgressListener) -> Iterator[ProgressListener]:
    """Route progress, log lines and step events to `target` within the block."""
    global _listener
    previous, _listener = _listener, target
    try:
        yield target
    finally:
        _listener = previous
