"""The publishing gate on a real (ephemeral) Dagster instance: a check vouches only for the
build it checked, a failed error-severity check blocks, a failed warning does not."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from pipelines.checks.gate import PublishBlocked, evaluate_gate, require_gate

MART = dg.AssetKey("mart_kkik_scorecard")
SUITE = dg.AssetCheckKey(MART, "gx_suite")
DBT_TEST = dg.AssetCheckKey(MART, "not_null_year")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def build(instance: dg.DagsterInstance) -> AssetCheckEvaluationTargetMaterializationData:
    instance.report_runless_asset_event(dg.AssetMaterialization(MART))
    record = instance.fetch_materializations(MART, limit=1).records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
    )


def check(
    instance: dg.DagsterInstance,
    key: dg.AssetCheckKey,
    target: AssetCheckEvaluationTargetMaterializationData,
    *,
    passed: bool,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> None:
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(
            asset_key=key.asset_key, check_name=key.name, passed=passed,
            target_materialization_data=target, severity=severity,
        )
    )


def test_gate_passes_when_every_check_passed_on_the_current_build(instance: dg.DagsterInstance) -> None:
    target = build(instance)
    check(instance, SUITE, target, passed=True)
    check(instance, DBT_TEST, target, passed=True)
    report = evaluate_gate(instance, [MART], [SUITE, DBT_TEST])
    assert report.ok and len(report.passed) == 2
    require_gate(report)  # does not raise


def test_gate_refuses_a_check_that_vouched_for_an_older_build(instance: dg.DagsterInstance) -> None:
    old = build(instance)
    check(instance, SUITE, old, passed=True)
    check(instance, DBT_TEST, old, passed=True)
    build(instance)  # rebuilt since, not checked again
    report = evaluate_gate(instance, [MART], [SUITE, DBT_TEST])
    assert not report.ok
    assert all("did not check the current build" in p for p in report.problems)
    with pytest.raises(PublishBlocked, match="2 blocking check"):
        require_gate(report)


def test_gate_blocks_a_failed_error_check_but_not_a_failed_warning(instance: dg.DagsterInstance) -> None:
    target = build(instance)
    check(instance, SUITE, target, passed=True)
    check(instance, DBT_TEST, target, passed=False, severity=dg.AssetCheckSeverity.WARN)
    assert evaluate_gate(instance, [MART], [SUITE, DBT_TEST]).ok
    check(instance, SUITE, target, passed=False)
    report = evaluate_gate(instance, [MART], [SUITE, DBT_TEST])
    assert report.problems == ["mart_kkik_scorecard:gx_suite failed"]


def test_gate_refuses_a_mart_never_built_or_a_check_never_run(instance: dg.DagsterInstance) -> None:
    report = evaluate_gate(instance, [MART], [SUITE])
    assert "mart_kkik_scorecard has never been built" in report.problems
    build(instance)
    report = evaluate_gate(instance, [MART], [SUITE])
    assert report.problems == ["mart_kkik_scorecard:gx_suite has no result (did the check run?)"]


def test_nothing_built_yet_says_so_in_one_line(instance: dg.DagsterInstance) -> None:
    report = evaluate_gate(instance, [MART], [SUITE, DBT_TEST])
    with pytest.raises(PublishBlocked) as caught:
        require_gate(report, has_publication=False)
    message = str(caught.value)
    assert "nothing has been built yet" in message and "\n" not in message
    assert message.endswith("Nothing has been published yet.")


def test_a_long_list_of_problems_is_cut_and_counted(instance: dg.DagsterInstance) -> None:
    target = build(instance)
    keys = [dg.AssetCheckKey(MART, f"test_{i}") for i in range(15)]
    for key in keys:
        check(instance, key, target, passed=False)
    with pytest.raises(PublishBlocked) as caught:
        require_gate(evaluate_gate(instance, [MART], keys))
    message = str(caught.value)
    assert "15 blocking check(s)" in message and "... and 5 more" in message
    assert message.count("\n  - ") == 10
    assert message.endswith("The last good publication stays current.")


def test_a_check_only_planned_by_a_later_run_does_not_hide_the_result_for_this_build(
        instance: dg.DagsterInstance) -> None:
    """An import started while a refresh was between its checks and its publish plans the same
    checks at its start (it then waits for the warehouse): the refresh still publishes."""
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationPlanned,
    )

    target = build(instance)
    check(instance, SUITE, target, passed=True)
    check(instance, DBT_TEST, target, passed=True)
    later = instance.create_run_for_job(dg.GraphDefinition("later").to_job())
    for key in (SUITE, DBT_TEST):
        instance.report_dagster_event(dg.DagsterEvent(
            dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED.value, job_name="later",
            event_specific_data=AssetCheckEvaluationPlanned(
                asset_key=key.asset_key, check_name=key.name)),
            run_id=later.run_id)
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([SUITE])
    assert latest[SUITE].run_id == later.run_id  # the planned one is the latest execution
    report = evaluate_gate(instance, [MART], [SUITE, DBT_TEST])
    assert report.ok and len(report.passed) == 2
