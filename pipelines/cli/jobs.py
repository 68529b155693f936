"""Running a Dagster job for a command: in-process, on the shared instance, with the live
display on a terminal, the summary after it, and an alert when it failed."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

from pipelines.cli.exit_codes import exit_code
from pipelines.cli.run_config import run_config
from pipelines.cli.summary import (
    print_publication,
    print_report_path,
    print_step_table,
    print_summary,
)
from pipelines.settings import Settings, SettingsError

# The jobs whose last line is the current report's path.
_PUBLISHING_JOBS = ("publish", "nightly_publish", "assessment_refresh")


def check_config(settings: Settings) -> None:
    """A misspelt key in KK_CONFIG is refused before anything is fetched."""
    from pipelines.scope import ScopeError, load_scope

    try:
        load_scope(settings.config_path)
    except ScopeError as exc:
        raise SettingsError(f"KK_CONFIG: {exc}") from exc


def require_kolada_data(settings: Settings) -> str | None:
    """Why a build cannot make marts yet (no Kolada municipalities or values in the event
    log: every mart joins them), or None. Said in one line instead of a dbt build that fails
    its relationship tests minutes later."""
    from pipelines.eventlog.store import EventLog
    from pipelines.sources.kolada.streams import KPI_VALUE, MUNICIPALITY

    log = EventLog(settings.layout.events_dir)
    missing = [s.name for s in (MUNICIPALITY, KPI_VALUE) if not log.holds_batches(s.name)]
    if not missing:
        return None
    return (f"the event log holds no Kolada data yet ({', '.join(missing)} empty), so there "
            "is nothing to build: run `kommunkvalitet refresh` (or `ingest`) first")


def run_command_job(job: str, args: argparse.Namespace, settings: Settings) -> int:
    """Run `job` with the command's flags as run config; its exit code."""
    return execute_command_job(job, args, settings)[0]


def execute_command_job(job: str, args: argparse.Namespace,
                        settings: Settings) -> tuple[int, Any]:
    """The same, with the run's result (for a command that reads what a step did)."""
    return execute_job(job, run_config(job, args, settings), settings,
                       quiet=args.quiet, verbose=args.verbose)


@contextlib.contextmanager
def _live_display(enabled: bool) -> Iterator[Any]:
    """A live display of the run's steps on a terminal (pipelines.console.terminal), or None."""
    if not enabled:
        yield None
        return
    from pipelines import progress
    from pipelines.console.terminal import LiveDisplay

    with LiveDisplay() as display, progress.listening(display):
        yield display


def run_job(job_name: str, config: dict[str, Any], settings: Settings, *,
            quiet: bool = False, verbose: bool = False) -> int:
    return execute_job(job_name, config, settings, quiet=quiet, verbose=verbose)[0]


def execute_job(job_name: str, config: dict[str, Any], settings: Settings, *,
                quiet: bool = False, verbose: bool = False) -> tuple[int, Any]:
    # Dagster and the definitions load when a run starts, not when the CLI does: a reader
    # (`status`, `history`, `--help`) never needs them.
    from pipelines.console.logger import run_log_path
    from pipelines.console.terminal import wants_live_display
    from pipelines.orchestration.instance import shared_instance
    from pipelines.orchestration.jobs import ORIGIN_TAG

    if not quiet:  # the silent seconds before a run's first step, said
        print(f"{time.strftime('%H:%M:%S')} {job_name:28s} loading the definitions and "
              "starting the run", file=sys.stderr, flush=True)
    instance = shared_instance(settings)
    defs = definitions_for(job_name)
    from pipelines.operations.orphans import fail_orphaned_runs, process_tags

    for run_id in fail_orphaned_runs(instance):
        print(f"kommunkvalitet: run {run_id} was left STARTED by a process that is gone; "
              "marked failed and its warehouse slot released", file=sys.stderr)
    job = defs.resolve_job_def(job_name)
    selection = _launch_selection(job_name, config, settings)
    if selection is not None:
        from pipelines.orchestration.stage2 import SELECTIVE_JOBS, subset_config

        config = subset_config(job, selection, config)
        if not quiet:
            models = sum(1 for key in selection if key not in SELECTIVE_JOBS[job_name])
            print(f"{time.strftime('%H:%M:%S')} {job_name:28s} building the {models} models "
                  "the new events reach (the others are unchanged)", file=sys.stderr, flush=True)
    # A job with a warehouse step waits for the warehouse reservation when its resources are
    # set up, and says what it waits for (pipelines.orchestration.resources.warehouse_reservation);
    # an ingest has no warehouse step: it runs beside a build and never waits.
    started = time.monotonic()
    with _live_display(wants_live_display(quiet=quiet, verbose=verbose)) as display:
        result = job.execute_in_process(
            run_config=config, instance=instance, raise_on_error=False,
            asset_selection=selection,
            # the CLI alerts for its own runs (also under cron, with no daemon); the daemon's
            # failure sensor skips runs with this tag so nothing is alerted twice. The pid and
            # host let a later command fail this run if its process is killed.
            tags={ORIGIN_TAG: "cli", **process_tags()},
        )
    if display is not None:
        print_step_table(result, display)
    print_summary(result, time.monotonic() - started, quiet=quiet,
                  figures=display is None and not quiet)
    log_path = run_log_path(settings.data_dir / "logs", result.run_id)
    print(f"  full log: {log_path}", file=sys.stderr if not result.success else sys.stdout)
    print_publication(result, settings, quiet=quiet)  # last: where to look, and how
    if job_name in _PUBLISHING_JOBS:
        print_report_path(settings)  # the very last line: open this in a browser
    if not result.success:
        _alert(result, settings)
    return exit_code(result), result


def _launch_selection(job_name: str, config: dict[str, Any], settings: Settings) -> Any:
    """A build runs the models its changes reach, not all of them
    (pipelines.orchestration.stage2); an ingest job builds nothing (and loads no dbt)."""
    from pipelines.orchestration.jobs import INGEST_JOBS

    if job_name in {job.name for job in INGEST_JOBS}:
        return None
    from pipelines.orchestration.stage2 import launch_selection

    return launch_selection(job_name, settings.layout, settings.config_path, config)


def materialized(result: Any, asset: str) -> dict[str, Any]:
    """The metadata of `asset`'s materialization in a finished run ({} when none)."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in materialization.metadata.items()}
    return {}


def definitions_for(job_name: str) -> Any:
    """The ingest-only composition for an ingest job (no dbt, no GX imported), else all."""
    from pipelines.orchestration.jobs import INGEST_JOBS

    if job_name in {job.name for job in INGEST_JOBS}:
        from pipelines.orchestration.ingest_definitions import ingest_defs

        return ingest_defs
    from pipelines.orchestration.definitions import defs

    return defs


def _alert(result: Any, settings: Settings) -> None:
    from pipelines.operations.alerts import alert_for_run, record_alert

    failure = result.get_run_failure_event() if hasattr(result, "get_run_failure_event") else None
    alert = alert_for_run(
        job=result.dagster_run.job_name, run_id=result.run_id,
        step_failures=[e for e in result.all_events if e.is_step_failure],
        run_failure_message=failure.message if failure is not None else None,
        ui_url=settings.ui_url, origin="cli",
    )
    recorded = record_alert(settings.data_dir, alert, webhook_url=settings.alert_webhook_url,
                            log=False)
    print(f"  alert recorded in {settings.data_dir / 'alerts.jsonl'} ({recorded.delivered})",
          file=sys.stderr)
