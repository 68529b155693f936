"""Wall time and peak RSS of a whole process tree (the CLI, and dbt's subprocesses under it).

Why polling psutil rather than getrusage or a cgroup: `RUSAGE_CHILDREN` reports the largest
single descendant, not the sum of a tree that runs at the same time (Dagster + dbt), and a
cgroup of our own needs delegation this shared machine does not give. Every 50 ms the sampler
sums the memory of the root and all its live descendants, twice: plain RSS (pages shared
between processes, e.g. dlt's forked workers, counted once per process: the S peer showed
7.7 GB that way) and PSS (each shared page split among its sharers, so the sum is the tree's
real footprint). The reported peak is the PSS sum; the RSS sum is kept beside it. A process
that lives shorter than one interval can be missed. The samples are kept, so a step's phases
(dbt, GX) can take the peak of their own time window.
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
    samples: list[tuple[float, int]] = field(default_factory=list)  # (time.time(), pss sum)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
    killed: str = ""  # why it was killed: "" | "timed out ..." | "RSS over ..."
    peak_rss_sum: int = 0  # the plain RSS sum's peak (over-counts shared pages)

    def peak_between(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0)


def _tree_memory(root: psutil.Process) -> tuple[int, int]:
    """(RSS sum, PSS sum) over the root and its descendants."""
    rss = pss = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    for proc in procs:
        try:
            info = proc.memory_full_info()  # smaps_rollup: about 0.3 ms a process
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return rss, pss


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
    peak_rss_sum = 0
    while True:
        rss, pss = _tree_memory(root)
        peak_rss_sum = max(peak_rss_sum, rss)
        samples.append((time.time(), pss))
        if proc.poll() is not None:
            returncode = proc.returncode
            break
        elapsed = time.monotonic() - t0
        if elapsed > timeout:
            killed = f"timed out after {timeout:.0f} s"
        elif max_rss is not None and samples[-1][1] > max_rss:
            killed = f"killed: RSS over {max_rss / 2**30:.1f} GiB after {elapsed:.0f} s"
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
                    (load_before, os.getloadavg()[0]), killed=killed,
                    peak_rss_sum=peak_rss_sum)
