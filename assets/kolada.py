"""The Kolada ingestion assets: four metadata snapshots and the KPI values.

Bodies only: the work is in pipelines.sources.kolada.ingest, the keys and descriptions come
from the stream declarations (pipelines.sources.kolada.streams).

No `from __future__ import annotations` in assets/: Dagster inspects the annotations of
`context` and config parameters at definition time and cannot resolve strings.
"""

import dagster as dg

from assets.ingestion import ingestion_asset
from pipelines.orchestration.jobs import FULL_TAG
from pipelines.orchestration.resources import PlatformResource
from pipelines.sources.kolada.ingest import ingest_metadata, ingest_values
from pipelines.sources.kolada.resource import KoladaResource
from pipelines.sources.kolada.streams import (
    KPI_GROUP,
    KPI_VALUE,
    METADATA_STREAMS,
    MUNICIPALITY,
    KoladaStream,
)


def _metadata_asset(stream: KoladaStream) -> dg.AssetsDefinition:
    @ingestion_asset(
        stream, how="Full snapshot diffed against the log (no delta support upstream)."
    )
    def _asset(
        context: dg.AssetExecutionContext, platform: PlatformResource, kolada: KoladaResource
    ) -> dg.MaterializeResult:
        log = platform.event_log()
        log.claim_origin(kolada.source)
        with kolada.client(progress=context.log.info) as client:
            report = ingest_metadata(
                stream, client, log, run_id=context.run.run_id, progress=context.log.info
            )
        return dg.MaterializeResult(metadata=report.metadata())

    return _asset


@ingestion_asset(
    KPI_VALUE,
    how="For the configured scope (KK_CONFIG): incremental with from_date (one day overlap) "
    "after the first full fetch, or full.",
    deps=[KPI_GROUP, MUNICIPALITY],
)
def kpi_value(
    context: dg.AssetExecutionContext, platform: PlatformResource, kolada: KoladaResource
) -> dg.MaterializeResult:
    log = platform.event_log()
    log.claim_origin(kolada.source)
    with kolada.client(progress=context.log.info) as client:
        report = ingest_values(
            client,
            log,
            platform.scope(),
            run_id=context.run.run_id,
            # the full_refresh job asks by tag, so its runs keep the resource's configured URL
            full=kolada.full or context.run.tags.get(FULL_TAG) == "true",
            progress=context.log.info,
        )
    return dg.MaterializeResult(metadata=report.metadata())


kolada_assets = [*(_metadata_asset(stream) for stream in METADATA_STREAMS), kpi_value]
