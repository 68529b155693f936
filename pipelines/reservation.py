"""The run-level reservation of the warehouse: one run's warehouse steps, then the next run's.

The Dagster pool `warehouse` (size 1) serialises single *steps*: between a run's dbt step and
its publish step another run's dbt build could take the slot, and the first run would then
publish the second one's build. The reservation is held from before a run's first warehouse
step until the run ends, so no other run's warehouse step can interleave.

It is an `flock` on `$KK_DATA_DIR/warehouse.lock`: the kernel releases it when its process
dies, even on SIGKILL, so no reservation outlives its owner and nobody has to clean up. The
holder writes who it is into the file (job, run id, pid, host); a waiting run reads it and
says what it waits for, again every `report_every` seconds while it waits.

Re-entrant within one thread: an flock belongs to an open file description, so a second
`open` + `flock` in the process that already holds it would wait for itself forever.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

LOCK_FILE = "warehouse.lock"
# how often a waiting run repeats what it waits for (the daemon's runs say it in the UI)
REPORT_EVERY = 60.0


@dataclass
class _Held:
    handle: IO[str]
    thread: int
    depth: int


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def lock_path(data_dir: Path) -> Path:
    return data_dir / LOCK_FILE


def current_holder(data_dir: Path) -> str | None:
    """Who holds the reservation right now (its description), or None when it is free."""
    path = lock_path(data_dir)
    if not path.exists():
        return None
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip() or "an unknown process"
        return None  # closing the file drops the shared lock just taken


@contextmanager
def reserve_warehouse(data_dir: Path, holder: str, *, say: Callable[[str], None],
                      report_every: float = REPORT_EVERY, poll: float = 0.5) -> Iterator[None]:
    """Hold the warehouse for the block; while another process holds it, wait and `say`
    what for (at once, then every `report_every` seconds)."""
    path = lock_path(data_dir).resolve()
    me = threading.get_ident()
    with _guard:
        held = _held.get(path)
        if held is not None and held.thread == me:
            held.depth += 1  # this thread already holds it: a nested run, nothing to wait for
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[path].depth -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not a `with`: the descriptor must stay open (holding the flock) until the finally below.
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115
    try:
        _acquire(handle, path, say=say, report_every=report_every, poll=poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{holder}, since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
        handle.flush()
        with _guard:
            _held[path] = _Held(handle, me, 1)
        try:
            yield
        finally:
            with _guard:
                del _held[path]
    finally:
        handle.close()  # closing the descriptor releases the flock


def _acquire(handle: IO[str], path: Path, *, say: Callable[[str], None], report_every: float,
             poll: float) -> None:
    """Polls rather than blocks, so the waiting run can keep saying what it waits for."""
    first: float | None = None  # when this run started waiting
    said_at = 0.0
    while True:
        with _guard:
            other_thread = path in _held  # another thread of this process holds it
        if not other_thread:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
        now = time.monotonic()
        if first is None or now - said_at >= report_every:
            handle.seek(0)
            who = handle.read().strip() or "another process"
            waited = "" if first is None else f" (still, after {now - first:.0f} s)"
            first = now if first is None else first
            say(f"the warehouse is in use by {who}; this run's warehouse steps wait for "
                f"it{waited}")
            said_at = now
        time.sleep(poll)
