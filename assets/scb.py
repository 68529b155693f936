"""The SCB ingestion asset: population by age band for every unit Kolada knows.

No `from __future__ import annotations` in assets/: Dagster inspects the annotations of
`context` and config parameters at definition time and cannot resolve strings.
"""

import dagster as dg

from assets.ingestion import ingestion_asset
from pipelines.orchestration.resources import PlatformResource
from pipelines.sources.kolada.ingest import resolve_municipalities
from pipelines.sources.kolada.streams import MUNICIPALITY
from pipelines.sources.scb.ingest import ingest_population
from pipelines.sources.scb.resource import ScbResource
from pipelines.sources.scb.streams import POPULATION


@ingestion_asset(
    POPULATION,
    how="A full answer for the scope's units and years that the table has, split to SCB's "
    "cell limit and paced to its call window (read from /config).",
    deps=[MUNICIPALITY],
)
def population(
    context: dg.AssetExecutionContext, platform: PlatformResource, scb: ScbResource
) -> dg.MaterializeResult:
    log = platform.event_log()
    log.claim_origin(scb.source)
    scope = platform.scope()
    units = resolve_municipalities(scope, log)
    with scb.client(progress=context.log.info) as client:
        report = ingest_population(
            client, log, units, scope.years, run_id=context.run.run_id,
            progress=context.log.info,
        )
    return dg.MaterializeResult(metadata=report.metadata())


scb_assets = [population]
