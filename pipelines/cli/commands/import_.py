"""`kommunkvalitet import PATH...`: import Kommunkompassen files, then build, check, publish."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from pipelines.cli.jobs import check_config, run_command_job
from pipelines.cli.options import RUN_ENV, build_options, publish_options
from pipelines.settings import Settings, SettingsError

NAME = "import"
HELP = ("import Kommunkompassen files (CSV/XLSX) into the event log, then build, check "
        "and publish")
EXAMPLES = ("kommunkvalitet import kommunkompassen_2025.xlsx",
            "kommunkvalitet import data/landing/kommunkompassen/*.csv")
ENVIRONMENT = RUN_ENV + ("KK_SOURCE", "KK_PUBLISH_KEEP")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="the files to import")
    publish_options(parser)
    build_options(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    args.paths = import_paths(args.paths)
    check_config(settings)
    return run_command_job("assessment_refresh", args, settings)


def import_paths(paths: Sequence[str]) -> list[str]:
    """Absolute paths of files that exist; anything else is an error before a run starts."""
    resolved = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if not path.is_file():
            raise SettingsError(f"{raw}: no such file")
        resolved.append(str(path))
    return resolved
