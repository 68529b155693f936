"""The initiatives asset: the analysts' register of improvement initiatives, from
landing/initiatives/ (CSV/XLSX), imported with the assessments' rules and quarantine.

No `from __future__ import annotations` in assets/: Dagster inspects the annotations of
`context` and config parameters at definition time and cannot resolve strings.
"""

import dagster as dg

from assets.ingestion import file_import_result, ingestion_asset
from pipelines.orchestration.resources import PlatformResource
from pipelines.sources.initiatives.importer import (
    drop_examples,
    import_initiatives,
    landing_files,
)
from pipelines.sources.initiatives.streams import INITIATIVE
from pipelines.sources.kolada.ingest import new_batch_id
from pipelines.sources.kolada.streams import KPI, MUNICIPALITY
from pipelines.sources.kommunkompassen.importer import known_municipalities
from pipelines.sources.kommunkompassen.resource import AssessmentResource


@ingestion_asset(
    INITIATIVE,
    how="Imported from CSV/XLSX files dropped in landing/initiatives/ (docs/initiatives.md); "
    "rejected rows are quarantined in a report beside the archived file.",
    # After the municipalities and KPIs: names resolve against the ingested list, and KPI ids
    # the platform does not ingest are reported.
    deps=[MUNICIPALITY, KPI],
)
def registered(
    context: dg.AssetExecutionContext, platform: PlatformResource,
    assessments: AssessmentResource,
) -> dg.MaterializeResult:
    layout = platform.layout
    log = platform.event_log()
    if assessments.source == "sample":
        drop_examples(layout)
    networks = [n.id for n in platform.scope().networks]
    municipalities = known_municipalities(log)
    outcomes = []
    for number, path in enumerate(landing_files(layout)):
        outcome = import_initiatives(
            path, log, layout=layout, batch_id=new_batch_id(context.run.run_id) + f"_{number}",
            run_id=context.run.run_id, municipalities=municipalities, networks=networks,
            remove=True,
        )
        outcomes.append(outcome)
    return file_import_result(context, outcomes)


initiative_assets = [registered]
