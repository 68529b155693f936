"""Dagster resources: where the data lives, and each source's own resource.

Defaults come from the environment (pipelines.settings), and the CLI overrides them per run
through run config, so the schedule, the UI, the CLI and the tests configure one thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.eventlog.store import EventLog
from pipelines.scope import IngestScope, load_scope
from pipelines.settings import Layout, load_settings
from pipelines.sources.kolada.resource import KoladaResource
from pipelines.sources.kommunkompassen.resource import AssessmentResource
from pipelines.sources.registry import STREAMS
from pipelines.sources.scb.resource import ScbResource
from pipelines.warehouse.reservation import RESERVE_AFTER_TAG, Reservation


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


class WarehouseReserved(RuntimeError):
    """A warehouse step found the warehouse reserved by another run (its run had not taken
    the reservation before the step: waiting now, holding the pool slot, could deadlock)."""


class WarehouseReservation:
    """What the run's steps get: its reservation of the warehouse (pipelines.warehouse.reservation)."""

    def __init__(self, reservation: Reservation, instance: dg.DagsterInstance | None,
                 run: dg.DagsterRun | None) -> None:
        self._reservation, self._instance, self._run = reservation, instance, run

    @property
    def holder(self) -> str:
        return self._reservation.holder

    def hold(self, log: Any) -> None:
        """Wait for the warehouse (saying what for): only where the run holds no pool slot."""
        if self._reservation.held:
            return
        self._reservation.hold(say=log.warning)
        self._held(log)

    def after_step(self, step_key: str, log: Any) -> None:
        """A step succeeded: if it is the run's hand-off step (RESERVE_AFTER_TAG), wait for
        the warehouse now (the hand-off step holds no pool slot)."""
        if self._run is not None and step_key == self._run.tags.get(RESERVE_AFTER_TAG):
            self.hold(log)

    def ensure_held(self, log: Any) -> None:
        """At the start of every warehouse step: the run holds the warehouse, or the step
        fails naming who does (never waits: the step already holds the pool slot)."""
        if self._reservation.held:
            return
        holder = self._reservation.try_hold()
        if holder is not None:
            raise WarehouseReserved(
                f"the warehouse is reserved by {holder}, and this run did not reserve it "
                "before its warehouse steps; run it again when that run has ended")
        self._held(log)

    def _held(self, log: Any) -> None:
        from pipelines.operations.orphans import (
            PID_TAG,
            fail_orphaned_runs,
            process_tags,
            warehouse_holders,
        )
        from pipelines.orchestration.instance import WAREHOUSE_POOL

        instance, run = self._instance, self._run
        if instance is None or run is None:
            return
        if PID_TAG not in run.tags:
            # a run the daemon launched: tagged now, so a later command can fail it (and free
            # its pool slot) if its process is killed, as it does for a CLI run
            instance.add_run_tags(run.run_id, process_tags())
        # the holder this run waited for may have been killed while holding its pool slot
        for orphan in fail_orphaned_runs(instance):
            log.warning(f"run {orphan} was left STARTED by a process that is gone; marked "
                        "failed and its warehouse slot released")
        for other in warehouse_holders(instance, WAREHOUSE_POOL):
            if other.split(" run ", 1)[-1].startswith(run.run_id):
                continue
            # a run that never took the reservation (an older version of this code): its
            # pool slot still serialises the steps
            log.warning(f"the warehouse pool slot is held by {other}; this run's warehouse "
                        "steps wait for it")


@dg.resource(
    required_resource_keys={"platform"},
    description="The run-level reservation of the warehouse (an flock on "
    "$KK_DATA_DIR/warehouse.lock), held until the run ends: taken when the run's resources are "
    "set up, before its first warehouse step claims the `warehouse` pool slot (or, for the "
    "assessment import, when the import step has succeeded). Only runs with a warehouse step "
    "set it up; the jobs that have one run in-process (pipelines.orchestration.jobs).",
)
def warehouse_reservation(context: dg.InitResourceContext) -> Iterator[WarehouseReservation]:
    # Dagster sets up every resource a run's steps need before the executor starts the first
    # step (and before any pool claim), so a waiting run holds no pool slot while it waits:
    # the holder's later warehouse steps cannot deadlock on it.
    from pipelines.operations.orphans import HOST_TAG, PID_TAG, process_tags

    run, tags = context.run, process_tags()
    job, run_id = (run.job_name, run.run_id) if run is not None else ("a", "without an id")
    reservation = Reservation(Path(context.resources.platform.data_dir),
                              f"{job} run {run_id} (pid {tags[PID_TAG]} on {tags[HOST_TAG]})")
    handle = WarehouseReservation(reservation, context.instance, run)
    try:
        if not _reserves_after_a_step(run):
            handle.hold(context.log)
        yield handle
    finally:
        reservation.release()


def _reserves_after_a_step(run: dg.DagsterRun | None) -> bool:
    """Whether the run's hand-off step (RESERVE_AFTER_TAG) is among the steps it executes."""
    after = run.tags.get(RESERVE_AFTER_TAG) if run is not None else None
    return bool(after) and (run.step_keys_to_execute is None
                            or after in run.step_keys_to_execute)


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
