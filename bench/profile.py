"""Summaries of py-spy's raw (collapsed-stack) profiles: where a step's samples went.

`python -m bench.run --profile` records one profile per measured step (py-spy record
--format raw --subprocesses; the timings of such a run are distorted and it says so); this
module turns each into the inclusive share of the frames that matter.

  python -m bench.profile <profile.txt> [top]
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def _function(frame: str) -> str:
    """`fn (file.py:123)` -> `fn (file.py)`: shares per function, not per line."""
    return _LINE.sub(")", frame)


def summarize(raw: Path, top: int = 25) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """(total samples, [(frame, inclusive samples)], [(leaf frame, self samples)])."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_function(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        leaves[frames[-1]] += n
    return total, inclusive.most_common(top), leaves.most_common(top)


def render(raw: Path, top: int = 25) -> str:
    total, inclusive, leaves = summarize(raw, top)
    lines = [f"{raw.name}: {total} samples", "inclusive:"]
    lines += [f"  {100 * n / max(total, 1):5.1f} %  {frame}" for frame, n in inclusive]
    lines.append("self:")
    lines += [f"  {100 * n / max(total, 1):5.1f} %  {frame}" for frame, n in leaves]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25))
