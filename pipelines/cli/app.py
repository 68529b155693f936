"""`kommunkvalitet`: parse, load the settings, hand the command to its module.

Every command that changes data goes through the same Dagster definitions the schedule and the
UI use (pipelines.cli.jobs); the CLI only turns flags into run config and prints a readable
summary. `rollback` only moves the `published/current` pointer, so it needs no Dagster run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from pipelines.cli.commands import BY_NAME
from pipelines.cli.exit_codes import EXIT_FAILED, EXIT_USAGE, is_data_error
from pipelines.cli.parser import build_parser
from pipelines.settings import SettingsError, check_data_dir, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = build_parser().parse_args(argv)
    command = BY_NAME[args.command]
    try:
        settings = load_settings(source=getattr(args, "source", None))
        if getattr(command, "NEEDS_DATA_DIR", True):
            check_data_dir(settings.data_dir)
        if getattr(args, "sample_day", None) is not None and settings.source != "sample":
            # a contradiction, refused before anything runs (it used to go live silently)
            raise SettingsError(f"--sample-day needs --source sample (the source is "
                                f"{settings.source!r})")
        return command.run(args, settings)
    except SettingsError as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if not is_data_error(exc):
            raise
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return EXIT_FAILED
