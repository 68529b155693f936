"""The jobs every entry point runs: the CLI, the schedule, the UI and the tests."""

from __future__ import annotations

import dagster as dg

INGEST_SELECTION = dg.AssetSelection.groups("ingestion")

ingest_job = dg.define_asset_job(
    "ingest",
    selection=INGEST_SELECTION,
    description="Fetch Kolada into the append-only event log.",
)

nightly_refresh = dg.define_asset_job(
    "nightly_refresh",
    selection=dg.AssetSelection.all(),
    description="The nightly refresh: ingest -> dbt build -> blocking checks -> publish.",
)

JOBS = [ingest_job, nightly_refresh]
