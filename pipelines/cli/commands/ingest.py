"""`kommunkvalitet ingest`: fetch Kolada (and SCB, the landing folders) into the event log."""

from __future__ import annotations

import argparse

from pipelines.cli.jobs import check_config, run_command_job
from pipelines.cli.options import FETCH_ENV, RUN_ENV, source_options
from pipelines.settings import Settings

NAME = "ingest"
HELP = "fetch Kolada into the append-only event log"
EXAMPLES = ("kommunkvalitet ingest", "kommunkvalitet ingest --source sample --sample-day 2",
            "KOLADA_BASE_URL=http://127.0.0.1:8765/v3 kommunkvalitet ingest --full")
ENVIRONMENT = FETCH_ENV + RUN_ENV


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source_options(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    check_config(settings)
    return run_command_job("ingest", args, settings)
