"""What the operator reads after a run: the step table, the summary, where the publication
and the report are."""

from __future__ import annotations

import sys
from typing import Any

from pipelines.base_url import elide_urls
from pipelines.settings import Settings

# the live display's table is narrower: a few figures per step
_TABLE_KEYS = ("mode", "events_appended", "pages", "files", "rejected_rows", "version",
               "dagster/row_count")


def _step_figures(result: Any) -> dict[str, dict[str, Any]]:
    """Per step, the headline figures of what it materialized (pages, events, version, ...)."""
    figures: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in materialization.metadata.items() if k in _TABLE_KEYS}
        figures.setdefault(event.step_key, {}).update(meta)
    return figures


def print_step_table(result: Any, display: Any) -> None:
    from rich.console import Console

    from pipelines.console.terminal import summary_table

    Console().print(summary_table(display, _step_figures(result)))


def print_publication(result: Any, settings: Settings, *, quiet: bool = False) -> None:
    """Where the new publication is and one query that works from any directory."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        meta = {k: v.value for k, v in materialization.metadata.items()}
        if materialization.asset_key.to_user_string() != "publication":
            continue
        if not meta.get("published"):  # e.g. "nothing new to publish": current stays
            print(f"  publication: {meta.get('message', 'nothing published')}")
            continue
        folder = (settings.layout.published_dir / str(meta["version"])).resolve()
        board = folder / "mart_kkik_board.parquet"
        print(f"  published to {folder} (also {settings.layout.published_dir / 'current'})")
        if quiet:
            continue
        print(f"  look: {sys.executable} -c \"import duckdb; print(duckdb.sql(\\\"select "
              f"municipality_name, kpi_title, value, colour from '{board}' limit 10\\\"))\"")


def print_report_path(settings: Settings) -> None:
    """Last line of a run's summary: the current report, to open in a browser."""
    index = settings.layout.published_dir / "current" / "report" / "index.html"
    if index.is_file():
        print(f"  report: {index.absolute()}")


def print_summary(result: Any, seconds: float, *, quiet: bool = False,
                  figures: bool = True) -> None:
    """The plain summary: the result, each asset's figures (unless a table showed them), the
    dbt build, the checks; failed steps with their root cause. --quiet: the result, warnings
    and failures only."""
    # imported when a run has ended, not when the CLI starts (pipelines.checks loads GX)
    from dagster import DagsterEventType

    from pipelines.checks.results import count_outcomes
    from pipelines.operations.alerts import root_cause
    from pipelines.warehouse.marts import PUBLISHED_MARTS

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
        # Each step's own last line said what it did (piped), or the table shows it (a
        # terminal). Piped, an import's quarantine report was printed as it ran; a live display
        # shows only a step's latest line, so there the reports follow the table.
        rejected = {k: meta[k] for k in ("rejected_rows", "rejected_files") if meta.get(k)}
        if rejected and figures:
            details = ", ".join(f"{k}={v}" for k, v in rejected.items())
            print(f"  {materialization.asset_key.to_user_string():28s} {details} (see its "
                  "report above)")
        if meta.get("files") and not figures:
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
        outcomes = [_outcome(c) for c in checks]
        failed = [c for c, o in zip(checks, outcomes, strict=True) if o == "failed"]
        warned = [c for c, o in zip(checks, outcomes, strict=True) if o == "warned"]
        if not quiet:
            gating = [o for c, o in zip(checks, outcomes, strict=True)
                      if c.asset_key.path[-1] in PUBLISHED_MARTS]
            gate = (f"; on the published marts (the publication's gate): "
                    f"{count_outcomes(gating)}" if gating else "")
            print(f"  checks: {count_outcomes(outcomes)}{gate}")
        for check in warned:  # a warning never blocks: one line, with what it found
            print(f"  warning {check.asset_key.to_user_string()}:{check.check_name}: "
                  f"{check.description or _first_line(check) or 'see the check in the UI'}")
        for check in failed:
            print(f"  FAILED check {check.asset_key.to_user_string()}:{check.check_name} "
                  f"({check.severity.value})", file=sys.stderr)
            summary = check.metadata.get("summary")
            if summary is not None:
                text = str(summary.value).strip("`\n")
                print("    " + text.replace("\n", "\n    "), file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            cause = elide_urls(root_cause(event.step_failure_data.error))
            print(f"  FAILED step {event.step_key}: {cause}", file=sys.stderr)
    not_run = steps_not_run(result)
    if not_run and not quiet:
        print(f"  not run (an upstream step or blocking check failed): {', '.join(not_run)}",
              file=sys.stderr)


def _outcome(check: Any) -> str:
    from pipelines.checks.results import check_outcome

    warnings = check.metadata.get("warnings")
    return check_outcome(check.passed, check.severity.value,
                         int(warnings.value) if warnings is not None else 0)


def _first_line(check: Any) -> str:
    summary = check.metadata.get("summary")
    return str(summary.value).strip("`\n").splitlines()[0] if summary is not None else ""


def steps_not_run(result: Any) -> list[str]:
    """Steps of the plan that never started (this Dagster records no STEP_SKIPPED)."""
    from pipelines.console.logger import planned_steps

    planned: list[str] = []
    started = set()
    for event in result.all_events:
        if event.event_type_value == "ENGINE_EVENT" and not planned:
            planned = planned_steps(event)
        elif event.event_type_value == "STEP_START":
            started.add(event.step_key)
    return [step for step in planned if step not in started]
