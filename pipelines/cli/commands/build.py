"""`kommunkvalitet build`: rebuild the marts from the event log and run the checks."""

from __future__ import annotations

import argparse
import sys

from pipelines.cli.exit_codes import EXIT_FAILED
from pipelines.cli.jobs import check_config, require_kolada_data, run_command_job
from pipelines.cli.options import RUN_ENV, build_options
from pipelines.settings import Settings

NAME = "build"
HELP = "rebuild the marts from the event log (no ingest) and run the checks"
EXAMPLES = ("kommunkvalitet build", "kommunkvalitet build --as-of 2026-11-30T02:00")
ENVIRONMENT = RUN_ENV


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of", metavar="ISO-8601",
        help="reconstruct the marts as of this moment (UTC when no zone); default: the event "
        "log's watermark",
    )
    parser.add_argument("--full-refresh", action="store_true", help="dbt --full-refresh")
    build_options(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    check_config(settings)
    reason = require_kolada_data(settings)
    if reason:
        print(f"kommunkvalitet: {reason}", file=sys.stderr)
        return EXIT_FAILED
    return run_command_job("build", args, settings)
