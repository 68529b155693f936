"""The single entry point Dagster loads (workspace.yaml, `make dev`, the CLI, the tests)."""

from __future__ import annotations

import dagster as dg

from assets.ingestion import ingestion_assets
from pipelines.jobs import JOBS
from pipelines.resources import default_resources

defs = dg.Definitions(
    assets=[*ingestion_assets],
    jobs=JOBS,
    resources=default_resources(),
)
