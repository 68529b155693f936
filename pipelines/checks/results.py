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
        }
