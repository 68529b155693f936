"""`kommunkvalitet rollback [VERSION]`: move `published/current`; no Dagster run."""

from __future__ import annotations

import argparse
import sys

from pipelines.settings import Settings

NAME = "rollback"
HELP = "point published/current at an earlier version (default: the previous)"
EXAMPLES = ("kommunkvalitet rollback", "kommunkvalitet rollback v20261201T020512Z")
ENVIRONMENT = ("KK_DATA_DIR",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("version", nargs="?", help="the version to make current")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.publish.publisher import RollbackError, rollback

    try:
        result = rollback(settings.layout.published_dir, args.version)
    except RollbackError as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return 1
    print(result.message)
    return 0
