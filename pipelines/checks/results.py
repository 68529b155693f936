"""Result types of a suite run: what the Dagster asset checks show and the manifest records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass
class CheckReference:
    """Everything a suite needs from outside the mart itself, passed in by the caller.

    `municipality_ids` come from dim_municipality (the cross-table check), the previous row
    count from the current publication's manifest, `today` makes freshness reproducible.
    `kpi_units` (kpi_id -> unit) is optional: it lets the shares check work on marts that carry
    a kpi_id but no unit column.
    """

    municipality_ids: set[str]
    previous_row_count: int | None = None
    row_count_override_reason: str | None = None
    today: date = field(default_factory=date.today)
    kpi_units: dict[str, str] | None = None


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    severity: str  # "error" | "warning"
    unexpected_count: int | None
    sample: list[dict]
    detail: str
    overridden: bool = False
    override_reason: str | None = None

    @property
    def blocking_failure(self) -> bool:
        return not self.success and self.severity == ERROR


@dataclass
class SuiteResult:
    suite: str
    mart: str
    rows: int
    outcomes: list[ExpectationOutcome]
    # The custom checks read only the changed KPIs' rows of an incremental build
    # (pipelines.checks.changed_kpis): how many rows of how many KPIs; None: the whole mart.
    custom_rows: int | None = None
    custom_kpis: int | None = None

    @property
    def passed(self) -> bool:
        """True when no expectation of severity "error" failed (warnings never block)."""
        return not any(o.blocking_failure for o in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def summary(self) -> str:
        failed = self.failures
        errors = sum(1 for o in failed if o.severity == ERROR)
        warnings = len(failed) - errors
        head = (
            f"suite {self.suite} on {self.mart} ({self.rows} rows): "
            f"{'PASSED' if self.passed else 'FAILED'}; {len(self.outcomes)} expectations, "
            f"{errors} failed (error), {warnings} failed (warning)"
        )
        if self.custom_rows is not None:
            head += (f"; custom checks on the {self.custom_kpis} changed KPIs only "
                     f"({self.custom_rows} rows)")
        lines = [head]
        for o in failed:
            where = f" on column {o.column}" if o.column else ""
            count = f"{o.unexpected_count} unexpected" if o.unexpected_count is not None else ""
            lines.append(f"- [{o.severity.upper()}] {o.expectation}{where}: {count}".rstrip(": "))
            lines.append(f"    {o.detail}")
            if o.sample:
                sample = json.dumps(o.sample[:5], ensure_ascii=False, default=str)
                lines.append(f"    sample: {sample}")
        for o in self.outcomes:
            if o.overridden:
                lines.append(
                    f"- [OVERRIDDEN] {o.expectation}: passed with operator override "
                    f"({o.override_reason}); {o.detail}"
                )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "suite": self.suite,
            "mart": self.mart,
            "rows": self.rows,
            "passed": self.passed,
            "outcomes": [asdict(o) for o in self.outcomes],
            **({} if self.custom_rows is None else {
                "custom_checks_read": {"kpis": self.custom_kpis, "rows": self.custom_rows}}),
        }


GX_CHECK_NAME = "gx_suite"  # the asset check that runs a mart's GX suite
GREAT_EXPECTATIONS = "great_expectations"
DBT_TEST = "dbt_test"
NON_BLOCKING_SEVERITIES = frozenset({"WARN", "WARNING"})


@dataclass(frozen=True)
class CheckResult:
    """One blocking check's verdict on one build of a mart, from the gate to the manifest.

    The gate makes them from the evaluations it verified (they checked the current build);
    the publisher refuses on any failed one and records them in the manifest as `to_dict()`.
    `suite` is the GX suite's `SuiteResult.to_dict()` (None for a dbt test).
    """

    asset: str
    check: str
    kind: str  # GREAT_EXPECTATIONS | DBT_TEST
    passed: bool
    severity: str  # Dagster's AssetCheckSeverity value: "ERROR" | "WARN"
    suite: dict | None = None

    @property
    def name(self) -> str:
        return f"{self.asset}:{self.check}"

    @property
    def blocking_failure(self) -> bool:
        suite_failed = self.suite is not None and self.suite.get("passed") is False
        own_failed = not self.passed and self.severity.upper() not in NON_BLOCKING_SEVERITIES
        return own_failed or suite_failed

    def overridden(self) -> list[dict]:
        """Expectations that passed only because an operator overrode them, with the reason."""
        return [
            {"check": self.name, "expectation": o.get("expectation"),
             "reason": o.get("override_reason")}
            for o in (self.suite or {}).get("outcomes", []) or []
            if o.get("overridden")
        ]

    def to_dict(self) -> dict:
        entry: dict = {
            "asset": self.asset,
            "check": self.check,
            "kind": self.kind,
            "passed": self.passed,
            "severity": self.severity,
        }
        if self.suite is not None:
            entry["suite"] = self.suite
        return entry


# The one vocabulary of a check's verdict, for the run's summary, `status` and the docs:
# failed (blocks), warned (a non-blocking check that failed, or a GX suite whose
# warning-level expectations failed: it passes, and says so), passed.
OUTCOMES = ("passed", "failed", "warned")


def check_outcome(passed: bool, severity: str, warnings: int = 0) -> str:
    if not passed:
        return "warned" if severity.upper() in NON_BLOCKING_SEVERITIES else "failed"
    return "warned" if warnings else "passed"


def suite_warnings(suite: dict | None) -> int:
    """Warning-level expectations that failed in a suite's `to_dict()` (0 for a dbt test)."""
    return sum(1 for o in (suite or {}).get("outcomes", []) or []
               if not o.get("success") and o.get("severity") != ERROR)


def count_outcomes(outcomes: list[str]) -> str:
    """`390 passed, 0 failed, 0 warned`."""
    return ", ".join(f"{outcomes.count(o)} {o}" for o in OUTCOMES)
