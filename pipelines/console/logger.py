"""The console logger of every run: `11:22:44 kolada__kpi_value  62/63 pages ...`.

Dagster's default console line repeats the date, zone, logger name, job and 36-character run
id before each message (about 110 characters); an operator reading a nightly run needs the
time, the step and the message. Errors keep their first line (the CLI's summary names the
failed step and its root cause; the full trace is in the run's event log, `make dev`).
KK_VERBOSE=1 (`--verbose`) restores full messages. Every run's whole log, Dagster's DEBUG
events and failure traces included, also goes to `$KK_DATA_DIR/logs/<run id>.log`; when the
CLI shows a live display (pipelines.console.terminal), the lines feed it instead of the terminal.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR

from pipelines import progress
from pipelines.base_url import elide_urls
from pipelines.settings import SettingsError, load_settings


class ConciseFormatter(logging.Formatter):
    def __init__(self, *, verbose: bool, with_date: bool = False) -> None:
        super().__init__()
        self.verbose, self.clock = verbose, "%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S"

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        message = str(meta.get("orig_message") or record.getMessage())
        if not self.verbose and record.levelno >= logging.ERROR:
            message = next((line for line in message.splitlines() if line.strip()), message)
        if not self.verbose and record.levelno >= logging.WARNING:
            message = elide_urls(message)  # the reason after a long URL stays on the line
        event = meta.get("dagster_event")
        if self.verbose and event is not None and event.is_step_failure:
            message += "\n" + event.step_failure_data.error.to_string()  # the whole trace
        step = meta.get("step_key") or meta.get("job_name") or ""
        clock = self.formatTime(record, self.clock)
        level = "" if record.levelno < logging.WARNING else f"{record.levelname}: "
        return f"{clock} {step:28s} {level}{message}"


_STEP_EVENTS = {
    "STEP_START": "started",
    "STEP_SUCCESS": "succeeded",
    "STEP_FAILURE": "failed",
    "STEP_SKIPPED": "skipped",
}


class _ToProgress(logging.Handler):
    """Feeds a live display (pipelines.progress), when one is attached: Dagster's step events
    become its lines, INFO messages the running step's detail, warnings print above it."""

    def __init__(self, formatter: ConciseFormatter, level: int) -> None:
        super().__init__(logging.DEBUG)
        self.concise, self.console_level = formatter, level

    def emit(self, record: logging.LogRecord) -> None:
        target = progress.listener()
        if target is None:
            return
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        event = meta.get("dagster_event")
        kind = _STEP_EVENTS.get(event.event_type_value) if event is not None else None
        if kind and event.step_key:
            target.step_event(event.step_key, kind)
        elif event is not None and event.event_type_value == "ENGINE_EVENT":
            for step in planned_steps(event):  # the plan, before the first step starts
                target.step_event(step, "planned")
        elif record.levelno >= max(logging.WARNING, self.console_level):
            target.warn(self.concise.format(record))
        elif record.levelno >= self.console_level and event is None:
            target.note(str(meta.get("orig_message") or record.getMessage()))


def planned_steps(event: dg.DagsterEvent) -> list[str]:
    """The steps an in-process run is about to execute, from its "Executing steps" event (this
    Dagster emits no STEP_SKIPPED: a step after a failure simply never starts)."""
    data = event.event_specific_data
    meta = getattr(data, "metadata", None) or {}
    if not str(event.message or "").startswith("Executing steps") or "step_keys" not in meta:
        return []
    with contextlib.suppress(ValueError, SyntaxError):
        return [str(step) for step in ast.literal_eval(meta["step_keys"].value)]
    return []


# What dagster-dbt says about its own workings at INFO: the run's log file keeps it, the
# console (plain lines or the live display) does not. The full dbt command, ~600 characters of
# vars, is among them; the step's own line says what is built and as of when.
_INTERNALS = (
    "A dbt subsetted execution is not being performed",
    # a build of the models a night reaches (pipelines.orchestration.stage2): every selected
    # model's path; the CLI's own line says how many
    "A dbt subsetted execution is being performed",
    "Copying `",
    "Running dbt command: ",
    "Finished dbt command: ",
)


class _NotInternals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        message = str(meta.get("orig_message") or record.getMessage())
        return not message.startswith(_INTERNALS)


class _ToTerminal(logging.StreamHandler):
    """The plain concise lines, when no live display is attached (piped, cron, --verbose)."""

    def emit(self, record: logging.LogRecord) -> None:
        if progress.listener() is None:
            super().emit(record)


def verbose_logging(logger_config: Mapping[str, Any] | None) -> bool:
    """Everything, in full: KK_VERBOSE=1, or a run whose console logger is at DEBUG (`-v`)."""
    level = str((logger_config or {}).get("log_level", "INFO")).upper()
    return os.environ.get("KK_VERBOSE") == "1" or level == "DEBUG"


def run_is_verbose(run_config: Mapping[str, Any]) -> bool:
    """The same, from a run's config (the dbt step asks it before filtering dbt's output)."""
    loggers = run_config.get("loggers") or {}
    return verbose_logging((loggers.get("console") or {}).get("config"))


def run_log_path(log_dir: Path, run_id: str) -> Path:
    return log_dir / f"{run_id}.log"


def _log_dir(configured: str | None) -> Path | None:
    if configured:
        return Path(configured)
    try:  # runs launched by the UI or the daemon: the data dir from the environment
        return load_settings().data_dir / "logs"
    except SettingsError:
        return None


@dg.logger(
    config_schema={
        "log_level": dg.Field(str, is_required=False, default_value="INFO"),
        # where `<run id>.log` goes (the full log, DEBUG included); default $KK_DATA_DIR/logs
        "log_dir": dg.Field(dg.Noneable(str), is_required=False, default_value=None),
    },
    description="Concise console lines: time, step, message (KK_VERBOSE=1 for full messages); "
    "the full log of every run in $KK_DATA_DIR/logs/<run id>.log; a live display's feed.",
)
def concise_console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    # A fresh, unregistered logger per run: getLogger() would hand every run the same one and
    # pile up handlers (each line printed once per run so far in the process).
    level = logging.getLevelName(init_context.logger_config["log_level"].upper())
    logger = logging.Logger("kommunkvalitet.run", level=logging.DEBUG)  # noqa: LOG001
    concise = ConciseFormatter(verbose=verbose_logging(init_context.logger_config))
    terminal = _ToTerminal(sys.stderr)
    terminal.setLevel(level)
    terminal.setFormatter(concise)
    to_display = _ToProgress(concise, level)
    if level > logging.DEBUG:  # --verbose shows them
        terminal.addFilter(_NotInternals())
        to_display.addFilter(_NotInternals())
    logger.addHandler(terminal)
    logger.addHandler(to_display)
    log_dir = _log_dir(init_context.logger_config.get("log_dir"))
    if log_dir is not None and init_context.run_id:
        with contextlib.suppress(OSError):  # no log file is no reason to fail a run
            log_dir.mkdir(parents=True, exist_ok=True)
            full = logging.FileHandler(run_log_path(log_dir, init_context.run_id),
                                       encoding="utf-8", delay=True)
            full.setLevel(logging.DEBUG)
            full.setFormatter(ConciseFormatter(verbose=True, with_date=True))
            logger.addHandler(full)
    return logger
