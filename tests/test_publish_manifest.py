"""Reading check results and dbt docs in the shapes the publish asset hands over."""

from __future__ import annotations

import pyarrow as pa

from pipelines.publish.dictionary import dictionary_records
from pipelines.publish.manifest import blocking_failures, overridden_checks

SUITE_OK = {"suite": "dim_kpi", "mart": "dim_kpi", "rows": 3, "passed": True, "outcomes": []}


def _entry(passed: bool, severity: str = "ERROR", suite: dict | None = None) -> dict:
    entry = {
        "asset": "dim_kpi",
        "check": "gx_suite",
        "kind": "great_expectations",
        "passed": passed,
        "severity": severity,
    }
    return entry if suite is None else {**entry, "suite": suite}


def test_blocking_failures_ignore_warn_severity_dbt_tests() -> None:
    assert blocking_failures([_entry(False, "WARN"), _entry(True, suite=SUITE_OK)], None) == []


def test_blocking_failures_name_a_failed_error_check() -> None:
    assert blocking_failures([_entry(False)], None) == ["dim_kpi:gx_suite"]


def test_blocking_failures_read_a_nested_failed_suite() -> None:
    failed_suite = {**SUITE_OK, "passed": False}
    assert blocking_failures([_entry(True, suite=failed_suite)], None) == ["dim_kpi:gx_suite"]
    assert blocking_failures([failed_suite], {"passed": True}) == ["dim_kpi"]
    assert blocking_failures([SUITE_OK], {"passed": False}) == ["dbt tests"]


def test_overridden_checks_found_in_nested_suite() -> None:
    outcome = {
        "expectation": "expect_table_row_count_to_be_between",
        "overridden": True,
        "override_reason": "scope cut",
    }
    suite = {**SUITE_OK, "outcomes": [outcome, {"expectation": "x", "overridden": False}]}
    assert overridden_checks([_entry(True, suite=suite)]) == [
        {"check": "dim_kpi:gx_suite", "expectation": outcome["expectation"], "reason": "scope cut"}
    ]


def test_dictionary_records_accept_dbt_manifest_shaped_docs() -> None:
    table = pa.table({"kpi_id": ["N1"], "direction": ["higher_better"]})
    docs = {
        "dim_kpi": {
            "description": "KPIs",
            "columns": {"direction": {"description": "Är högre bättre?", "data_type": "varchar"}},
        }
    }
    records = dictionary_records({"dim_kpi": table}, docs)
    assert [(r["column"], r["description"]) for r in records] == [
        ("kpi_id", ""),
        ("direction", "Är högre bättre?"),
    ]
    assert records[1]["header_sv"] == "Riktning (högre/lägre är bättre)"
