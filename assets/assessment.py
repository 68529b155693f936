"""The assessment source's asset and sensor: Kommunkompassen files from the landing folder.

The sensor launches `assessment_refresh` for each new file in `landing/assessments/` (one run
per file and content: the run key is name + sha256, so the same file never launches twice);
`kommunkvalitet import PATH...` runs the same job with the paths it was given. The work is in
pipelines.sources.kommunkompassen.importer.

No `from __future__ import annotations` in assets/: Dagster inspects the annotations of
`context` and config parameters at definition time and cannot resolve strings.
"""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from assets.ingestion import file_import_result, ingestion_asset
from pipelines.orchestration.resources import PlatformResource
from pipelines.sources.kolada.ingest import new_batch_id
from pipelines.sources.kolada.streams import MUNICIPALITY
from pipelines.sources.kommunkompassen.importer import (
    import_file,
    known_municipalities,
    landing_entry_problem,
    landing_files,
    refuse_entry,
    refused_landing_entries,
    resolve_landing_name,
)
from pipelines.sources.kommunkompassen.resource import AssessmentResource
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN

ASSET_KEY = dg.AssetKey(list(KOMMUNKOMPASSEN.asset_key_path))
OP_NAME = "__".join(KOMMUNKOMPASSEN.asset_key_path)


class ImportConfig(dg.Config):
    """Which files: `landing_names` inside the landing folder (the sensor), `paths` anywhere
    (the CLI); neither = everything in the landing folder."""

    landing_names: list[str] = []  # noqa: RUF012 - pydantic copies defaults per instance
    paths: list[str] = []  # noqa: RUF012


@ingestion_asset(
    KOMMUNKOMPASSEN,
    how="Imported from CSV/XLSX files dropped in landing/assessments/ (sensor) or named to "
    "`kommunkvalitet import`; rejected rows are quarantined in a report beside the archived file.",
    # After the municipalities when both run (the nightly refresh): names resolve against the
    # ingested list; alone (assessment_refresh) the bundled public reference is used.
    deps=[MUNICIPALITY],
)
def kommunkompassen(
    context: dg.AssetExecutionContext,
    platform: PlatformResource,
    assessments: AssessmentResource,
    config: ImportConfig,
) -> dg.MaterializeResult:
    layout = platform.layout
    log = platform.event_log()
    files: list[tuple[Path, bool]] = [(Path(p), False) for p in config.paths]
    refused: list[tuple[Path, str]] = []
    for name in config.landing_names:
        path = resolve_landing_name(layout, name)
        problem = landing_entry_problem(layout, path)
        if problem is None:
            files.append((path, True))
        else:
            refused.append((path, problem))
    if not files and not refused:
        assessments.drop_examples(layout)
        files = [(p, True) for p in landing_files(layout)]
        refused = refused_landing_entries(layout)  # a line each in the report, not silence
    municipalities = known_municipalities(log)
    outcomes = [refuse_entry(path, problem, layout) for path, problem in refused]
    for number, (path, in_landing) in enumerate(files):
        outcome = import_file(
            path, log, layout=layout, batch_id=new_batch_id(context.run.run_id) + f"_{number}",
            run_id=context.run.run_id, municipalities=municipalities, remove=in_landing,
        )
        outcomes.append(outcome)
    return file_import_result(context, outcomes)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def landing_run_requests(platform: PlatformResource) -> Iterator[dg.RunRequest]:
    """One run per file waiting in the landing folder, keyed by its name and content; each
    builds the models an import reaches (pipelines.orchestration.stage2), not all of them."""
    from pipelines.orchestration.stage2 import launch_selection  # dbt's manifest: not at import

    files = landing_files(platform.layout)
    selection = launch_selection(
        "assessment_refresh", platform.layout, Path(platform.config_path), {},
        also_streams=[KOMMUNKOMPASSEN.name]) if files else None
    for path in files:
        yield dg.RunRequest(
            run_key=f"{path.name}:{_sha256(path)}",
            run_config={"ops": {OP_NAME: {"config": {"landing_names": [path.name]}}}},
            tags={"kommunkvalitet/file": path.name},
            asset_selection=selection,
        )
    # entries that are no importable file (never opened: a FIFO would block the sensor): a
    # run moves each to rejected/ with its reason, once per name and reason
    for path, problem in refused_landing_entries(platform.layout):
        yield dg.RunRequest(
            run_key=f"{path.name}:refused:{hashlib.sha256(problem.encode()).hexdigest()[:16]}",
            run_config={"ops": {OP_NAME: {"config": {"landing_names": [path.name]}}}},
            tags={"kommunkvalitet/file": path.name},
        )


@dg.sensor(
    job_name="assessment_refresh",
    minimum_interval_seconds=30,
    # Local files only, nothing leaves the machine: on as soon as the daemon runs.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches assessment_refresh for each new file in landing/assessments/.",
)
def assessment_landing_sensor(
    context: dg.SensorEvaluationContext, platform: PlatformResource
) -> Iterator[dg.RunRequest]:
    yield from landing_run_requests(platform)


assessment_assets = [kommunkompassen]
assessment_sensors = [assessment_landing_sensor]
