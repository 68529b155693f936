"""dbt's console output, made readable: a progress line now and then instead of ~1,000 lines.

dagster-dbt writes every dbt event to stdout (START and OK of each of ~540 nodes, out of
order with 2 threads). During a build that stream goes to `$KK_DATA_DIR/logs/dbt/<run>.log`
in full, and the run's log gets a line per quarter of the nodes done, and every warning, error
and failure as it happens. KK_VERBOSE=1 passes dbt's output through unchanged.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from pipelines import progress

# a node's result; the project's hooks count "1 of 1" on their own and are not nodes
_PROGRESS = re.compile(r"^\s*(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP)\b(?! hook: )")
_DONE = re.compile(r"\bDone\. PASS=")
_ALARM = re.compile(r"\b(WARN|ERROR|FAIL)\b|Failure in |Error in ")
# dbt colours its status words (`\x1b[31mFAIL 15\x1b[0m`) even into a pipe: a line that is
# shown is shown without them (the log file keeps dbt's output as it came)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _DbtLines(io.TextIOBase):
    def __init__(self, log_file: Path, say: Callable[[str], None],
                 warn: Callable[[str], None]) -> None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self._file = log_file.open("a", encoding="utf-8")
        self._say, self._warn = say, warn
        self._buffer = ""
        self.done = 0
        self.total = 0
        self._quarters = 0
        self.alarms = 0

    def write(self, text: str) -> int:
        self._file.write(text)
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._line(line)
        return len(text)

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def _line(self, line: str) -> None:
        line = _ANSI.sub("", line)
        match = _PROGRESS.match(line)
        if match:
            self.done = max(self.done, int(match.group(1)))
            self.total = int(match.group(2))
            progress.advance(self.done, self.total, "nodes")
            if match.group(3) in ("WARN", "ERROR", "FAIL"):
                self.alarms += 1
                self._warn(f"dbt: {line.strip()}")
            elif self.total and self.done * 4 // self.total > self._quarters:
                self._quarters = self.done * 4 // self.total
                self._say(f"dbt: {self.done}/{self.total} nodes done")
        elif _DONE.search(line):
            counts = dict(re.findall(r"(\w+)=(\d+)", line))
            bad = int(counts.get("WARN", 0)) + int(counts.get("ERROR", 0))
            (self._warn if bad else self._say)(f"dbt: {line.strip()}")
        elif _ALARM.search(line) and "START" not in line:
            self._warn(f"dbt: {line.strip()}")

    def close(self) -> None:
        if self._buffer:
            self._line(self._buffer)
            self._buffer = ""
        self._file.close()
        super().close()


@contextlib.contextmanager
def concise_dbt_output(log_file: Path, say: Callable[[str], None],
                       warn: Callable[[str], None], *, verbose: bool = False) -> Iterator[Path]:
    """Within the block, stdout goes to `log_file` and progress to `say`/`warn`; `verbose`
    (or KK_VERBOSE=1) passes dbt's output through."""
    if verbose or os.environ.get("KK_VERBOSE") == "1":
        yield log_file
        return
    sink = _DbtLines(log_file, say, warn)
    saved = sys.stdout
    sys.stdout = sink
    try:
        yield log_file
    finally:
        sys.stdout = saved
        sink.close()
        done = f"{sink.done}/{sink.total} nodes done; " if sink.total else ""
        say(f"dbt: {done}full dbt output in {log_file}")
