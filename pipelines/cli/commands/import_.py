"""`kommunkvalitet import PATH...`: import Kommunkompassen files, then build, check, publish."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.cli.exit_codes import EXIT_FAILED, EXIT_OK
from pipelines.cli.jobs import (
    check_config,
    execute_command_job,
    materialized,
    require_kolada_data,
    run_command_job,
)
from pipelines.cli.options import RUN_ENV, build_options, publish_options
from pipelines.settings import Settings, SettingsError

NAME = "import"
HELP = ("import Kommunkompassen files (CSV/XLSX) into the event log, then build, check "
        "and publish when something landed")
EXAMPLES = ("kommunkvalitet import kommunkompassen_2025.xlsx",
            "kommunkvalitet import data/landing/kommunkompassen/*.csv")
ENVIRONMENT = RUN_ENV + ("KK_SOURCE", "KK_PUBLISH_KEEP")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="the files to import")
    publish_options(parser)
    build_options(parser)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Two runs, as a night is: the import (the event log only), then build, checks and
    publish (nightly_publish) when it landed something, or with --force."""
    args.paths = import_paths(args.paths)
    check_config(settings)
    code, result = execute_command_job("assessment_import", args, settings)
    if code != EXIT_OK:
        print("  the build, checks and publish were not run: the marts and the current "
              "publication are unchanged", file=sys.stderr)
        return code
    landed = materialized(result, "assessment/kommunkompassen")
    files, rejected = int(landed.get("files", 0)), int(landed.get("rejected_files", 0))
    if files and rejected == files:
        what = "none of the files could" if files > 1 else "the file could not"
        print(f"  {what} be imported (the report above says why): nothing to build",
              file=sys.stderr)
        return EXIT_FAILED
    if not landed.get("events_appended") and not args.force:
        print("  nothing new landed (0 events appended): the build, checks and publish were "
              "not run (`import --force` runs them)")
        return EXIT_OK
    reason = require_kolada_data(settings)
    if reason:
        print(f"  imported; {reason}")
        return EXIT_OK
    return run_command_job("nightly_publish", args, settings)


def import_paths(paths: Sequence[str]) -> list[str]:
    """Absolute paths of files that exist; anything else is an error before a run starts."""
    resolved = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if not path.is_file():
            raise SettingsError(f"{raw}: no such file")
        resolved.append(str(path))
    return resolved
