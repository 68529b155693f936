"""Wall time and peak RSS of a whole process tree (the CLI, and dbt's subprocesses under it).

Why polling psutil rather than getrusage or a cgroup: `RUSAGE_CHILDREN` reports the largest
single descendant, not the sum of a tree that runs at the same time (Dagster + dbt), and a
cgroup of our own needs delegation this shared machine does not give. Every 50 ms the sampler
sums the RSS of the root and all its live descendants; a process that lives shorter than one
interval can be missed, and pages shared between processes are counted once per process, so
the peak is a slight over-estimate of the tree's real footprint. The samples are kept, so a
step's phases (dbt, GX) can take the peak of their own time window.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

INTERVAL = 0.05


@dataclass
class Measured:
    wall: float
    peak_rss: int
    returncode: int | None  # None: killed (timed out, or over the RSS cap)
    stdout: str
    stderr: str
    started: float  # time.time() at start
    samples: list[tuple[float, int]] = field(default_factory=list)  # (time.time(), rss)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after

    killed: str = ""  # why it was killed: "" | "timed out ..." | "RSS over ..."

    def peak_between(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0)


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(cmd: list[str], *, env: dict[str, str], cwd: str, timeout: float,
            max_rss: int | None = None) -> Measured:
    """Run `cmd` in its own session and measure it; kill its process group after `timeout`
    seconds or once the tree's RSS passes `max_rss` (a shared machine must not swap)."""
    load_before = os.getloadavg()[0]
    started = time.time()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    out: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k, s: out.__setitem__(k, s.read()),
                                args=(k, s), daemon=True)
               for k, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    root = psutil.Process(proc.pid)
    samples: list[tuple[float, int]] = []
    returncode: int | None = None
    killed = ""
    while True:
        samples.append((time.time(), _tree_rss(root)))
        if proc.poll() is not None:
            returncode = proc.returncode
            break
        elapsed = time.monotonic() - t0
        if elapsed > timeout:
            killed = f"timed out after {timeout:.0f} s"
        elif max_rss is not None and samples[-1][1] > max_rss:
            killed = f"killed: RSS over {max_rss / 2**30:.0f} GiB after {elapsed:.0f} s"
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)  # the group of the process this call started
            proc.wait()
            break
        time.sleep(INTERVAL)
    wall = time.monotonic() - t0
    for r in readers:
        r.join(timeout=10)
    return Measured(wall, max((s for _, s in samples), default=0), returncode,
                    out.get("stdout", ""), out.get("stderr", ""), started, samples,
                    (load_before, os.getloadavg()[0]), killed)
