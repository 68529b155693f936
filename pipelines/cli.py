"""`kommunkvalitet`: run the platform's Dagster jobs in-process on the shared instance.

Every command that changes data goes through the same Dagster definitions the schedule and the
UI use; the CLI only turns flags into run config and prints a readable summary. `rollback`
only moves the `published/current` pointer, so it needs no Dagster run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipelines.build_vars import AsOfError, parse_as_of
from pipelines.eventlog.integrity import CorruptEventLog
from pipelines.jobs import NEXT_STAGE, ORIGIN_TAG
from pipelines.publish.versions import InvalidManifest
from pipelines.settings import Settings, SettingsError, check_data_dir, load_settings
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN

# The op of the assessment import asset (its asset key joined by "__", as Dagster names it).
ASSESSMENT_OP = "__".join(KOMMUNKOMPASSEN.asset_key_path)

# Which op takes which config; a job only accepts config for the ops it contains.
_JOB_OPS = {
    "ingest": (),
    "build": ("warehouse_models", "gx_suites"),
    "publish": ("publication",),
    "assessment_refresh": (ASSESSMENT_OP, "warehouse_models", "gx_suites", "publication"),
    "nightly_refresh": (),
    "full_refresh": (),
    "nightly_publish": ("warehouse_models", "gx_suites", "publication"),
    "dbt_docs": (),
}


def _source_options(parser: argparse.ArgumentParser) -> None:
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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kommunkvalitet")
    except PackageNotFoundError:
        return "unknown"


# What every command's --help ends with: examples, and the environment variables it reads.
_RUN_ENV = ("KK_DATA_DIR", "KK_CONFIG", "DAGSTER_HOME", "KK_ALERT_WEBHOOK_URL", "KK_UI_URL",
            "KK_VERBOSE")
_FETCH_ENV = ("KK_SOURCE", "KOLADA_BASE_URL", "KOLADA_MAX_RPS", "SCB_BASE_URL", "HTTPS_PROXY",
              "KK_FRESHNESS_GRACE_DAYS")
_HELP: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ingest": (("kommunkvalitet ingest", "kommunkvalitet ingest --source sample --sample-day 2",
                "KOLADA_BASE_URL=http://127.0.0.1:8765/v3 kommunkvalitet ingest --full"),
               _FETCH_ENV + _RUN_ENV),
    "refresh": (("kommunkvalitet refresh --source sample",
                 "kommunkvalitet refresh -q            # cron: only problems and the result",
                 "kommunkvalitet refresh --full --override-row-count 'Kolada re-based N15'"),
                _FETCH_ENV + _RUN_ENV + ("KK_PUBLISH_KEEP",)),
    "build": (("kommunkvalitet build", "kommunkvalitet build --as-of 2026-11-30T02:00"),
              _RUN_ENV),
    "publish": (("kommunkvalitet publish",
                 "kommunkvalitet publish --allow-older 'board meeting asked for the Nov data'"),
                _RUN_ENV + ("KK_PUBLISH_KEEP",)),
    "import": (("kommunkvalitet import kommunkompassen_2025.xlsx",
                "kommunkvalitet import data/landing/kommunkompassen/*.csv"),
               _RUN_ENV + ("KK_SOURCE", "KK_PUBLISH_KEEP")),
    "assessment-template": (("kommunkvalitet assessment-template --xlsx --out mall.xlsx",), ()),
    "rollback": (("kommunkvalitet rollback", "kommunkvalitet rollback v20261201T020512Z"),
                 ("KK_DATA_DIR",)),
    "status": (("kommunkvalitet status", "kommunkvalitet status --json | jq .problems",
                "kommunkvalitet status -q || echo unhealthy   # a monitor's probe"),
               ("KK_DATA_DIR", "DAGSTER_HOME", "KK_FRESHNESS_GRACE_DAYS")),
    "history": (("kommunkvalitet history N15428 1784 --year 2023",
                 "kommunkvalitet history --assessment 1784 2022 --json"),
                ("KK_DATA_DIR",)),
    "report": (("kommunkvalitet report --municipality 1784 --out /tmp/arvika",
                "kommunkvalitet report --network exempel_natverk_varmland --pdf"),
               ("KK_DATA_DIR",)),
    "verify": (("kommunkvalitet verify", "kommunkvalitet verify --json | jq .problem_lines",
                "kommunkvalitet verify --repair   # then: kommunkvalitet ingest"),
               ("KK_DATA_DIR",)),
    "docs": (("kommunkvalitet docs   # then open the printed static_index.html",),
             ("KK_DATA_DIR", "KK_CONFIG", "DAGSTER_HOME")),
    "diff": (("kommunkvalitet diff v20261201T020512Z current",
              "kommunkvalitet diff v20261201T020512Z current --mart mart_kkik_scorecard --json"),
             ("KK_DATA_DIR",)),
}


def _epilog(command: str) -> str:
    examples, env = _HELP[command]
    text = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    if env:
        text += "\n\nenvironment (README: Settings):\n" + textwrap.fill(
            ", ".join(env), width=78, initial_indent="  ", subsequent_indent="  ")
    return text + "\n\nexit codes: 0 ok, 1 failed, 2 usage or settings error, 3 blocked by a check"


def _output_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """-v/-q on the program and on every command (`kommunkvalitet -q refresh` or `refresh -q`)."""
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", default=default,
                          help="show the full run log live (Dagster's records, dbt's output)")
    loudness.add_argument("-q", "--quiet", action="store_true", default=default,
                          help="print only warnings, errors and the result")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kommunkvalitet",
        description="Event-sourced platform for Swedish municipal quality data (Kolada, KKiK).",
        epilog="`kommunkvalitet COMMAND --help` shows each command's examples and settings.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _output_options(parser, False)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, epilog=_epilog(name),
                                  formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
        # SUPPRESS: a flag given before the command is not reset by the command's default
        _output_options(sub, argparse.SUPPRESS)
        return sub

    ingest = command("ingest", help="fetch Kolada into the append-only event log")
    _source_options(ingest)
    refresh = command(
        "refresh", help="the nightly refresh: ingest, build, check, publish"
    )
    _source_options(refresh)
    _build_options(refresh)
    _publish_options(refresh)
    build = command(
        "build", help="rebuild the marts from the event log (no ingest) and run the checks"
    )
    build.add_argument(
        "--as-of", metavar="ISO-8601",
        help="reconstruct the marts as of this moment (UTC when no zone); default: the event "
        "log's watermark",
    )
    build.add_argument("--full-refresh", action="store_true", help="dbt --full-refresh")
    _build_options(build)
    publish = command(
        "publish", help="publish the current build if every blocking check passed"
    )
    _publish_options(publish)
    importer = command(
        "import",
        help="import Kommunkompassen files (CSV/XLSX) into the event log, then build, check "
        "and publish",
    )
    importer.add_argument("paths", nargs="+", metavar="PATH", help="the files to import")
    _publish_options(importer)
    _build_options(importer)
    template = command(
        "assessment-template", help="write a ready-to-fill Kommunkompassen import file"
    )
    template.add_argument("--xlsx", action="store_true", help="Excel instead of CSV")
    template.add_argument(
        "--out", metavar="PATH", help="where to write it (default: kommunkompassen_mall.csv/.xlsx)"
    )
    rollback = command(
        "rollback", help="point published/current at an earlier version (default: the previous)"
    )
    rollback.add_argument("version", nargs="?", help="the version to make current")
    status = command(
        "status",
        help="per stream, job, publication, freshness and alert: is the platform healthy? "
        "(exit 0 healthy, 1 not)",
        description="Reads the event log, the ledger, the Dagster instance and published/ "
        "(never the warehouse). Exit 0 when healthy, 1 when not (a monitor can call it).",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--max-age-hours", type=float, default=30.0, metavar="H",
        help="a publication older than this is unhealthy (default 30: one night plus margin)",
    )
    verify = command(
        "verify",
        help="check every event batch file against the ledger's checksums, every payload "
        "against its hash, and the current publication against its manifest (exit 0 clean, "
        "1 problems found)",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.add_argument(
        "--repair", action="store_true",
        help="move damaged batch files to events/_quarantine/ and ledger it, so the next "
        "ingest re-fetches their events (docs/event-log.md, Recovery)",
    )
    history = command(
        "history",
        help="every recorded value of one key and what each publication showed",
        description="Every event of the key (when recorded, which batch, which source URL or "
        "file) and the value each kept publication showed: why did this number change?",
    )
    history.add_argument("kpi", nargs="?", help="Kolada KPI id, e.g. N15428")
    history.add_argument("municipality", nargs="?", help="4-digit municipality code, e.g. 1784")
    history.add_argument("--year", type=int, help="one period only")
    history.add_argument("--gender", choices=("T", "K", "M"), help="one gender only")
    history.add_argument("--assessment", nargs=2, metavar=("MUNICIPALITY", "YEAR"),
                         help="a Kommunkompassen assessment instead of a KPI value")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    diff = command(
        "diff", help="what changed between two publications, per mart",
        description="Rows added, removed and changed per mart, read from the published files.",
    )
    diff.add_argument("version_a", help="a kept version (or current)")
    diff.add_argument("version_b", help="a kept version (or current)")
    diff.add_argument("--mart", help="one mart, with examples of changed rows")
    diff.add_argument("--json", action="store_true", help="machine-readable output")
    command("docs", help="build the dbt docs site (models, columns, tests, lineage) into "
            "$KK_DATA_DIR/dbt/docs/static_index.html",
            description="Runs `dbt docs generate --static` in the warehouse pool, with the "
            "catalog of the current warehouse (or none before the first build).")
    _report_parser(command)
    return parser


def _report_parser(command: Any) -> None:
    report = command(
        "report", help="render the analyst report (static HTML site) from published/current",
        description="Renders the report from published/current (never the warehouse) into "
        "--out; the publication's own copy in published/<version>/report/ is left as it was "
        "published.",
    )
    report.add_argument("--municipality", action="append", metavar="CODE",
                        help="only this kommun's page (repeatable; default: all 290)")
    report.add_argument("--network", action="append", metavar="ID",
                        help="only this network's page (repeatable; default: all)")
    report.add_argument("--out", metavar="DIR",
                        help="where to write it (default: $KK_DATA_DIR/reports/<version>)")
    report.add_argument("--pdf", action="store_true",
                        help="also print each kommun page to A4 PDF (needs Chromium)")


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.report import ReportDataError, ReportError, render
    from pipelines.report.pdf import PdfError, print_pdfs

    current = settings.layout.published_dir / "current"
    if not current.exists():
        print(f"kommunkvalitet: no publication at {current}: run `kommunkvalitet refresh` "
              "first", file=sys.stderr)
        return EXIT_FAILED
    folder = current.resolve()
    codes = [c.strip() for c in args.municipality or []]
    bad = [c for c in codes if not (len(c) == 4 and c.isdigit())]
    if bad:
        raise SettingsError(f"--municipality needs 4-digit kommun codes, got {', '.join(bad)}")
    out = Path(args.out).expanduser().resolve() if args.out else (
        settings.data_dir / "reports" / folder.name)
    try:
        result = render(folder, out, municipalities=codes or None, networks=args.network)
        if args.pdf:
            pages = sorted((out / "kommun").glob("*.html"))
            pdfs = print_pdfs(pages, out / "pdf")
            print(f"  {len(pdfs)} PDF(s) in {out / 'pdf'}")
    except ReportError as exc:
        raise SettingsError(str(exc)) from exc
    except (ReportDataError, PdfError) as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"report of {folder.name}: {result.municipality_pages} kommun pages, "
          f"{result.network_pages} network pages, {result.files} files, "
          f"{result.bytes / 1e6:.1f} MB in {result.seconds:.1f} s")
    print(result.index)
    return EXIT_OK


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.operations.status import collect_status, render

    status = collect_status(settings, max_age_hours=args.max_age_hours)
    print(json.dumps(status.as_dict(), ensure_ascii=False, indent=2, default=str) if args.json
          else render(status))
    return 0 if status.healthy else 1


def _verify(args: argparse.Namespace, settings: Settings) -> int:
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


def _history(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.eventlog.store import EventLog
    from pipelines.operations.history import assessment_history, render, value_history

    log, published = EventLog(settings.layout.events_dir), settings.layout.published_dir
    if args.assessment:
        municipality, year = args.assessment
        if not year.isdigit():
            raise SettingsError(f"--assessment YEAR must be a year, got {year!r}")
        found = assessment_history(log, published, municipality, int(year))
        field_name = "score"
    else:
        if not args.kpi or not args.municipality:
            raise SettingsError("history needs KPI and MUNICIPALITY (or --assessment "
                                "MUNICIPALITY YEAR)")
        found = value_history(log, published, args.kpi.upper(), args.municipality,
                              year=args.year, gender=args.gender)
        field_name = "value"
    print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2, default=str) if args.json
          else render(found, value_field=field_name))
    return 0 if found.events else 1


def _diff(args: argparse.Namespace, settings: Settings) -> int:
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
    # per-event DEBUG chatter (all of it is in logs/<run id>.log and the instance); --quiet
    # keeps warnings and errors, --verbose shows everything.
    level = ("WARNING" if getattr(args, "quiet", False)
             else "DEBUG" if getattr(args, "verbose", False) else "INFO")
    config["loggers"] = {"console": {"config": {
        "log_level": level, "log_dir": str(settings.data_dir / "logs")}}}
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


# Exit codes: 0 ok, 1 failed, 2 usage or settings error, 3 blocked by a check (a failing
# blocking check in a build, or the publishing gate refusing).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BLOCKED = 0, 1, 2, 3


def exit_code(result: Any) -> int:
    """The CLI's exit code of a finished run (see EXIT_*)."""
    from dagster import DagsterEventType

    from pipelines.operations.alerts import root_cause

    if result.success:
        return EXIT_OK
    blocked = any(
        e.event_specific_data.severity.value == "ERROR" and not e.event_specific_data.passed
        for e in result.all_events if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ) or any(
        root_cause(e.step_failure_data.error).startswith("PublishBlocked")
        for e in result.all_events if e.is_step_failure
    )
    return EXIT_BLOCKED if blocked else EXIT_FAILED


@contextlib.contextmanager
def _live_display(enabled: bool) -> Iterator[Any]:
    """A live display of the run's steps on a terminal (pipelines.terminal), or None."""
    if not enabled:
        yield None
        return
    from pipelines import progress
    from pipelines.terminal import LiveDisplay

    with LiveDisplay() as display, progress.listening(display):
        yield display


def run_job(job_name: str, config: dict[str, Any], settings: Settings, *,
            quiet: bool = False, verbose: bool = False) -> int:
    from pipelines.console import run_log_path
    from pipelines.instance import shared_instance
    from pipelines.terminal import wants_live_display

    instance = shared_instance(settings)
    defs = _definitions(job_name)
    from pipelines.operations.orphans import fail_orphaned_runs, process_tags

    for run_id in fail_orphaned_runs(instance):
        print(f"kommunkvalitet: run {run_id} was left STARTED by a process that is gone; "
              "marked failed and its warehouse slot released", file=sys.stderr)
    job = defs.resolve_job_def(job_name)
    # A job with a warehouse step waits for the warehouse reservation when its resources are
    # set up, and says what it waits for (pipelines.resources.warehouse_reservation); an
    # ingest has no warehouse step: it runs beside a build and never waits.
    started = time.monotonic()
    with _live_display(wants_live_display(quiet=quiet, verbose=verbose)) as display:
        result = job.execute_in_process(
            run_config=config, instance=instance, raise_on_error=False,
            # the CLI alerts for its own runs (also under cron, with no daemon); the daemon's
            # failure sensor skips runs with this tag so nothing is alerted twice. The pid and
            # host let a later command fail this run if its process is killed.
            tags={ORIGIN_TAG: "cli", **process_tags()},
        )
    if display is not None:
        _print_step_table(result, display)
    _print_summary(result, time.monotonic() - started, quiet=quiet,
                   figures=display is None and not quiet)
    log_path = run_log_path(settings.data_dir / "logs", result.run_id)
    print(f"  full log: {log_path}", file=sys.stderr if not result.success else sys.stdout)
    _print_publication(result, settings, quiet=quiet)  # last: where to look, and how
    if job_name in _PUBLISHING_JOBS:
        _print_report_path(settings)  # the very last line: open this in a browser
    if not result.success:
        _alert(result, settings)
    return exit_code(result)


def _definitions(job_name: str) -> Any:
    """The ingest-only composition for an ingest job (no dbt, no GX imported), else all."""
    from pipelines.jobs import INGEST_JOBS

    if job_name in {job.name for job in INGEST_JOBS}:
        from pipelines.ingest_definitions import ingest_defs

        return ingest_defs
    from pipelines.definitions import defs

    return defs


def _step_figures(result: Any) -> dict[str, dict[str, Any]]:
    """Per step, the headline figures of what it materialized (pages, events, version, ...)."""
    figures: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in materialization.metadata.items() if k in _TABLE_KEYS}
        figures.setdefault(event.step_key, {}).update(meta)
    return figures


def _print_step_table(result: Any, display: Any) -> None:
    from rich.console import Console

    from pipelines.terminal import summary_table

    Console().print(summary_table(display, _step_figures(result)))


def _print_publication(result: Any, settings: Settings, *, quiet: bool = False) -> None:
    """Where the new publication is and one query that works from any directory."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in materialization.metadata.items()}
        if materialization.asset_key.to_user_string() != "publication" or not meta.get(
                "published"):
            continue
        folder = (settings.layout.published_dir / str(meta["version"])).resolve()
        board = folder / "mart_kkik_board.parquet"
        print(f"  published to {folder} (also {settings.layout.published_dir / 'current'})")
        if quiet:
            continue
        print(f"  look: {sys.executable} -c \"import duckdb; print(duckdb.sql(\\\"select "
              f"municipality_name, kpi_title, value, colour from '{board}' limit 10\\\"))\"")


_PUBLISHING_JOBS = ("publish", "nightly_publish", "assessment_refresh")


def _print_report_path(settings: Settings) -> None:
    """Last line of a run's summary: the current report, to open in a browser."""
    index = settings.layout.published_dir / "current" / "report" / "index.html"
    if index.is_file():
        print(f"  report: {index.absolute()}")


def _alert(result: Any, settings: Settings) -> None:
    from pipelines.operations.alerts import alert_for_run, record_alert

    failure = result.get_run_failure_event() if hasattr(result, "get_run_failure_event") else None
    alert = alert_for_run(
        job=result.dagster_run.job_name, run_id=result.run_id,
        step_failures=[e for e in result.all_events if e.is_step_failure],
        run_failure_message=failure.message if failure is not None else None,
        ui_url=settings.ui_url, origin="cli",
    )
    recorded = record_alert(settings.data_dir, alert, webhook_url=settings.alert_webhook_url)
    print(f"  alert recorded in {settings.data_dir / 'alerts.jsonl'} ({recorded.delivered})",
          file=sys.stderr)


def _print_summary(result: Any, seconds: float, *, quiet: bool = False,
                   figures: bool = True) -> None:
    """The plain summary: the result, each asset's figures (unless a table showed them), the
    dbt build, the checks; failed steps with their root cause. --quiet: the result, warnings
    and failures only."""
    from dagster import DagsterEventType

    from pipelines.operations.alerts import root_cause

    if not quiet:
        print()
    print(f"run {result.run_id} ({result.dagster_run.job_name}): "
          f"{'SUCCESS' if result.success else 'FAILED'} in {seconds:.1f} s")
    built_as_of: dict[str, int] = {}
    for event in result.get_asset_materialization_events() if not quiet else ():
        materialization = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in materialization.metadata.items()}
        if "as_of" in meta:  # a dbt model: one summary line for all of them
            built_as_of[str(meta["as_of"])] = built_as_of.get(str(meta["as_of"]), 0) + 1
            continue
        shown = {k: v for k, v in meta.items() if k in _SUMMARY_KEYS}
        if shown and figures:
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
        failed = [c for c in checks if not c.passed and c.severity.value == "ERROR"]
        warned = [c for c in checks if not c.passed and c.severity.value != "ERROR"]
        if not quiet:
            print(f"  checks: {len(checks) - len(failed) - len(warned)} passed, {len(failed)} "
                  f"failed, {len(warned)} warned")
        for check in warned:  # a warning never blocks: one line, with what it found
            print(f"  warning {check.asset_key.to_user_string()}:{check.check_name}: "
                  f"{check.description or 'see the check in the UI'}")
        for check in failed:
            print(f"  FAILED check {check.asset_key.to_user_string()}:{check.check_name} "
                  f"({check.severity.value})", file=sys.stderr)
            summary = check.metadata.get("summary")
            if summary is not None:
                text = str(summary.value).strip("`\n")
                print("    " + text.replace("\n", "\n    "), file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            print(f"  FAILED step {event.step_key}: {root_cause(event.step_failure_data.error)}",
                  file=sys.stderr)
    not_run = _steps_not_run(result)
    if not_run and not quiet:
        print(f"  not run (an upstream step or blocking check failed): {', '.join(not_run)}",
              file=sys.stderr)


def _steps_not_run(result: Any) -> list[str]:
    """Steps of the plan that never started (this Dagster records no STEP_SKIPPED)."""
    from pipelines.console import planned_steps

    planned: list[str] = []
    started = set()
    for event in result.all_events:
        if event.event_type_value == "ENGINE_EVENT" and not planned:
            planned = planned_steps(event)
        elif event.event_type_value == "STEP_START":
            started.add(event.step_key)
    return [step for step in planned if step not in started]


_SUMMARY_KEYS = (
    "mode", "events_appended", "upserted", "deleted", "unchanged", "pages", "seconds",
    "files", "rejected_rows", "rejected_files", "warnings", "version", "message",
)
# the live display's table is narrower: a few figures per step
_TABLE_KEYS = ("mode", "events_appended", "pages", "files", "rejected_rows", "version",
               "dagster/row_count")


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


def _check_config(settings: Settings) -> None:
    from pipelines.scope import ScopeError, load_scope

    try:
        load_scope(settings.config_path)
    except ScopeError as exc:
        raise SettingsError(f"KK_CONFIG: {exc}") from exc


# Commands that only read (event log, ledger, instance, published/): no Dagster run.
_READERS = {"status": _status, "history": _history, "diff": _diff, "report": _report,
            "verify": _verify}


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(source=getattr(args, "source", None))
        if args.command != "assessment-template":  # the only command that needs no data dir
            check_data_dir(settings.data_dir)
        if getattr(args, "sample_day", None) is not None and settings.source != "sample":
            # a contradiction, refused before anything runs (it used to go live silently)
            raise SettingsError(f"--sample-day needs --source sample (the source is "
                                f"{settings.source!r})")
        if args.command == "rollback":
            return 0 if _rollback(settings, args.version) else 1
        if args.command == "assessment-template":
            return _template(args)
        if args.command in _READERS:
            return _READERS[args.command](args, settings)
        if args.command == "import":
            args.paths = _import_paths(args.paths)
        _check_config(settings)  # a misspelt key is refused before anything is fetched
        job = {"refresh": "nightly_refresh", "import": "assessment_refresh",
               "docs": "dbt_docs"}.get(args.command, args.command)
        code = run_job(job, run_config(job, args, settings), settings,
                       quiet=args.quiet, verbose=args.verbose)
        if job in NEXT_STAGE and code == EXIT_OK:  # a night is two runs (pipelines.jobs)
            stage1, job = job, NEXT_STAGE[job]
            if _stage2_needed(stage1, args, settings):
                code = run_job(job, run_config(job, args, settings), settings,
                               quiet=args.quiet, verbose=args.verbose)
        elif job in NEXT_STAGE:
            print("  the build, checks and publish were not run: the marts and the current "
                  "publication are unchanged", file=sys.stderr)
        if job == "dbt_docs" and code == EXIT_OK:
            site = (settings.data_dir / "dbt" / "docs" / "static_index.html").resolve()
            print(f"  dbt docs: open file://{site} in a browser (one self-contained file)")
    except SettingsError as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _DATA_ERRORS as exc:
        # damaged data on disk or a failing disk: one line naming the file, not a traceback
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return code


def _stage2_needed(stage1: str, args: argparse.Namespace, settings: Settings) -> bool:
    """Whether the night's stage 2 has anything to do (pipelines.operations.nights); the
    decision goes to nights.jsonl and onto the stage-1 run as a tag, for `status` and the UI."""
    from pipelines.operations.nights import Decision, decide, record_night

    if getattr(args, "force", False):
        decision = Decision(False, "forced (--force)")
    else:
        decision = decide(settings.layout, settings.config_path)
    after = _tag_last_run(settings, stage1, decision)
    record_night(settings.data_dir, decision, trigger="cli", after_run_id=after)
    if decision.skip:
        print(f"  {decision.message}")
        _print_report_path(settings)
    return not decision.skip


def _tag_last_run(settings: Settings, job: str, decision: Any) -> str | None:
    """Tag the last run of `job` (the stage 1 that just ended) with the stage-2 decision."""
    from dagster import RunsFilter

    from pipelines.instance import shared_instance
    from pipelines.operations.nights import STAGE2_TAG

    instance = shared_instance(settings)
    records = instance.get_run_records(filters=RunsFilter(job_name=job), limit=1)
    if not records:
        return None
    run_id = records[0].dagster_run.run_id
    instance.add_run_tags(run_id, {STAGE2_TAG: "skipped" if decision.skip else "run"})
    return run_id


# damaged data on disk (named by the exception) or an OS error such as a full disk
_DATA_ERRORS = (InvalidManifest, CorruptEventLog, OSError)


if __name__ == "__main__":
    sys.exit(main())
