"""The manifest reads the gate's CheckResults; the dictionary comes from the contract."""

from __future__ import annotations

import pyarrow as pa

from pipelines.checks.results import DBT_TEST, GREAT_EXPECTATIONS, CheckResult
from pipelines.publish.attribution import KOLADA, OWN, column_credit
from pipelines.publish.dictionary import dictionary_records
from pipelines.publish.manifest import blocking_failures, overridden_checks

SUITE_OK = {"suite": "dim_kpi", "mart": "dim_kpi", "rows": 3, "passed": True, "outcomes": []}


def _result(passed: bool, severity: str = "ERROR", suite: dict | None = None) -> CheckResult:
    kind = GREAT_EXPECTATIONS if suite is not None else DBT_TEST
    check = "gx_suite" if suite is not None else "not_null_dim_kpi_kpi_id"
    return CheckResult("dim_kpi", check, kind, passed, severity, suite)


def test_blocking_failures_ignore_warn_severity_dbt_tests() -> None:
    assert blocking_failures([_result(False, "WARN"), _result(True, suite=SUITE_OK)]) == []


def test_blocking_failures_name_a_failed_error_check() -> None:
    assert blocking_failures([_result(False)]) == ["dim_kpi:not_null_dim_kpi_kpi_id"]


def test_blocking_failures_read_a_failed_suite_even_if_the_check_said_passed() -> None:
    failed_suite = {**SUITE_OK, "passed": False}
    assert blocking_failures([_result(True, suite=failed_suite)]) == ["dim_kpi:gx_suite"]


def test_check_result_to_dict_is_the_manifest_entry() -> None:
    assert _result(True, suite=SUITE_OK).to_dict() == {
        "asset": "dim_kpi", "check": "gx_suite", "kind": "great_expectations",
        "passed": True, "severity": "ERROR", "suite": SUITE_OK,
    }
    assert "suite" not in _result(True).to_dict()


def test_overridden_checks_found_in_the_suite() -> None:
    outcome = {
        "expectation": "expect_table_row_count_to_be_between",
        "overridden": True,
        "override_reason": "scope cut",
    }
    suite = {**SUITE_OK, "outcomes": [outcome, {"expectation": "x", "overridden": False}]}
    assert overridden_checks([_result(True, suite=suite)]) == [
        {"check": "dim_kpi:gx_suite", "expectation": outcome["expectation"], "reason": "scope cut"}
    ]


def test_dictionary_records_come_from_the_contract() -> None:
    table = pa.table({"kpi_id": ["N1"], "direction": ["higher_better"], "brand_new": [1]})
    records = dictionary_records({"dim_kpi": table})
    assert [(r["column"], r["header_sv"], r["credit"]) for r in records] == [
        ("kpi_id", "Nyckeltal id", ""),
        ("direction", "Riktning (högre/lägre är bättre)", OWN),
        ("brand_new", "brand_new", OWN),  # not in the contract: named as is, never Kolada's
    ]
    assert records[0]["description"] == 'Kolada KPI id ("N15428").'
    assert records[1]["type"] == "string" and records[2]["type"] == "int64"
    assert records[2]["description"] == "" and records[2]["unit"] == ""


def test_dictionary_records_carry_the_contract_units() -> None:
    table = pa.table({"population": [1.0], "population_year": [2025]})
    records = dictionary_records({"dim_municipality": table})
    assert [(r["unit"], r["credit"]) for r in records] == [("invånare", KOLADA), ("", OWN)]


def test_column_credit_reads_the_contract_class() -> None:
    assert column_credit("mart_kkik_scorecard", "value") == KOLADA
    assert column_credit("mart_kkik_scorecard", "rank") == OWN
    assert column_credit("mart_kkik_scorecard", "year") == ""
    assert column_credit("mart_kkik_scorecard", "brand_new") == OWN
