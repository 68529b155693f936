"""`kommunkvalitet verify [--repair]`: the event log against its ledger, the publication
against its manifest."""

from __future__ import annotations

import argparse
import json
import sys

from pipelines.settings import Settings

NAME = "verify"
HELP = ("check every event batch file against the ledger's checksums, every payload "
        "against its hash, and the current publication against its manifest (exit 0 clean, "
        "1 problems found)")
EXAMPLES = ("kommunkvalitet verify", "kommunkvalitet verify --json | jq .problem_lines",
            "kommunkvalitet verify --repair   # then: kommunkvalitet ingest")
ENVIRONMENT = ("KK_DATA_DIR",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--repair", action="store_true",
        help="move damaged batch files to events/_quarantine/ and ledger it, so the next "
        "ingest re-fetches their events (docs/event-log.md, Recovery)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.eventlog.integrity import quarantine
    from pipelines.eventlog.store import EventLog
    from pipelines.operations.verify import render, verify_platform

    report = verify_platform(settings)
    if args.repair and report.events.problems:
        for path in quarantine(EventLog(settings.layout.events_dir), report.events.problems):
            print(f"moved {path.name} to {path.parent}", file=sys.stderr)
        print("now run `kommunkvalitet ingest` (a full fetch) to re-fetch their events",
              file=sys.stderr)
        report = verify_platform(settings)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str) if args.json
          else render(report))
    return 0 if report.ok else 1
