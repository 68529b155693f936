"""The publishing gate: every blocking check passed for the *current* materialization.

The publish asset calls this itself instead of trusting the run it happens to be in, so a
stand-alone `kommunkvalitet publish` cannot skip the gate, and a check that passed on an older
build does not vouch for a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from pipelines.checks.results import DBT_TEST, GREAT_EXPECTATIONS, GX_CHECK_NAME, CheckResult


class PublishBlocked(RuntimeError):
    """At least one blocking check failed, did not run, or checked an older build."""


@dataclass
class GateReport:
    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Every evaluation that checked the current build, for the publisher and the manifest.
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _latest_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> Any | None:
    records = instance.fetch_materializations(key, limit=1).records
    return records[0] if records else None


def evaluate_gate(
    instance: dg.DagsterInstance,
    assets: Iterable[dg.AssetKey],
    checks: Iterable[dg.AssetCheckKey],
) -> GateReport:
    report = GateReport()
    latest = {key: _latest_materialization(instance, key) for key in assets}
    for key, record in latest.items():
        if record is None:
            report.problems.append(f"{key.to_user_string()} has never been built")
    check_keys = [c for c in checks if c.asset_key in latest]
    executions = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    for check_key in check_keys:
        name = f"{check_key.asset_key.to_user_string()}:{check_key.name}"
        execution = executions.get(check_key)
        if execution is not None and _evaluation(execution) is None:
            execution = _latest_evaluated(instance, check_key)
        evaluation = _evaluation(execution)
        if evaluation is None:
            report.problems.append(f"{name} has no result (did the check run?)")
            continue
        materialization = latest.get(check_key.asset_key)
        target = evaluation.target_materialization_data
        if materialization is None or target is None or target.storage_id != materialization.storage_id:
            report.problems.append(f"{name} did not check the current build of its mart")
            continue
        report.results.append(_result(check_key, evaluation))
        if evaluation.passed or evaluation.severity == dg.AssetCheckSeverity.WARN:
            report.passed.append(name)
        else:
            report.problems.append(f"{name} failed")
    report.results.sort(key=lambda r: r.name)
    return report


def _result(key: dg.AssetCheckKey, evaluation: dg.AssetCheckEvaluation) -> CheckResult:
    suite = evaluation.metadata.get("result")
    return CheckResult(
        asset=key.asset_key.to_user_string(),
        check=key.name,
        kind=GREAT_EXPECTATIONS if key.name == GX_CHECK_NAME else DBT_TEST,
        passed=evaluation.passed,
        severity=evaluation.severity.value,
        suite=None if suite is None else suite.value,
    )


def _latest_evaluated(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> Any | None:
    """The latest execution of `key` that has a result. The latest of all can be one only
    planned: a run that started after this build (an import waiting for the warehouse
    reservation) plans its checks when it starts, and that says nothing about this build."""
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
    )

    done = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
    history = instance.event_log_storage.get_asset_check_execution_history(
        key, limit=1, status=done)
    return history[0] if history else None


def _evaluation(execution: Any) -> Any | None:
    if execution is None or execution.event is None or execution.event.dagster_event is None:
        return None
    data = execution.event.dagster_event.event_specific_data
    return data if isinstance(data, dg.AssetCheckEvaluation) else None


SHOWN_PROBLEMS = 10


def require_gate(report: GateReport, *, has_publication: bool = True) -> None:
    """Raise PublishBlocked, saying in one line why, then at most SHOWN_PROBLEMS reasons."""
    if report.ok:
        return
    after = ("The last good publication stays current." if has_publication
             else "Nothing has been published yet.")
    never_built = any(p.endswith("has never been built") for p in report.problems)
    if never_built and not report.results:  # no check has vouched for any build at all
        raise PublishBlocked(
            "publishing blocked: nothing has been built yet; run `kommunkvalitet build` (or "
            f"`kommunkvalitet refresh`) first. {after}"
        )
    listed = "\n".join(f"  - {p}" for p in report.problems[:SHOWN_PROBLEMS])
    more = len(report.problems) - SHOWN_PROBLEMS
    if more > 0:
        listed += f"\n  ... and {more} more (the publication step in the UI lists them all)"
    raise PublishBlocked(
        f"publishing blocked: {len(report.problems)} blocking check(s) not passed for the "
        f"current build:\n{listed}\n{after}"
    )
