"""Flags that several commands share, and the environment variables their help lists."""

from __future__ import annotations

import argparse
from typing import Any

# What a command's --help lists under "environment" (README: Settings).
RUN_ENV = ("KK_DATA_DIR", "KK_CONFIG", "DAGSTER_HOME", "KK_ALERT_WEBHOOK_URL", "KK_UI_URL",
           "KK_VERBOSE")
FETCH_ENV = ("KK_SOURCE", "KOLADA_BASE_URL", "KOLADA_MAX_RPS", "SCB_BASE_URL", "HTTPS_PROXY",
             "KK_FRESHNESS_GRACE_DAYS")


def source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=("live", "sample"),
        help="live Kolada (KOLADA_BASE_URL) or the bundled synthetic sample; default KK_SOURCE or live",
    )
    parser.add_argument("--full", action="store_true", help="full fetch instead of incremental from_date")
    parser.add_argument(
        "--sample-day", type=int, default=None, metavar="N",
        help="with --source sample: serve day N's state (default 1)",
    )


def build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--override-row-count",
        metavar="REASON",
        help="accept a row count outside the band of the previous publication, once; the reason "
        "is recorded in the manifest",
    )


def publish_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="publish even if nothing changed")
    parser.add_argument(
        "--allow-older",
        metavar="REASON",
        help="publish even though the build's as-of is older than the current publication's "
        "(refused otherwise); the reason is recorded in the manifest and history.jsonl",
    )


def output_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """-v/-q on the program and on every command (`kommunkvalitet -q refresh` or `refresh -q`)."""
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", default=default,
                          help="show the full run log live (Dagster's records, dbt's output)")
    loudness.add_argument("-q", "--quiet", action="store_true", default=default,
                          help="print only warnings, errors and the result")
