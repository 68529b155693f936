"""The console logger of every run: `11:22:44 kolada__kpi_value  62/63 pages ...`.

Dagster's default console line repeats the date, zone, logger name, job and 36-character run
id before each message (about 110 characters); an operator reading a nightly run needs the
time, the step and the message. Errors keep their first line (the CLI's summary names the
failed step and its root cause; the full trace is in the run's event log, `make dev`).
KK_VERBOSE=1 restores full messages.
"""

from __future__ import annotations

import logging
import os
import sys

import dagster as dg
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR


class ConciseFormatter(logging.Formatter):
    def __init__(self, *, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        message = str(meta.get("orig_message") or record.getMessage())
        if not self.verbose and record.levelno >= logging.ERROR:
            message = next((line for line in message.splitlines() if line.strip()), message)
        step = meta.get("step_key") or meta.get("job_name") or ""
        clock = self.formatTime(record, "%H:%M:%S")
        level = "" if record.levelno < logging.WARNING else f"{record.levelname}: "
        return f"{clock} {step:28s} {level}{message}"


@dg.logger(
    config_schema={"log_level": dg.Field(str, is_required=False, default_value="INFO")},
    description="Concise console lines: time, step, message (KK_VERBOSE=1 for full messages).",
)
def concise_console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    # A fresh, unregistered logger per run: getLogger() would hand every run the same one and
    # pile up handlers (each line printed once per run so far in the process).
    logger = logging.Logger("kommunkvalitet.run",  # noqa: LOG001
                            level=init_context.logger_config["log_level"].upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ConciseFormatter(verbose=os.environ.get("KK_VERBOSE") == "1"))
    logger.addHandler(handler)
    return logger
