"""The run-level warehouse reservation (pipelines/warehouse/reservation.py, issue 15): a run holds the
warehouse from before its first warehouse step until it ends, a waiting run names the holder
(and keeps saying it), a killed holder frees it, and a run without warehouse steps never waits.
Real processes, real flocks, real Dagster runs on a real instance."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT
from pipelines.warehouse.reservation import current_holder, reserve_warehouse
from tests.reservation_helpers import ORDER_FILE, plain_job

HOLDER = "build run r-1 (pid 1 on somewhere)"


@pytest.fixture
def data(data_dir: Path) -> Path:
    """The scratch data dir (conftest's `data_dir`, KK_DATA_DIR and DAGSTER_HOME set)."""
    return data_dir


def helper(*argv: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.reservation_helpers", *argv],
                            cwd=REPO_ROOT, env=env, text=True, **kwargs)  # type: ignore[call-overload]


@pytest.fixture
def holder(data: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the reservation (until killed)."""
    proc = helper("hold", str(data), HOLDER, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=60)


def until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Wait for `condition` (a generous deadline: the machine is shared, nothing is timed)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def taken_elsewhere(data: Path) -> bool:
    """Whether another process would have to wait for the reservation right now."""
    probe = ("import fcntl, sys\nf = open(sys.argv[1], 'a+')\ntry:\n"
             "    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n"
             "    sys.exit(1)\n")
    return subprocess.run([sys.executable, "-c", probe, str(data / "warehouse.lock")],
                          check=False).returncode == 1


def test_a_second_process_waits_naming_the_holder_and_proceeds_when_the_holder_is_killed(
        data: Path, holder: subprocess.Popen[str]) -> None:
    assert current_holder(data).startswith(HOLDER + ", since ")
    said: list[str] = []
    got, release = threading.Event(), threading.Event()

    def waiter() -> None:
        with reserve_warehouse(data, "publish run r-2 (pid 2 on here)", say=said.append,
                               report_every=0.2, poll=0.05):
            got.set()
            release.wait(60)

    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    until(lambda: len(said) >= 3, "the waiter repeats what it waits for")
    assert not got.is_set()
    assert said[0].startswith(f"the warehouse is in use by {HOLDER}, since ")
    assert said[0].endswith("; this run's warehouse steps wait for it")
    assert "(still, after" in said[2]
    holder.send_signal(signal.SIGKILL)  # no cleanup runs: the kernel drops the flock
    until(got.is_set, "the waiter gets the reservation once the holder is dead")
    assert current_holder(data).startswith("publish run r-2 (pid 2 on here), since ")
    assert taken_elsewhere(data)
    release.set()
    thread.join(60)
    assert current_holder(data) is None and not taken_elsewhere(data)


def test_the_holding_thread_reenters_without_waiting_and_releases_with_the_outer_block(
        data: Path) -> None:
    said: list[str] = []
    with reserve_warehouse(data, "build run r-3", say=said.append):
        with reserve_warehouse(data, "publish run r-4", say=said.append):
            assert current_holder(data).startswith("build run r-3")
        assert taken_elsewhere(data)  # the inner block released nothing
    assert said == [] and not taken_elsewhere(data)


def test_another_thread_of_the_holding_process_waits(data: Path) -> None:
    said: list[str] = []
    got = threading.Event()

    def other() -> None:
        with reserve_warehouse(data, "publish run r-6", say=said.append, poll=0.05):
            got.set()

    with reserve_warehouse(data, "build run r-5", say=said.append):
        thread = threading.Thread(target=other, daemon=True)
        thread.start()
        until(lambda: bool(said), "the other thread says it waits")
        assert not got.is_set() and "build run r-5" in said[0]
    until(got.is_set, "the other thread proceeds once the block ended")
    thread.join(60)


def _in_thread(run: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(run()), daemon=True)
    thread.start()
    return thread, out


def test_a_run_without_warehouse_steps_never_waits(
        data: Path, holder: subprocess.Popen[str]) -> None:
    from pipelines.orchestration.instance import shared_instance
    from pipelines.settings import load_settings

    instance = shared_instance(load_settings())
    thread, out = _in_thread(lambda: plain_job(data).execute_in_process(instance=instance))
    thread.join(300)  # would hang for as long as the holder lives if it waited
    assert not thread.is_alive() and out[0].success  # type: ignore[attr-defined]
    assert holder.poll() is None  # the reservation was held all along


def test_the_platforms_warehouse_jobs_take_the_reservation_in_one_process_and_ingests_never(
        ) -> None:
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.execution.resources_init import get_required_resource_keys_to_init

    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.instance import WAREHOUSE_POOL
    from pipelines.orchestration.jobs import INGEST_JOBS, JOBS

    ingests = {job.name for job in INGEST_JOBS}
    for name in [job.name for job in JOBS] + ["dbt_docs", "__ASSET_JOB"]:
        job = defs.resolve_job_def(name)
        pooled = {step.key for step in create_execution_plan(job).get_all_steps_in_topo_order()
                  if step.pool == WAREHOUSE_POOL}
        reserves = "warehouse_reservation" in get_required_resource_keys_to_init(
            create_execution_plan(job), job)
        assert reserves == bool(pooled) == (name not in ingests), name
        if pooled:  # one process holds the reservation for the whole run
            assert job.executor_def.name == "in_process", name


def test_another_runs_warehouse_steps_wait_for_the_whole_run_and_name_it(data: Path) -> None:
    """Run a: a1 -> a_between (outside the pool, 2 s) -> a2; run b starts during a1. The pool
    alone would let b1 in while a_between runs; the reservation keeps b out until a ended."""
    logs = data / "b.err"
    first = helper("run", str(data), "a", "--gate", stderr=subprocess.DEVNULL)
    order = data / ORDER_FILE
    until(lambda: order.exists() and "a1" in order.read_text(), "run a's first step starts")
    with open(logs, "w", encoding="utf-8") as err:
        second = helper("run", str(data), "b", stderr=err)
        until(lambda: "the warehouse is in use by a run" in logs.read_text(), "b says it waits")
        (data / "release-a").touch()
        assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0
    assert order.read_text().split() == ["a1", "a2", "b1", "b2"]
    said = next(line for line in logs.read_text().splitlines()
                if "the warehouse is in use by a run" in line)
    assert f"(pid {first.pid} on " in said


def test_an_import_step_runs_beside_the_holder_and_only_its_warehouse_steps_wait(
        data: Path) -> None:
    """Run c is shaped like `assessment_refresh`: c_import (the event log only) first. It runs
    while run a holds the warehouse; c's warehouse steps wait until a has ended."""
    logs = data / "c.err"
    first = helper("run", str(data), "a", "--gate", stderr=subprocess.DEVNULL)
    order = data / ORDER_FILE
    until(lambda: order.exists() and "a1" in order.read_text(), "run a's first step starts")
    with open(logs, "w", encoding="utf-8") as err:
        second = helper("run", str(data), "c", "--import", stderr=err)
        until(lambda: "the warehouse is in use by a run" in logs.read_text(), "c says it waits")
        assert order.read_text().split() == ["a1", "c_import"]  # a still holds it: gated
        (data / "release-a").touch()
        assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0
    assert order.read_text().split() == ["a1", "c_import", "a2", "c1", "c2"]


def test_a_warehouse_step_never_waits_holding_its_pool_slot(
        data: Path, holder: subprocess.Popen[str]) -> None:
    """A step whose run has not reserved the warehouse (a hand-off that did not happen) fails
    naming the holder rather than wait while it holds the slot the holder needs next."""
    import logging

    from pipelines.orchestration.resources import WarehouseReservation, WarehouseReserved
    from pipelines.warehouse.reservation import Reservation

    log = logging.getLogger("test")
    late = WarehouseReservation(Reservation(data, "build run r-7"), None, None)
    with pytest.raises(WarehouseReserved, match=re.escape(f"reserved by {HOLDER}, since ")):
        late.ensure_held(log)
    holder.kill()
    holder.wait(timeout=60)
    late.ensure_held(log)  # free now: taken at once
    assert current_holder(data).startswith("build run r-7")
    late._reservation.release()
    assert current_holder(data) is None
