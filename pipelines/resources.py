"""Dagster resources: where the data lives, and each source's own resource.

Defaults come from the environment (pipelines.settings), and the CLI overrides them per run
through run config, so the schedule, the UI, the CLI and the tests configure one thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines.eventlog.store import EventLog
from pipelines.scope import IngestScope, load_scope
from pipelines.settings import Layout, load_settings
from pipelines.sources.kolada.resource import KoladaResource
from pipelines.sources.kommunkompassen.resource import AssessmentResource
from pipelines.sources.registry import STREAMS
from pipelines.sources.scb.resource import ScbResource


class PlatformResource(dg.ConfigurableResource):
    """The data directory and the scope file, resolved to absolute paths once."""

    data_dir: str
    config_path: str
    publish_keep: int = 10

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.data_dir))

    def event_log(self) -> EventLog:
        log = EventLog(self.layout.events_dir, STREAMS)
        log.ensure_layout()
        return log

    def scope(self) -> IngestScope:
        return load_scope(Path(self.config_path))


@dataclass(frozen=True)
class WarehouseReservation:
    """What a warehouse step gets: proof that its run holds the warehouse (pipelines.reservation)
    and how the run describes itself to a run that waits for it."""

    holder: str


@dg.resource(
    required_resource_keys={"platform"},
    description="The run-level reservation of the warehouse (an flock on "
    "$KK_DATA_DIR/warehouse.lock): taken when the run's resources are set up, before its first "
    "warehouse step claims the `warehouse` pool slot, and held until the run ends. Only runs "
    "with a warehouse step set it up; the jobs that have one run in-process (pipelines.jobs).",
)
def warehouse_reservation(context: dg.InitResourceContext) -> Iterator[WarehouseReservation]:
    # Dagster sets up every resource a run's steps need before the executor starts the first
    # step (and before any pool claim), so a waiting run holds no pool slot while it waits:
    # the holder's later warehouse steps cannot deadlock on it.
    from pipelines.instance import WAREHOUSE_POOL
    from pipelines.operations.orphans import (
        HOST_TAG,
        PID_TAG,
        fail_orphaned_runs,
        process_tags,
        warehouse_holders,
    )
    from pipelines.reservation import reserve_warehouse

    run, instance, tags = context.dagster_run, context.instance, process_tags()
    job, run_id = (run.job_name, run.run_id) if run is not None else ("a", "without an id")
    holder = f"{job} run {run_id} (pid {tags[PID_TAG]} on {tags[HOST_TAG]})"
    data_dir = Path(context.resources.platform.data_dir)
    with reserve_warehouse(data_dir, holder, say=context.log.warning):
        if instance is not None and run is not None:
            if PID_TAG not in run.tags:
                # a run the daemon launched: tagged now, so a later command can fail it (and
                # free its pool slot) if its process is killed, as it does for a CLI run
                instance.add_run_tags(run_id, tags)
            # the holder we waited for may have been killed while holding its pool slot
            for orphan in fail_orphaned_runs(instance):
                context.log.warning(f"run {orphan} was left STARTED by a process that is "
                                    "gone; marked failed and its warehouse slot released")
            for other in warehouse_holders(instance, WAREHOUSE_POOL):
                # a run that never took the reservation (another host's data dir, an old
                # version): its pool slot still serialises the steps
                context.log.warning(f"the warehouse pool slot is held by {other}; this run's "
                                    "warehouse steps wait for it")
        yield WarehouseReservation(holder)


def default_resources() -> dict[str, dg.ConfigurableResource | dg.ResourceDefinition]:
    settings = load_settings()
    return {
        "platform": PlatformResource(
            data_dir=str(settings.data_dir),
            config_path=str(settings.config_path),
            publish_keep=settings.publish_keep,
        ),
        "kolada": KoladaResource(
            source=settings.source,
            base_url=settings.kolada_base_url,
            max_rps=settings.kolada_max_rps,
        ),
        "scb": ScbResource(source=settings.source, base_url=settings.scb_base_url),
        "assessments": AssessmentResource(source=settings.source),
        "warehouse_reservation": warehouse_reservation,
    }
