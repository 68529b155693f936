"""`kommunkvalitet diff A B`: what changed between two publications, per mart."""

from __future__ import annotations

import argparse
import json

from pipelines.settings import Settings, SettingsError

NAME = "diff"
HELP = "what changed between two publications, per mart"
DESCRIPTION = "Rows added, removed and changed per mart, read from the published files."
EXAMPLES = ("kommunkvalitet diff v20261201T020512Z current",
            "kommunkvalitet diff v20261201T020512Z current --mart mart_kkik_scorecard --json")
ENVIRONMENT = ("KK_DATA_DIR",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("version_a", help="a kept version (or current)")
    parser.add_argument("version_b", help="a kept version (or current)")
    parser.add_argument("--mart", help="one mart, with examples of changed rows")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.operations.diff import DiffError, diff_publications, render

    try:
        diffs = diff_publications(settings.layout.published_dir, args.version_a,
                                  args.version_b, mart=args.mart)
    except DiffError as exc:
        raise SettingsError(str(exc)) from exc
    if args.json:
        print(json.dumps([d.as_dict() for d in diffs], ensure_ascii=False, indent=2,
                         default=str))
    else:
        print(render(diffs, args.version_a, args.version_b))
    return 0
