"""Blocking data checks on the marts: GX 1.x suites kept as JSON in `expectations/`, the runner,
the publishing gate, and the one result type that travels from evaluation to the manifest.
What does not belong here: rules dbt can state (they are dbt tests in dbt_project/) and the
decision to publish, which the publisher takes by asking the gate."""

from pipelines.checks.results import (
    GX_CHECK_NAME,
    CheckReference,
    CheckResult,
    ExpectationOutcome,
    SuiteResult,
)
from pipelines.checks.runner import SuiteError, available_suites, load_suite, run_suite

__all__ = [
    "GX_CHECK_NAME",
    "CheckReference",
    "CheckResult",
    "ExpectationOutcome",
    "SuiteError",
    "SuiteResult",
    "available_suites",
    "load_suite",
    "run_suite",
]
