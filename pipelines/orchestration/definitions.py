"""The single entry point Dagster loads (workspace.yaml, `make dev`, the CLI, the tests).

The composition root: with pipelines.orchestration.ingest_definitions (the ingest jobs alone, which the CLI
runs without importing dbt or GX), the only module of the library (`pipelines/`) that imports
`assets/`; everything else in `pipelines/` is plain library code that the asset bodies call.
"""

from __future__ import annotations

import dagster as dg

from assets.assessment import assessment_assets, assessment_sensors
from assets.checks import check_defs
from assets.dbt import dbt_assets_defs, dbt_jobs
from assets.initiatives import initiative_assets
from assets.kolada import kolada_assets
from assets.operations import operations_checks, operations_sensors
from assets.publish import publish_assets
from assets.scb import scb_assets
from pipelines.console.logger import concise_console_logger
from pipelines.orchestration.jobs import JOBS, SCHEDULES, WAREHOUSE_EXECUTOR
from pipelines.orchestration.resources import default_resources
from pipelines.warehouse.dbt_cli import WarehouseDbtCli
from pipelines.warehouse.dbt_project import dbt_executable, dbt_project

defs = dg.Definitions(
    assets=[
        *kolada_assets, *scb_assets, *assessment_assets, *initiative_assets, *dbt_assets_defs,
        *publish_assets,
    ],
    asset_checks=[*check_defs, *operations_checks],
    jobs=[*JOBS, *dbt_jobs],
    schedules=SCHEDULES,
    sensors=[*assessment_sensors, *operations_sensors],
    loggers={"console": concise_console_logger},
    # every job names its executor (pipelines.orchestration.jobs); this default is for what the UI runs
    # ad hoc (materializing a selection of assets), which may include a warehouse step
    executor=WAREHOUSE_EXECUTOR,
    resources={
        **default_resources(),
        "dbt": WarehouseDbtCli(project_dir=dbt_project(), dbt_executable=dbt_executable()),
    },
)
