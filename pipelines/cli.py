"""`kommunkvalitet`: run the platform's Dagster jobs in-process on the shared instance.

Every command goes through the same Dagster definitions the schedule and the UI use; the CLI
only turns flags into run config and prints a readable summary.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from pipelines.settings import SettingsError, load_settings


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=("live", "sample"),
        help="live Kolada (KOLADA_BASE_URL) or the bundled synthetic sample; default KK_SOURCE or live",
    )
    parser.add_argument("--full", action="store_true", help="full fetch instead of incremental from_date")
    parser.add_argument(
        "--sample-day", type=int, default=1, metavar="N", help="with --source sample: serve day N's state"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kommunkvalitet",
        description="Event-sourced platform for Swedish municipal quality data (Kolada, KKiK).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="fetch Kolada into the append-only event log")
    _source_options(ingest)
    refresh = commands.add_parser("refresh", help="the nightly refresh: ingest, build, check, publish")
    _source_options(refresh)
    return parser


def _run_config(args: argparse.Namespace, settings: Any) -> dict[str, Any]:
    kolada: dict[str, Any] = {"source": settings.source, "full": bool(getattr(args, "full", False))}
    if getattr(args, "sample_day", None):
        if args.sample_day < 1:
            raise SettingsError("--sample-day must be 1 or more")
        kolada["sample_day"] = args.sample_day
    return {
        "resources": {
            "kolada": {"config": kolada},
            "platform": {"config": {"data_dir": str(settings.data_dir)}},
        }
    }


def run_job(job_name: str, run_config: dict[str, Any], settings: Any) -> bool:
    from pipelines.instance import shared_instance

    instance = shared_instance(settings)
    from pipelines.definitions import defs

    job = defs.resolve_job_def(job_name)
    started = time.monotonic()
    result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
    seconds = time.monotonic() - started
    _print_summary(result, seconds)
    return result.success


def _print_summary(result: Any, seconds: float) -> None:
    print()
    print(f"run {result.run_id} ({result.dagster_run.job_name}): "
          f"{'SUCCESS' if result.success else 'FAILED'} in {seconds:.1f} s")
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        meta = materialization.metadata
        shown = {k: v.value for k, v in meta.items() if k in _SUMMARY_KEYS}
        if shown:
            details = ", ".join(f"{k}={v}" for k, v in shown.items())
            print(f"  {materialization.asset_key.to_user_string():40s} {details}")
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "unknown error"
            print(f"  FAILED step {event.step_key}: {message}", file=sys.stderr)


_SUMMARY_KEYS = ("mode", "events_appended", "upserted", "deleted", "unchanged", "pages", "seconds")


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(source=getattr(args, "source", None))
        os.environ["KK_DATA_DIR"] = str(settings.data_dir)
        if args.command == "ingest":
            ok = run_job("ingest", _run_config(args, settings), settings)
        elif args.command == "refresh":
            ok = run_job("nightly_refresh", _run_config(args, settings), settings)
        else:  # pragma: no cover - argparse guards this
            raise SystemExit(f"unknown command {args.command}")
    except SettingsError as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
