"""Blocking data checks on the marts: GX 1.x suites kept as JSON in `expectations/`."""

from pipelines.checks.results import CheckReference, ExpectationOutcome, SuiteResult
from pipelines.checks.runner import SuiteError, available_suites, load_suite, run_suite

__all__ = [
    "CheckReference",
    "ExpectationOutcome",
    "SuiteError",
    "SuiteResult",
    "available_suites",
    "load_suite",
    "run_suite",
]
