"""`kommunkvalitet assessment-template`: write a ready-to-fill Kommunkompassen import file."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.settings import Settings

NAME = "assessment-template"
HELP = "write a ready-to-fill Kommunkompassen import file"
EXAMPLES = ("kommunkvalitet assessment-template --xlsx --out mall.xlsx",)
ENVIRONMENT = ()
NEEDS_DATA_DIR = False  # the only command that needs no data dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--xlsx", action="store_true", help="Excel instead of CSV")
    parser.add_argument(
        "--out", metavar="PATH", help="where to write it (default: kommunkompassen_mall.csv/.xlsx)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.sources.kommunkompassen.template import write_template

    default = "kommunkompassen_mall.xlsx" if args.xlsx else "kommunkompassen_mall.csv"
    path = write_template(Path(args.out or default), xlsx=args.xlsx)
    print(f"wrote {path}: fill in one row per municipality x assessment x area "
          "(docs/assessment-import.md), then `kommunkvalitet import` it")
    return 0
