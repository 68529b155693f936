"""Processes for tests/test_reservation.py: a bare holder of the warehouse reservation, and tiny
Dagster jobs shaped like the platform's warehouse jobs (warehouse steps in the `warehouse`
pool that need the run-level reservation, around a step outside the pool; optionally first a
step that writes no warehouse and hands over to the reservation, as the assessment import
does), run in-process on the data dir's shared instance as the CLI runs them.

`python -m tests.reservation_helpers hold DATA HOLDER`: hold the reservation until killed.
`python -m tests.reservation_helpers run DATA NAME [--gate] [--import]`: run job NAME; with
--gate its first warehouse step waits for the file DATA/release-NAME; with --import a step
NAME_import runs first.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dagster as dg

from pipelines.orchestration.instance import WAREHOUSE_POOL, shared_instance
from pipelines.orchestration.jobs import WAREHOUSE_EXECUTOR, reserve_warehouse_after_import
from pipelines.orchestration.resources import (
    PlatformResource,
    WarehouseReservation,
    warehouse_reservation,
)
from pipelines.settings import load_settings
from pipelines.warehouse.reservation import RESERVE_AFTER_TAG, reserve_warehouse

ORDER_FILE = "order.txt"


def _note(data: Path, line: str) -> None:
    with open(data / ORDER_FILE, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def resources(data: Path) -> dict[str, object]:
    return {"platform": PlatformResource(data_dir=str(data), config_path=str(data / "x.yaml")),
            "warehouse_reservation": warehouse_reservation}


def warehouse_job(name: str, data: Path, *, gate: bool = False,
                  imports: bool = False) -> dg.JobDefinition:
    """[NAME_import ->] NAME1 (warehouse) -> NAME_between (no pool: the slot is free
    meanwhile) -> NAME2 (warehouse)."""

    @dg.op(name=f"{name}_import")
    def read_file() -> None:
        _note(data, f"{name}_import")

    @dg.op(name=f"{name}1", pool=WAREHOUSE_POOL, ins={"after": dg.In(dg.Nothing)})
    def first(context,  # unannotated: Dagster cannot resolve a string annotation in here
              warehouse_reservation: dg.ResourceParam[WarehouseReservation]) -> str:
        warehouse_reservation.ensure_held(context.log)
        _note(data, f"{name}1")
        while gate and not (data / f"release-{name}").exists():
            time.sleep(0.1)
        return warehouse_reservation.holder

    @dg.op(name=f"{name}_between")
    def between(holder: str) -> str:
        time.sleep(2)  # another run's warehouse step would get the pool slot now
        return holder

    @dg.op(name=f"{name}2", pool=WAREHOUSE_POOL)
    def second(context, holder: str,
               warehouse_reservation: dg.ResourceParam[WarehouseReservation]) -> str:
        warehouse_reservation.ensure_held(context.log)
        _note(data, f"{name}2")
        return holder

    handover = {"tags": {RESERVE_AFTER_TAG: f"{name}_import"},
                "hooks": {reserve_warehouse_after_import}} if imports else {}

    @dg.job(name=name, resource_defs=resources(data), executor_def=WAREHOUSE_EXECUTOR,
            **handover)
    def job() -> None:
        second(between(first(read_file()) if imports else first()))

    return job


def plain_job(data: Path) -> dg.JobDefinition:
    """A job without a warehouse step (an ingest's shape)."""

    @dg.op
    def fetch() -> int:
        _note(data, "fetch")
        return 1

    @dg.job(name="plain", resource_defs=resources(data))
    def job() -> None:
        fetch()

    return job


def main(argv: list[str]) -> int:
    command, data = argv[0], Path(argv[1])
    if command == "hold":
        with reserve_warehouse(data, argv[2], say=print):
            print("held", flush=True)
            time.sleep(3600)
        return 0
    job = warehouse_job(argv[2], data, gate="--gate" in argv, imports="--import" in argv)
    result = job.execute_in_process(instance=shared_instance(load_settings()),
                                    raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
