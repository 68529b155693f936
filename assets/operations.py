"""Operating the platform from Dagster: per-KPI freshness as an asset check on the value
stream, and the run-failure sensor. The sensor: every failed run of any job records an alert
(pipelines.operations.alerts). Runs the CLI started carry the tag `kommunkvalitet/origin=cli`
and are alerted by the CLI itself (also when no daemon runs, as under cron), so a daemon that
sees them too does not alert twice.

No `from __future__ import annotations` in assets/: Dagster inspects the annotations of
`context` parameters at definition time and cannot resolve strings.
"""

from datetime import date

import dagster as dg

from pipelines.operations.alerts import alert_for_run, record_alert
from pipelines.operations.freshness import calendar_today, kpi_freshness
from pipelines.operations.nights import STAGE2_TAG, decide, record_night
from pipelines.orchestration.jobs import ORIGIN_TAG, full_refresh, nightly_publish, nightly_refresh
from pipelines.orchestration.resources import PlatformResource
from pipelines.settings import load_settings
from pipelines.sources.kolada.streams import KPI_VALUE


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    # Alerts only write a local file and, when configured, POST to the operator's own webhook.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records an alert (log line, alerts.jsonl, optional KK_ALERT_WEBHOOK_URL POST) "
    "for every failed run of any job.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    if run.tags.get(ORIGIN_TAG) == "cli":
        return
    settings = load_settings()
    alert = alert_for_run(
        job=run.job_name, run_id=run.run_id, step_failures=context.get_step_failure_events(),
        run_failure_message=context.failure_event.message, ui_url=settings.ui_url,
        origin="sensor",
    )
    recorded = record_alert(settings.data_dir, alert, webhook_url=settings.alert_webhook_url)
    context.log.info(f"alert recorded for run {run.run_id} ({recorded.delivered})")


@dg.asset_check(
    asset=dg.AssetKey(list(KPI_VALUE.asset_key_path)),
    name="kpi_freshness",
    blocking=False,
    description="Per KPI: stale when Kolada's announced release (publication_date, for "
    "publ_period) is more than KK_FRESHNESS_GRACE_DAYS overdue and no value of that period "
    "has arrived. Warns, never blocks: a late release is Kolada's, not ours.",
)
def kpi_freshness_check(
    context: dg.AssetCheckExecutionContext, platform: PlatformResource
) -> dg.AssetCheckResult:
    grace = load_settings().freshness_grace_days
    log = platform.event_log()
    rows = kpi_freshness(log, today=calendar_today(log, date.today()), grace_days=grace)
    stale = [r for r in rows if r.state == "stale"]
    counts = {state: sum(r.state == state for r in rows)
              for state in ("fresh", "waiting", "stale", "no_schedule")}
    table = "\n".join(
        ["| KPI | due | for | latest | overdue (days) |", "|---|---|---|---|---|"]
        + [f"| {r.kpi_id} | {r.publication_date} | {r.publ_period} | {r.latest_period} | "
           f"{r.overdue_days} |" for r in stale[:50]]
    )
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**counts, "grace_days": grace, "stale_kpis": dg.MetadataValue.md(table)},
        description=f"{len(stale)} of {len(rows)} KPIs overdue by more than {grace} days",
    )


# The stage-1 run a stage-2 run follows (pipelines.orchestration.jobs: a night is two runs).
AFTER_TAG = "kommunkvalitet/after"


@dg.run_status_sensor(
    name="nightly_publish_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_refresh, full_refresh],
    request_job=nightly_publish,
    # Stage 2 of the night: without it the schedule would only ingest.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful nightly_refresh or full_refresh (the ingest), starts "
    "nightly_publish: build, blocking checks, publish. Runs the CLI started are chained by "
    "the CLI itself.",
)
def nightly_publish_sensor(
    context: dg.RunStatusSensorContext,
) -> dg.RunRequest | dg.SkipReason | None:
    run = context.dagster_run
    if run.tags.get(ORIGIN_TAG) == "cli":
        return None
    # Nothing the build depends on changed since the current publication's build: no dbt, no
    # checks, no publish; recorded for `status` and tagged on the ingest run for the UI.
    settings = load_settings()
    decision = decide(settings.layout, settings.config_path)
    record_night(settings.data_dir, decision, trigger="sensor", after_run_id=run.run_id)
    context.instance.add_run_tags(run.run_id, {STAGE2_TAG: "skipped" if decision.skip else "run"})
    if decision.skip:
        context.log.info(decision.message)
        return dg.SkipReason(decision.message)
    # the models the night's events reach, not all of them; dbt's manifest is read here, not
    # when the ingest-only definitions import this module
    from pipelines.orchestration.stage2 import launch_selection

    selection = launch_selection(nightly_publish.name, settings.layout, settings.config_path, {})
    return dg.RunRequest(run_key=f"after-{run.run_id}", tags={AFTER_TAG: run.run_id},
                         asset_selection=selection)


operations_checks = [kpi_freshness_check]
operations_sensors = [run_failure_alert_sensor, nightly_publish_sensor]
