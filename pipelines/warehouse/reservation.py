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
# A job whose first step writes only the event log (the assessment import) names that step in
# this tag: its run takes the reservation when the step has succeeded (the hook in
# pipelines/orchestration/jobs.py), so the step runs while another run holds the warehouse. Every other run
# takes it before its first step.
RESERVE_AFTER_TAG = "kommunkvalitet/reserve_warehouse_after"
# how often a waiting run repeats what it waits for (the daemon's runs say it in the UI)
REPORT_EVERY = 60.0


@dataclass
class _Held:
    handle: IO[str]
    thread: int
    depth: int


# the reservations this process holds, by lock file: who holds it and how often re-entered
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
            return _description(handle)
        return None  # closing the file drops the shared lock just taken


class Reservation:
    """One run's claim on the warehouse: `hold` waits for it, `try_hold` does not, `release`
    gives it back (and the kernel does, if the process dies first)."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        self.path = lock_path(data_dir).resolve()
        self.holder = holder
        self._handle: IO[str] | None = None
        self._nested = False

    @property
    def held(self) -> bool:
        return self._handle is not None or self._nested

    def hold(self, *, say: Callable[[str], None], report_every: float = REPORT_EVERY,
             poll: float = 0.5) -> None:
        """Wait until this run holds the warehouse; while another does, `say` who (at once,
        then every `report_every` seconds)."""
        if self.held or self._reenter():
            return
        handle = self._open()
        first: float | None = None  # when this run started waiting
        said_at = 0.0
        try:
            while not _try_lock(handle, self.path):
                now = time.monotonic()
                if first is None or now - said_at >= report_every:
                    still = "" if first is None else f" (still, after {now - first:.0f} s)"
                    first = now if first is None else first
                    say(f"the warehouse is in use by {_description(handle)}; this run's "
                        f"warehouse steps wait for it{still}")
                    said_at = now
                time.sleep(poll)
        except BaseException:
            handle.close()
            raise
        self._own(handle)

    def try_hold(self) -> str | None:
        """Hold the warehouse if it is free: None when this run now holds it, else who does."""
        if self.held or self._reenter():
            return None
        handle = self._open()
        if _try_lock(handle, self.path):
            self._own(handle)
            return None
        who = _description(handle)
        handle.close()
        return who

    def release(self) -> None:
        with _guard:
            if self._nested:
                _held[self.path].depth -= 1
            elif self._handle is not None:
                del _held[self.path]
                self._handle.close()  # closing the descriptor releases the flock
            self._handle, self._nested = None, False

    def _reenter(self) -> bool:
        """This thread already holds it (a run inside a run): nothing to wait for."""
        with _guard:
            held = _held.get(self.path)
            if held is None or held.thread != threading.get_ident():
                return False
            held.depth += 1
            self._nested = True
            return True

    def _open(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Not a `with`: the descriptor stays open, holding the flock, until release().
        return open(self.path, "a+", encoding="utf-8")

    def _own(self, handle: IO[str]) -> None:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{self.holder}, since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
        handle.flush()
        with _guard:
            _held[self.path] = _Held(handle, threading.get_ident(), 1)
        self._handle = handle


@contextmanager
def reserve_warehouse(data_dir: Path, holder: str, *, say: Callable[[str], None],
                      report_every: float = REPORT_EVERY, poll: float = 0.5) -> Iterator[None]:
    """Hold the warehouse for the block (waiting, and saying what for, while another holds
    it)."""
    reservation = Reservation(data_dir, holder)
    reservation.hold(say=say, report_every=report_every, poll=poll)
    try:
        yield
    finally:
        reservation.release()


def _try_lock(handle: IO[str], path: Path) -> bool:
    with _guard:
        if path in _held:  # another thread of this process holds it
            return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _description(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read().strip() or "another process"
