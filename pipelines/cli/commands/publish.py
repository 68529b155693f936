"""`kommunkvalitet publish`: publish the current build if every blocking check passed."""

from __future__ import annotations

import argparse
import sys

from pipelines.cli.exit_codes import EXIT_FAILED
from pipelines.cli.jobs import check_config, run_command_job
from pipelines.cli.options import RUN_ENV, publish_options
from pipelines.settings import Settings

NAME = "publish"
HELP = "publish the current build if every blocking check passed"
EXAMPLES = ("kommunkvalitet publish",
            "kommunkvalitet publish --allow-older 'board meeting asked for the Nov data'")
ENVIRONMENT = RUN_ENV + ("KK_PUBLISH_KEEP",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    publish_options(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    check_config(settings)
    if not settings.layout.warehouse_path.exists():
        # one line, not the gate's "never been built" for each of ~400 checks, and no alert:
        # no run failed
        print("kommunkvalitet: nothing has been built yet, so there is nothing to publish: "
              "run `kommunkvalitet build` (or `refresh`) first", file=sys.stderr)
        return EXIT_FAILED
    return run_command_job("publish", args, settings)
