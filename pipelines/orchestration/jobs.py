"""The jobs and the schedule every entry point runs: the CLI, the daemon, the UI and the tests."""

from __future__ import annotations

import dagster as dg

from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.warehouse.reservation import RESERVE_AFTER_TAG

FULL_TAG = "kommunkvalitet/full"
# Runs the CLI starts carry ORIGIN_TAG=cli: the CLI alerts for them itself.
ORIGIN_TAG = "kommunkvalitet/origin"
INGEST_SELECTION = dg.AssetSelection.groups("ingestion")
ASSESSMENT_SELECTION = dg.AssetSelection.assets(dg.AssetKey(list(KOMMUNKOMPASSEN.asset_key_path)))
# Every dbt layer plus the seeds; asset selections include the checks on the selected assets,
# so `build` runs the dbt tests and the GX suites too.
BUILD_SELECTION = dg.AssetSelection.groups("reference", "staging", "intermediate", "marts")
PUBLISH_SELECTION = dg.AssetSelection.groups("publishing")
# A job with a warehouse step runs all its steps in one process (the CLI's execute_in_process
# does anyway; this makes the daemon's and the UI's runs do the same): that process takes the
# run-level warehouse reservation (pipelines.warehouse.reservation) when it sets up the run's resources,
# before any step, and holds it until the run ends. Under the multiprocess executor each step
# process would take it separately, after its pool slot: no run-level hold, and a deadlock
# when a step waits for the reservation while holding the slot the holder's next step needs.
WAREHOUSE_EXECUTOR = dg.in_process_executor
# The ingest jobs open no warehouse: their sources still fetch side by side.
INGEST_EXECUTOR = dg.multiprocess_executor

ingest_job = dg.define_asset_job(
    "ingest",
    selection=INGEST_SELECTION,
    description="Fetch every source (Kolada, SCB; Kommunkompassen and initiative files "
    "waiting in the landing folder) into the append-only event log.",
    executor_def=INGEST_EXECUTOR,
)

build_job = dg.define_asset_job(
    "build",
    selection=BUILD_SELECTION,
    description="Rebuild the warehouse from the event log (optionally as of a past moment) and "
    "run every blocking check; publishes nothing.",
    executor_def=WAREHOUSE_EXECUTOR,
)

publish_job = dg.define_asset_job(
    "publish",
    selection=PUBLISH_SELECTION,
    description="Publish the current build, after verifying that every blocking check passed.",
    executor_def=WAREHOUSE_EXECUTOR,
)

# The step of the assessment import (its asset key joined by "__", as Dagster names it).
ASSESSMENT_STEP = "__".join(KOMMUNKOMPASSEN.asset_key_path)


@dg.success_hook(required_resource_keys={"warehouse_reservation"})
def reserve_warehouse_after_import(context: dg.HookContext) -> None:
    """The import writes only the event log: it runs even while another run holds the
    warehouse, and its run waits for the warehouse once it has succeeded (it holds no pool
    slot then, so the holder's warehouse steps cannot deadlock on it)."""
    context.resources.warehouse_reservation.after_step(context.step_key, context.log)


assessment_refresh = dg.define_asset_job(
    "assessment_refresh",
    selection=ASSESSMENT_SELECTION | BUILD_SELECTION | PUBLISH_SELECTION,
    description="Import Kommunkompassen files (the landing folder, or the files named in its "
    "config), rebuild, check and publish; no Kolada fetch. Launched by the landing sensor and "
    "by `kommunkvalitet import`.",
    executor_def=WAREHOUSE_EXECUTOR,
    tags={RESERVE_AFTER_TAG: ASSESSMENT_STEP},
    hooks={reserve_warehouse_after_import},
)

# `kommunkvalitet import` runs the import alone first (it writes only the event log, and its
# definitions load without dbt and GX), then nightly_publish when something landed: an import
# that lands nothing builds nothing. The landing sensor's one-run assessment_refresh above is
# what the daemon runs.
assessment_import = dg.define_asset_job(
    "assessment_import",
    selection=ASSESSMENT_SELECTION,
    description="Import Kommunkompassen files (the files named in its config, or the landing "
    "folder) into the event log; no build. `kommunkvalitet import` runs nightly_publish after "
    "it when events were appended.",
    executor_def=dg.in_process_executor,
)

# The night runs in two stages, two runs: the ingest first, then, only when it succeeded, the
# build, checks and publication (the sensor in assets/operations.py, or the CLI's `refresh`).
# A run marks every asset it planned and did not materialize as failed in the UI: in one run
# for everything, a Kolada outage would paint every mart and the publication red while the
# marts and `published/current` are as good as they were. Split, a failed ingest touches only
# the ingestion assets; a blocked publish only the publication.
nightly_refresh = dg.define_asset_job(
    "nightly_refresh",
    selection=INGEST_SELECTION,
    description="The nightly refresh, stage 1: incremental ingest of every source into the "
    "event log. When it succeeds, stage 2 (nightly_publish) follows: build, blocking checks, "
    "publish.",
    executor_def=INGEST_EXECUTOR,
)

nightly_publish = dg.define_asset_job(
    "nightly_publish",
    selection=BUILD_SELECTION | PUBLISH_SELECTION,
    description="The nightly refresh, stage 2, started after a successful nightly_refresh or "
    "full_refresh: dbt build -> blocking checks -> publish.",
    executor_def=WAREHOUSE_EXECUTOR,
)

# The same ingest with full snapshots instead of `from_date` (the way to catch deletions an
# incremental fetch cannot see); stage 2 follows it as it follows the nightly ingest. Asked for
# by a run tag rather than by resource config: run config would replace the resource's whole
# config, URL included.
full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=INGEST_SELECTION,
    description="The refresh with full snapshots of every stream instead of from_date (stage "
    "1); nightly_publish follows when it succeeds.",
    tags={FULL_TAG: "true"},
    executor_def=INGEST_EXECUTOR,
)

# The first stage of a night, and the stage that follows each when it succeeds.
NEXT_STAGE = {"nightly_refresh": "nightly_publish", "full_refresh": "nightly_publish"}

JOBS = [ingest_job, build_job, publish_job, assessment_refresh, assessment_import,
        nightly_refresh, nightly_publish, full_refresh]
# The jobs that only ingest: the CLI runs them from pipelines.orchestration.ingest_definitions, which imports
# no dbt and no GX.
INGEST_JOBS = [ingest_job, assessment_import, nightly_refresh, full_refresh]

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_refresh_schedule",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Stockholm",
    # Off until an operator turns it on in the UI (or `dagster schedule start`): a fresh
    # checkout must not start calling the live Kolada API on its own.
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="02:00 Europe/Stockholm: incremental ingest (nightly_refresh), then build, "
    "checks and publish (nightly_publish, started by nightly_publish_sensor).",
)

SCHEDULES = [nightly_schedule]
