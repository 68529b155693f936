"""The ingest jobs alone, for the CLI's ingest-only runs: no dagster-dbt, dbt or GX imported.

`pipelines.orchestration.definitions` builds the whole platform, and dbt's asset definitions need
dagster-dbt and dbt-core imported (about 2 s of a run's start, plus loading the manifest) even
for a run that only fetches. The ingest jobs select only the ingestion group and the freshness
check on it, so this smaller composition plans exactly the same steps; tests/test_definitions.py
asserts that the jobs here and in `pipelines.orchestration.definitions` select the same assets and checks.
The workspace, the daemon and the UI always load `pipelines.orchestration.definitions`.
"""

from __future__ import annotations

import dagster as dg

from assets.assessment import assessment_assets
from assets.initiatives import initiative_assets
from assets.kolada import kolada_assets
from assets.operations import operations_checks
from assets.scb import scb_assets
from pipelines.console.logger import concise_console_logger
from pipelines.orchestration.jobs import INGEST_JOBS
from pipelines.orchestration.resources import default_resources

ingest_defs = dg.Definitions(
    assets=[*kolada_assets, *scb_assets, *assessment_assets, *initiative_assets],
    asset_checks=[*operations_checks],
    jobs=INGEST_JOBS,
    loggers={"console": concise_console_logger},
    resources=default_resources(),
)
