"""The live display of a run on a terminal: one line per step, a bar where the step knows its
size (Kolada value chunks, dbt nodes, GX suites, published marts), the elapsed time and the
step's latest message; warnings and errors print above it as they happen. Used only when
stdout and stderr are both terminals (and not --quiet/--verbose): piped or under cron the run
prints the concise plain lines of pipelines.console.logger instead.

Built on rich's Progress (a well-kept library the Dagster stack already installs).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Self, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.table import Column, Table
from rich.text import Text

_GLYPHS = {"succeeded": ("✓", "green"), "failed": ("✗", "bold red"), "skipped": ("–", "yellow")}


def wants_live_display(*, quiet: bool, verbose: bool) -> bool:
    return not quiet and not verbose and sys.stdout.isatty() and sys.stderr.isatty()


def terminal_handle() -> TextIO:
    """Our own handle on the terminal behind stderr, taken before the run starts.

    While a step runs, Dagster captures the process's stdout and stderr (file descriptors 1
    and 2) into the run's compute logs. A display drawing on `sys.stderr` then draws into
    that file, and the screen shows one stale frame for the whole step; a duplicate of the
    descriptor still points at the terminal whatever is done to fd 2 later.
    """
    return os.fdopen(os.dup(sys.__stderr__.fileno()), "w", encoding="utf-8", buffering=1)


@dataclass
class StepLine:
    task: TaskID
    started: float
    finished: float | None = None
    outcome: str = "running"
    unit: str = ""

    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class _StepSpinnerColumn(SpinnerColumn):
    """Spins while the step may still run: not once it ended, also failed or not run (its bar
    is not full then, which is all rich's own column looks at)."""

    def render(self, task: Task) -> Any:
        if task.stop_time is not None:
            return self.finished_text
        return super().render(task)


_NAME_WIDTH = 28  # the longest step name (assessment__kommunkompassen)
_COUNT_WIDTH = 15  # "12345/12345 nodes"


def _widths(columns: int) -> tuple[int, int]:
    """The bar's and the message's width on a terminal `columns` wide: the spinner, glyph,
    name, count and clock take 57 with the spaces between; the bar 10-20; the message the
    rest (0 below 80 columns)."""
    fixed = 1 + 1 + _NAME_WIDTH + _COUNT_WIDTH + 7 + 6
    bar = max(10, min(20, columns - fixed - 2))
    return bar, max(0, columns - fixed - bar - 2)


class _StepTimeColumn(ProgressColumn):
    """The step's time so far, to the second, and once it ended its whole time: the same
    figure the final table shows (rich's own column stops the clock when the bar is full,
    though the step goes on: dbt's last node is done before the step has ended)."""

    def render(self, task: Task) -> Text:
        if task.start_time is None:
            return Text("-:--:--", style="progress.elapsed")
        return Text(_clock(step_seconds(task)), style="progress.elapsed")


def step_seconds(task: Task) -> float:
    """Seconds from the step's start to its end (or to now, while it runs)."""
    return task.elapsed or 0.0


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class _CountColumn(ProgressColumn):
    """`12/63 chunks` when the step knows its size, nothing otherwise."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "")
        if task.total is None or not unit:
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)} {unit}", style="cyan")


@dataclass
class LiveDisplay:
    """A ProgressListener (pipelines.progress) drawing on stderr; use as a context manager."""

    console: Console | None = None  # default: a console on terminal_handle()
    steps: dict[str, StepLine] = field(default_factory=dict)
    _current: str | None = None
    _handle: TextIO | None = None

    def __post_init__(self) -> None:
        if self.console is None:
            self._handle = terminal_handle()
            self.console = Console(file=self._handle)
        # Fixed widths, the step's message taking what is left: given free rein, rich shrinks
        # the widest columns first, and below ~150 columns the bar, the count and the clock
        # were the ones that vanished. An 80-column terminal shows them all, and no message.
        bar, message = _widths(self.console.width)
        self.progress = Progress(
            _StepSpinnerColumn(finished_text=" "),
            TextColumn("{task.fields[glyph]}"),
            TextColumn("{task.description}",
                       table_column=Column(no_wrap=True, width=_NAME_WIDTH,
                                           overflow="ellipsis")),
            BarColumn(bar_width=bar),
            _CountColumn(table_column=Column(no_wrap=True, width=_COUNT_WIDTH)),
            _StepTimeColumn(table_column=Column(no_wrap=True, width=7)),
            TextColumn("[dim]{task.fields[detail]}",
                       table_column=Column(no_wrap=True, overflow="ellipsis", width=message)),
            console=self.console,
            redirect_stdout=True,
            redirect_stderr=True,
            transient=False,
        )

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for name, line in self.steps.items():
            if line.outcome == "running":  # the run ended without telling us
                self._finish(name, "failed" if exc[0] else "succeeded")
            elif line.outcome == "planned":  # never started: a step before it failed
                self.progress.update(line.task, detail="skipped: an upstream step or check "
                                     "failed")
                self._finish(name, "skipped")
        self.progress.stop()
        if self._handle is not None:  # the table and summary print on stdout, after it
            self._handle.close()

    # -- ProgressListener ------------------------------------------------------------------
    def step_event(self, step: str, kind: str) -> None:
        if kind == "planned" and step not in self.steps:  # shown waiting, clock not running
            task = self.progress.add_task(step, total=None, start=False, glyph="·",
                                          detail="waiting", unit="")
            self.steps[step] = StepLine(task, time.monotonic(), outcome="planned")
        elif kind == "started":
            line = self.steps.get(step)
            if line is None:
                task = self.progress.add_task(step, total=None, glyph=" ", detail="", unit="")
                self.steps[step] = StepLine(task, time.monotonic())
            else:
                self.progress.reset(line.task, total=None, start=True, glyph=" ", detail="")
                line.started, line.outcome = time.monotonic(), "running"
            self._current = step
        elif kind in _GLYPHS:
            if step not in self.steps:
                self.step_event(step, "planned")
            self._finish(step, kind)

    def advance(self, done: int, total: int | None, unit: str, detail: str) -> None:
        line = self.steps.get(self._current or "")
        if line is None:
            return
        line.unit = unit
        self.progress.update(line.task, completed=done, total=total, unit=unit,
                             **({"detail": detail} if detail else {}))

    def note(self, message: str) -> None:
        line = self.steps.get(self._current or "")
        if line is not None:
            self.progress.update(line.task, detail=message.splitlines()[0][:90])

    def warn(self, line: str) -> None:
        self.progress.console.print(Text(line, style="yellow"))

    # -- internals -------------------------------------------------------------------------
    def _finish(self, step: str, outcome: str) -> None:
        line = self.steps[step]
        if line.finished is not None:
            return
        if line.outcome == "planned":
            line.started = time.monotonic()
        line.finished, line.outcome = time.monotonic(), outcome
        glyph, style = _GLYPHS.get(outcome, ("?", ""))
        task = self.progress.tasks[line.task]
        if outcome == "succeeded":  # a full bar; a failed step keeps the bar where it stopped
            total = task.total if task.total is not None else 1
            self.progress.update(line.task, total=total, completed=total)
        elif task.total is None:
            self.progress.update(line.task, total=1, completed=0)
        self.progress.update(line.task, glyph=f"[{style}]{glyph}[/]")
        self.progress.stop_task(line.task)


def summary_table(display: LiveDisplay, figures: dict[str, dict[str, Any]]) -> Table:
    """The final table: every step with its outcome, seconds and headline figures."""
    table = Table(title=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("step")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    table.add_column("figures", overflow="fold")
    for name, line in display.steps.items():
        glyph, style = _GLYPHS.get(line.outcome, ("?", ""))
        shown = figures.get(name, {})
        table.add_row(name, Text(f"{glyph} {line.outcome}", style=style),
                      f"{step_seconds(display.progress.tasks[line.task]):.1f}",
                      ", ".join(f"{k}={v}" for k, v in shown.items()))
    return table
