"""A run whose process was killed is failed and its warehouse slot released before the next
run, so a killed build never makes the next publish wait forever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import dagster as dg

from pipelines.operations.orphans import HOST_TAG, PID_TAG, fail_orphaned_runs, process_alive


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def started_run(instance: dg.DagsterInstance, pid: int, host: str) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="build", run_id=run_id,
                                   status=dg.DagsterRunStatus.STARTED,
                                   tags={PID_TAG: str(pid), HOST_TAG: host}))
    instance.event_log_storage.claim_concurrency_slot("warehouse", run_id, "warehouse_models")
    return run_id


def test_a_killed_run_is_failed_and_its_slot_freed() -> None:
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("warehouse", 3)
        host = socket.gethostname()
        orphan = started_run(instance, dead_pid(), host)
        alive = started_run(instance, os.getpid(), host)
        elsewhere = started_run(instance, dead_pid(), "another-host")
        info = instance.event_log_storage.get_concurrency_info("warehouse")
        assert orphan in {c.run_id for c in info.claimed_slots}
        assert fail_orphaned_runs(instance) == [orphan]
        assert instance.get_run_by_id(orphan).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(elsewhere).status == dg.DagsterRunStatus.STARTED
        claims = {c.run_id for c in
                  instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots}
        assert orphan not in claims and alive in claims
        failure = instance.all_logs(orphan, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "is gone" in failure[0].message
        assert fail_orphaned_runs(instance) == []  # once


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    assert not process_alive(dead_pid())


# A build SIGKILLed inside dbt, end to end (the next build fails the orphan, says so and
# converges): tests/test_platform_sample.py::test_platform_build_killed_mid_dbt_and_at_its_crash_point_rebuilds_the_same_marts


def test_a_live_holder_of_the_warehouse_is_named_before_a_run_waits_for_it() -> None:
    from pipelines.operations.orphans import warehouse_holders

    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("warehouse", 1)
        assert warehouse_holders(instance, "warehouse") == []
        holder = started_run(instance, os.getpid(), "elsewhere")
        [line] = warehouse_holders(instance, "warehouse")
        assert line == f"build run {holder} (pid {os.getpid()} on elsewhere)"
