"""`kommunkvalitet`: run the platform's Dagster jobs in-process on the shared instance.

Every command that changes data goes through the same Dagster definitions the schedule and the
UI use; the CLI only turns flags into run config and prints a readable summary. `rollback`
only moves the `published/current` pointer, so it needs no Dagster run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines.build_vars import AsOfError, parse_as_of
from pipelines.settings import Settings, SettingsError, load_settings
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN

# The op of the assessment import asset (its asset key joined by "__", as Dagster names it).
ASSESSMENT_OP = "__".join(KOMMUNKOMPASSEN.asset_key_path)

# Which op takes which config; a job only accepts config for the ops it contains.
_JOB_OPS = {
    "ingest": (),
    "build": ("warehouse_models", "gx_suites"),
    "publish": ("publication",),
    "assessment_refresh": (ASSESSMENT_OP, "warehouse_models", "gx_suites", "publication"),
    "nightly_refresh": ("warehouse_models", "gx_suites", "publication"),
}


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


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--override-row-count",
        metavar="REASON",
        help="accept a row count outside the band of the previous publication, once; the reason "
        "is recorded in the manifest",
    )


def _publish_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="publish even if nothing changed")
    parser.add_argument(
        "--allow-older",
        metavar="REASON",
        help="publish even though the build's as-of is older than the current publication's "
        "(refused otherwise); the reason is recorded in the manifest and history.jsonl",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kommunkvalitet",
        description="Event-sourced platform for Swedish municipal quality data (Kolada, KKiK).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="fetch Kolada into the append-only event log")
    _source_options(ingest)
    refresh = commands.add_parser(
        "refresh", help="the nightly refresh: ingest, build, check, publish"
    )
    _source_options(refresh)
    _build_options(refresh)
    _publish_options(refresh)
    build = commands.add_parser(
        "build", help="rebuild the marts from the event log (no ingest) and run the checks"
    )
    build.add_argument(
        "--as-of", metavar="ISO-8601",
        help="reconstruct the marts as of this moment (UTC when no zone); default: the event "
        "log's watermark",
    )
    build.add_argument("--full-refresh", action="store_true", help="dbt --full-refresh")
    _build_options(build)
    publish = commands.add_parser(
        "publish", help="publish the current build if every blocking check passed"
    )
    _publish_options(publish)
    importer = commands.add_parser(
        "import",
        help="import Kommunkompassen files (CSV/XLSX) into the event log, then build, check "
        "and publish",
    )
    importer.add_argument("paths", nargs="+", metavar="PATH", help="the files to import")
    _publish_options(importer)
    _build_options(importer)
    template = commands.add_parser(
        "assessment-template", help="write a ready-to-fill Kommunkompassen import file"
    )
    template.add_argument("--xlsx", action="store_true", help="Excel instead of CSV")
    template.add_argument(
        "--out", metavar="PATH", help="where to write it (default: kommunkompassen_mall.csv/.xlsx)"
    )
    rollback = commands.add_parser(
        "rollback", help="point published/current at an earlier version (default: the previous)"
    )
    rollback.add_argument("version", nargs="?", help="the version to make current")
    return parser


def run_config(job: str, args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Flags -> Dagster run config for `job` (pure: unit-tested without running anything)."""
    # Run config replaces a resource's whole config: every field comes from the settings here,
    # or KOLADA_BASE_URL / KOLADA_MAX_RPS would silently fall back to the class defaults.
    kolada: dict[str, Any] = {
        "source": settings.source,
        "base_url": settings.kolada_base_url,
        "max_rps": settings.kolada_max_rps,
        "full": bool(getattr(args, "full", False)),
    }
    scb: dict[str, Any] = {"source": settings.source, "base_url": settings.scb_base_url}
    sample_day = getattr(args, "sample_day", None)
    if sample_day is not None:
        if sample_day < 1:
            raise SettingsError("--sample-day must be 1 or more")
        kolada["sample_day"] = sample_day
        scb["sample_day"] = sample_day
    ops: dict[str, Any] = {}
    op_configs = {
        "warehouse_models": {
            "as_of": _as_of(getattr(args, "as_of", None)),
            "full_refresh": bool(getattr(args, "full_refresh", False)),
        },
        "gx_suites": {"row_count_override_reason": getattr(args, "override_row_count", None)},
        "publication": {
            "force": bool(getattr(args, "force", False)),
            "allow_older_reason": _reason(getattr(args, "allow_older", None), "--allow-older"),
        },
        ASSESSMENT_OP: {"paths": [str(p) for p in getattr(args, "paths", None) or []]},
    }
    for op in _JOB_OPS[job]:
        ops[op] = {"config": op_configs[op]}
    config: dict[str, Any] = {
        "resources": {
            "kolada": {"config": kolada},
            "scb": {"config": scb},
            "assessments": {"config": {"source": settings.source}},
            "platform": {
                "config": {
                    "data_dir": str(settings.data_dir),
                    "config_path": str(settings.config_path),
                    "publish_keep": settings.publish_keep,
                }
            },
        }
    }
    if ops:
        config["ops"] = ops
    # INFO keeps the progress lines (pages, rows, rate; dbt models; suites) and drops Dagster's
    # per-event DEBUG chatter; the full event log is still in the instance for `make dev`.
    config["loggers"] = {"console": {"config": {"log_level": "INFO"}}}
    return config


def _reason(text: str | None, flag: str) -> str | None:
    """An operator's reason: None when the flag is absent, an error when it is blank."""
    if text is None:
        return None
    if not text.strip():
        raise SettingsError(f"{flag} needs a reason (it is recorded in the manifest)")
    return text.strip()


def _as_of(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return parse_as_of(text).isoformat()
    except AsOfError as exc:
        raise SettingsError(str(exc)) from exc


def run_job(job_name: str, config: dict[str, Any], settings: Settings) -> bool:
    from pipelines.instance import shared_instance

    instance = shared_instance(settings)
    from pipelines.definitions import defs

    job = defs.resolve_job_def(job_name)
    started = time.monotonic()
    result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
    _print_summary(result, time.monotonic() - started)
    return result.success


def _print_summary(result: Any, seconds: float) -> None:
    from dagster import DagsterEventType

    print()
    print(f"run {result.run_id} ({result.dagster_run.job_name}): "
          f"{'SUCCESS' if result.success else 'FAILED'} in {seconds:.1f} s")
    built_as_of: dict[str, int] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in materialization.metadata.items()}
        if "as_of" in meta:  # a dbt model: one summary line for all of them
            built_as_of[str(meta["as_of"])] = built_as_of.get(str(meta["as_of"]), 0) + 1
            continue
        shown = {k: v for k, v in meta.items() if k in _SUMMARY_KEYS}
        if shown:
            details = ", ".join(f"{k}={v}" for k, v in shown.items())
            print(f"  {materialization.asset_key.to_user_string():28s} {details}")
        if meta.get("files"):  # an assessment import: each file's quarantine report
            report = str(meta.get("reports", "")).replace("```", "")
            for line in (line for line in report.splitlines() if line.strip()):
                print(f"    {line}")
    for as_of, count in built_as_of.items():
        print(f"  dbt: {count} models and seeds built as of {as_of}")
    checks = [
        e.event_specific_data for e in result.all_events
        if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    if checks:
        failed = [c for c in checks if not c.passed]
        print(f"  checks: {len(checks) - len(failed)} passed, {len(failed)} failed")
        for check in failed:
            print(f"  FAILED check {check.asset_key.to_user_string()}:{check.check_name} "
                  f"({check.severity.value})", file=sys.stderr)
            summary = check.metadata.get("summary")
            if summary is not None:
                text = str(summary.value).strip("`\n")
                print("    " + text.replace("\n", "\n    "), file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            print(f"  FAILED step {event.step_key}: {_root_cause(event.step_failure_data.error)}",
                  file=sys.stderr)
        elif event.is_step_skipped:
            print(f"  skipped {event.step_key} (an upstream step or blocking check failed)",
                  file=sys.stderr)


def _root_cause(error: Any) -> str:
    """Dagster wraps the exception a step raised; the operator needs the innermost one."""
    if error is None:
        return "unknown error"
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


_SUMMARY_KEYS = (
    "mode", "events_appended", "upserted", "deleted", "unchanged", "pages", "seconds",
    "files", "rejected_rows", "rejected_files", "warnings", "version", "message",
)


def _import_paths(paths: Sequence[str]) -> list[str]:
    """Absolute paths of files that exist; anything else is an error before a run starts."""
    resolved = []
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if not path.is_file():
            raise SettingsError(f"{raw}: no such file")
        resolved.append(str(path))
    return resolved


def _template(args: argparse.Namespace) -> int:
    from pipelines.sources.kommunkompassen.template import write_template

    default = "kommunkompassen_mall.xlsx" if args.xlsx else "kommunkompassen_mall.csv"
    path = write_template(Path(args.out or default), xlsx=args.xlsx)
    print(f"wrote {path}: fill in one row per municipality x assessment x area "
          "(docs/assessment-import.md), then `kommunkvalitet import` it")
    return 0


def _rollback(settings: Settings, version: str | None) -> bool:
    from pipelines.publish.publisher import RollbackError, rollback

    try:
        result = rollback(settings.layout.published_dir, version)
    except RollbackError as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return False
    print(result.message)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(source=getattr(args, "source", None))
        if args.command == "rollback":
            return 0 if _rollback(settings, args.version) else 1
        if args.command == "assessment-template":
            return _template(args)
        if args.command == "import":
            args.paths = _import_paths(args.paths)
        job = {"refresh": "nightly_refresh", "import": "assessment_refresh"}.get(
            args.command, args.command
        )
        ok = run_job(job, run_config(job, args, settings), settings)
    except SettingsError as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
