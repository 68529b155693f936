"""`kommunkvalitet status`: is the platform healthy? (reads; never the warehouse)"""

from __future__ import annotations

import argparse
import json

from pipelines.settings import Settings

NAME = "status"
HELP = ("per stream, job, publication, freshness and alert: is the platform healthy? "
        "(exit 0 healthy, 1 not)")
DESCRIPTION = ("Reads the event log, the ledger, the Dagster instance and published/ "
               "(never the warehouse). Exit 0 when healthy, 1 when not (a monitor can call it).")
EXAMPLES = ("kommunkvalitet status", "kommunkvalitet status --json | jq .problems",
            "kommunkvalitet status -q || echo unhealthy   # a monitor's probe")
ENVIRONMENT = ("KK_DATA_DIR", "DAGSTER_HOME", "KK_FRESHNESS_GRACE_DAYS")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--max-age-hours", type=float, default=30.0, metavar="H",
        help="a publication older than this is unhealthy (default 30: one night plus margin)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.operations.status import collect_status, render

    status = collect_status(settings, max_age_hours=args.max_age_hours)
    print(json.dumps(status.as_dict(), ensure_ascii=False, indent=2, default=str) if args.json
          else render(status))
    return 0 if status.healthy else 1
