"""The mart suites in expectations/ and every expectation type they use, run on small frames.

Some GX 1.24 expectations cannot run on pandas (UnexpectedRowsExpectation needs SQL), so each
type a suite uses is probed here once on rows that must pass and once on rows that must fail;
a test then refuses any suite type that is not probed. GX runs are shared by module fixtures
to keep the file fast.
"""

from __future__ import annotations

import json
import keyword
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.checks import custom
from pipelines.checks.contract import load_contract
from pipelines.checks.results import CheckReference, SuiteResult
from pipelines.checks.runner import available_suites, load_suite, run_suite

REPO = Path(__file__).resolve().parents[1]
EXPECTATIONS = REPO / "expectations"
TODAY = date(2026, 6, 1)  # min_fresh_year = 2024 with the default 2-year lag
MUNICIPALITY_IDS = {"0000", "0001", "0012", "0180", "1280"}


# --- the contract (docs/marts.md), parsed so that a suite typo is caught -----------------------


CONTRACT = load_contract()
KEYS = {mart: c.key for mart, c in CONTRACT.items()}
COLUMNS = {mart: c.columns for mart, c in CONTRACT.items()}


def _condition_columns(condition: str) -> set[str]:
    names = re.findall(r"(?<![\w.'\"])([A-Za-z_]\w*)(?![\w'\"(])", condition)
    return {n for n in names if not keyword.iskeyword(n)}


def referenced_columns(entry: dict) -> set[str]:
    """Every column an expectation or custom check names in its kwargs."""
    kw = entry.get("kwargs", {})
    cols: set[str] = set()
    for name in (
        "column",
        "column_A",
        "column_B",
        "total",
        "rank_column",
        "colour_column",
        "unit_column",
    ):
        if isinstance(kw.get(name), str):
            cols.add(kw[name])
    for name in ("column_list", "columns", "group_by"):
        cols.update(kw.get(name) or [])
    if isinstance(kw.get("row_condition"), str):
        cols |= _condition_columns(kw["row_condition"])
    return cols


def test_contract_parser_finds_every_mart_and_its_columns() -> None:
    assert len(KEYS) == 8 and set(COLUMNS) == set(KEYS)
    assert "rank" in COLUMNS["mart_kkik_scorecard"]
    assert "higher_better" not in COLUMNS["dim_kpi"]  # an allowed value, not a column
    for mart, key in KEYS.items():
        assert set(key) <= set(COLUMNS[mart]), mart


def test_suites_exist_for_exactly_the_published_marts() -> None:
    assert available_suites(EXPECTATIONS) == sorted(KEYS)


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_suite_references_only_contract_columns(mart: str) -> None:
    suite = load_suite(mart, EXPECTATIONS)
    used: set[str] = set()
    for entry in [*suite["expectations"], *suite["custom_checks"]]:
        used |= referenced_columns(entry)
    assert used - set(COLUMNS[mart]) == set()


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_suite_checks_uniqueness_and_not_null_of_the_contract_key(mart: str) -> None:
    suite = load_suite(mart, EXPECTATIONS)
    unique = [
        e["kwargs"].get("column_list") or [e["kwargs"]["column"]]
        for e in suite["expectations"]
        if e["type"]
        in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique")
    ]
    not_null = {
        e["kwargs"]["column"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_not_be_null" and "row_condition" not in e["kwargs"]
    }
    assert KEYS[mart] in unique
    assert set(KEYS[mart]) <= not_null


@pytest.mark.parametrize("mart", sorted(KEYS))
def test_suite_row_count_band_everywhere_but_revisions(mart: str) -> None:
    suite = load_suite(mart, EXPECTATIONS)
    banded = [e for e in suite["expectations"] if e["meta"].get("overridable") == "row_count"]
    freshness = [e for e in suite["expectations"] if e["type"] == "expect_column_max_to_be_between"]
    assert len(banded) == (0 if mart == "mart_revisions" else 1)
    assert all(e["meta"]["severity"] == "warning" for e in freshness)


# --- every expectation type, once passing and once failing -------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 1, 1, tzinfo=UTC)
GOOD = pd.DataFrame(
    {
        "id": ["0180", "1280", "0001", "0012", "0000"],
        "grp": ["a", "a", "b", "b", "c"],
        "seq": [1, 2, 1, 2, 1],
        "code": ["0180", "1280", "0001", "0012", "0000"],
        "flag": [True, True, False, False, False],
        "rank": pd.array([1, 2, None, None, None], dtype="Int64"),
        "direction": ["higher_better", "lower_better", "not_ranked", "not_ranked", None],
        "colour": ["green", "red", None, None, None],
        "n": [0, 5, 7, 9, 2],
        "p": [0.0, 0.5, 1.0, None, 0.25],
        "hi": [3, 2, None, 4, 9],
        "lo": [3, 1, 5, None, 8],
        "t_new": [T1, T1, None, T1, T0],
        "t_old": [T0, T1, T0, None, T0],
        "year": [2023, 2024, 2025, 2025, 2020],
    }
)
BAD = pd.DataFrame(
    {
        "id": ["0180", "180", "9999"],
        "grp": ["a", "a", "a"],
        "seq": [1, 1, 2],
        "code": ["0180", "0012", "0001"],
        "flag": [True, False, True],
        "rank": pd.array([1, 1, None], dtype="Int64"),
        "direction": ["not_ranked", "sideways", "not_ranked"],
        "colour": ["green", "blue", "grey"],
        "n": [-1, 0, 1],
        "p": [0.5, 1.5, None],
        "hi": [1, 2, 3],
        "lo": [2, 1, 3],
        "t_new": [T0, T1, T1],
        "t_old": [T1, T0, T0],
        "year": [2019, 2020, 2021],
    }
)
BAD.loc[2, "id"] = None  # not-null probe: one missing key
COND = {"condition_parser": "pandas"}
PROBES: dict[str, dict] = {
    "not_null": {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
    "not_null_where": {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "rank", "row_condition": "flag == True", **COND},
    },
    "unique": {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "rank"}},
    "compound_unique": {
        "type": "expect_compound_columns_to_be_unique",
        "kwargs": {"column_list": ["grp", "seq"]},
    },
    "regex": {
        "type": "expect_column_values_to_match_regex",
        "kwargs": {"column": "id", "regex": r"^\d{4}$"},
    },
    "not_regex_where": {
        "type": "expect_column_values_to_not_match_regex",
        "kwargs": {
            "column": "code",
            "regex": r"^00\d{2}$",
            "row_condition": "flag == True",
            **COND,
        },
    },
    "in_set": {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "colour", "value_set": ["green", "yellow", "red", "grey"]},
    },
    "in_set_parameter": {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "id", "value_set": {"$PARAMETER": "municipality_ids"}},
    },
    "in_set_where_ranked": {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {
            "column": "direction",
            "value_set": ["higher_better", "lower_better"],
            "row_condition": "rank.notna()",
            **COND,
        },
    },
    "null_where": {
        "type": "expect_column_values_to_be_null",
        "kwargs": {"column": "colour", "row_condition": "direction == 'not_ranked'", **COND},
    },
    "between_min": {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "n", "min_value": 0},
    },
    "between_min_max": {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "p", "min_value": 0, "max_value": 1},
    },
    "pair_numbers": {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "kwargs": {
            "column_A": "hi",
            "column_B": "lo",
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    },
    "pair_timestamps": {
        "type": "expect_column_pair_values_a_to_be_greater_than_b",
        "kwargs": {
            "column_A": "t_new",
            "column_B": "t_old",
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    },
    "row_count_parameter": {
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": {"$PARAMETER": "min_row_count"}},
    },
    "max_parameter": {
        "type": "expect_column_max_to_be_between",
        "kwargs": {"column": "year", "min_value": {"$PARAMETER": "min_fresh_year"}},
    },
}


def _run_probes(tmp: Path, df: pd.DataFrame) -> dict[str, object]:
    suite = {
        "name": "probe",
        "meta": {"row_count_max_drop": 0.2},
        "expectations": [{**p, "meta": {"severity": "error"}} for p in PROBES.values()],
    }
    (tmp / "probe.json").write_text(json.dumps(suite), encoding="utf-8")
    ref = CheckReference(MUNICIPALITY_IDS, previous_row_count=5, today=TODAY)
    result = run_suite("probe", df, expectations_dir=tmp, reference=ref)
    return dict(zip(PROBES, result.outcomes))


@pytest.fixture(scope="module")
def good_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run_probes(tmp_path_factory.mktemp("good"), GOOD)


@pytest.fixture(scope="module")
def bad_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run_probes(tmp_path_factory.mktemp("bad"), BAD)


@pytest.mark.parametrize("probe", list(PROBES))
def test_expectation_passes_on_valid_rows(probe: str, good_outcomes: dict) -> None:
    outcome = good_outcomes[probe]
    assert outcome.success, outcome.detail


@pytest.mark.parametrize("probe", list(PROBES))
def test_expectation_fails_on_invalid_rows(probe: str, bad_outcomes: dict) -> None:
    outcome = bad_outcomes[probe]
    assert not outcome.success
    assert "could not be evaluated" not in outcome.detail  # failed on data, not on GX itself


def test_suites_use_only_probed_expectation_types() -> None:
    probed = {p["type"] for p in PROBES.values()}
    used = {
        e["type"]
        for mart in available_suites(EXPECTATIONS)
        for e in load_suite(mart, EXPECTATIONS)["expectations"]
    }
    assert used - probed == set()


def test_unexpected_rows_expectation_cannot_run_on_pandas(tmp_path: Path) -> None:
    """Why no suite uses it: GX 1.24 has no pandas provider for its SQL query."""
    suite = {
        "expectations": [
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": "select * from {batch} where n < 0"},
            }
        ]
    }
    (tmp_path / "rows.json").write_text(json.dumps(suite), encoding="utf-8")
    ref = CheckReference(MUNICIPALITY_IDS, today=TODAY)
    (outcome,) = run_suite("rows", GOOD, expectations_dir=tmp_path, reference=ref).outcomes
    assert not outcome.success and "could not be evaluated" in outcome.detail


# --- custom checks (pure functions, no GX) -------------------------------------------------------

REF = CheckReference(MUNICIPALITY_IDS, today=TODAY, kpi_units={"N1": "andel (%)", "N2": "kr/inv"})


def test_columns_sum_to_column_passes_when_counts_add_up() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": [3, None], "total": [4, 2]})
    out = custom.columns_sum_to_column(df, {"columns": ["a", "b"], "total": "total"}, REF)
    assert out.success and out.unexpected_count == 0


def test_columns_sum_to_column_fails_and_names_the_rows() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": [3, 1], "total": [4, 2]})
    out = custom.columns_sum_to_column(df, {"columns": ["a", "b"], "total": "total"}, REF)
    assert not out.success and out.unexpected_count == 1 and out.sample[0]["a"] == 2


def test_shares_within_bounds_uses_kpi_units_without_unit_column() -> None:
    df = pd.DataFrame({"kpi_id": ["N1", "N2", "N1"], "value": [50.0, 900.0, 101.0]})
    out = custom.shares_within_bounds(df, {"columns": ["value"]}, REF)
    assert not out.success and out.unexpected_count == 1
    assert custom.shares_within_bounds(df.iloc[:2], {"columns": ["value"]}, REF).success


def test_colour_consistent_with_rank_flags_unranked_green_and_passes_consistent_rows() -> None:
    df = pd.DataFrame(
        {
            "kpi_id": ["N1"] * 3,
            "year": [2025] * 3,
            "rank": [1, 2, None],
            "colour": ["green", "red", None],
        }
    )
    assert custom.colour_consistent_with_rank(df, {}, REF).success
    df.loc[2, "colour"] = "green"
    out = custom.colour_consistent_with_rank(df, {}, REF)
    assert not out.success and out.unexpected_count == 1


# --- the real suites on valid samples of each mart ------------------------------------------------

TS = pd.Timestamp("2025-03-01T12:00:00Z")
SAMPLES: dict[str, dict[str, list]] = {
    "dim_municipality": {
        "municipality_id": ["0000", "0001", "0180"],
        "municipality_name": ["Riket", "Region Stockholm", "Stockholm"],
        "municipality_type": ["L", "L", "K"],
        "is_riket": [True, False, False],
        "county_id": [None, "0001", "0001"],
        "county_name": [None, "Region Stockholm", "Region Stockholm"],
        "kommungrupp_id": [None, None, "G92786"],
        "kommungrupp_code": [None, None, "A1"],
        "kommungrupp_name": [None, None, "Storstäder"],
        "kommungrupp_edition": [None, None, 2023],
        "population": [10_500_000.0, 2_450_000.0, 988_000.0],
        "population_year": [2025, 2025, 2025],
        "liknande_kommuner": [None, None, "1480,1280,0380,0580,0680,1880,2480"],
        "liknande_kommuner_year": [None, None, 2025],
    },
    "dim_kpi": {
        "kpi_id": ["N15428", "N01951", "U00001"],
        "title": [
            "Elever i åk 9 som uppnått kunskapskraven, andel (%)",
            "Invånare totalt, antal",
            "Kostnad, kr/inv",
        ],
        "description": ["…", "…", "…"],
        "unit": ["andel (%)", "antal", "kr/inv"],
        "operating_area": ["Grundskola", "Befolkning", "Ekonomi"],
        "perspective": ["Kvalitet och resultat", "Volymer", "Resurser"],
        "is_divided_by_gender": [True, True, False],
        "publication_date": ["2026-05-01", None, None],
        "publ_period": [2025, None, None],
        "is_kkik": [True, False, True],
        "kkik_area": ["Barn och unga", None, "Samhälle och miljö"],
        "kkik_first_year": [2018, None, 2020],
        "kkik_last_year": [2025, None, 2025],
        "direction": ["higher_better", None, "not_ranked"],
        "direction_source": ["curated", None, "inferred"],
    },
    "fct_kpi_values": {
        "entity_key": ["N15428|0180|2025|T", "N15428|0180|2025|K"],
        "kpi_id": ["N15428", "N15428"],
        "municipality_id": ["0180", "0180"],
        "period": [2025, 2025],
        "gender": ["T", "K"],
        "value": [82.5, None],
        "status": [None, "Saknas"],
        "value_count": [1, 0],
        "first_recorded_at": [TS, TS],
        "last_revised_at": [TS, TS + pd.Timedelta(days=3)],
        "revision_count": [0, 1],
        "source_url": ["https://api.kolada.se/v3/data/kpi/N15428/year/2025"] * 2,
    },
    "mart_kkik_scorecard": {
        "municipality_id": ["0180", "1280", "0180"],
        "municipality_name": ["Stockholm", "Malmö", "Stockholm"],
        "kpi_id": ["N15428", "N15428", "U00001"],
        "kpi_title": ["Elever åk 9, andel (%)"] * 2 + ["Kostnad, kr/inv"],
        "kkik_area": ["Barn och unga", "Barn och unga", "Samhälle och miljö"],
        "unit": ["andel (%)", "andel (%)", "kr/inv"],
        "direction": ["higher_better", "higher_better", "not_ranked"],
        "year": [2025, 2025, 2025],
        "value": [82.5, 71.0, -1200.5],
        "value_y1": [80.0, 72.0, None],
        "value_y2": [79.0, None, None],
        "rank": pd.array([1, 2, None], dtype="Int64"),
        "ranked_count": pd.array([2, 2, None], dtype="Int64"),
        "percentile": [0.0, 1.0, None],
        "colour": ["green", "red", None],
        "change": ["Upp", "Ned", "Ingen"],
        "riket_value": [75.0, 75.0, None],
        "kommungrupp_mean": [76.0, 70.0, None],
        "kommungrupp_median": [76.0, 70.0, None],
        "liknande_mean": [77.0, 71.5, None],
        "liknande_median": [77.0, 71.5, None],
        "county_mean": [78.0, 70.1, None],
        "county_median": [78.0, 70.1, None],
    },
    "mart_kkik_peer_values": {
        "municipality_id": ["0180", "0180"],
        "kpi_id": ["N15428", "N15428"],
        "year": [2025, 2025],
        "peer_set_type": ["kommungrupp", "county"],
        "peer_set_id": ["G92786", "0001"],
        "peer_set_name": ["Storstäder", "Region Stockholm"],
        "value": [82.5, 82.5],
        "peer_mean": [76.0, 78.0],
        "peer_median": [76.0, 78.0],
        "peers_with_value": [3, 26],
    },
    "mart_kkik_colour_counts": {
        "municipality_id": ["0180", "0180"],
        "municipality_name": ["Stockholm", "Stockholm"],
        "year": [2025, 2025],
        "kkik_area": ["Barn och unga", "Samhälle och miljö"],
        "green": [1, 0],
        "yellow": [2, 0],
        "red": [0, 1],
        "grey": [1, 0],
        "not_ranked": [0, 1],
        "kpis": [4, 2],
    },
    "mart_kpi_trends": {
        "municipality_id": ["0180", "0180"],
        "kpi_id": ["N15428", "U00001"],
        "direction": ["higher_better", "not_ranked"],
        "first_year": [2018, 2020],
        "last_year": [2025, 2025],
        "n_values": [8, 6],
        "slope": [0.8, -3.5],
        "trend": ["improving", None],
        "latest_value": [82.5, -1200.5],
        "riket_latest_value": [75.0, None],
        "years_better_than_riket": [3, 0],
        "steady_improvement": [True, False],
    },
    "mart_revisions": {
        "change_type": ["value_revised", "kpi_retitled"],
        "entity_key": ["N15428|0180|2024|T", "N15428"],
        "kpi_id": ["N15428", "N15428"],
        "municipality_id": ["0180", None],
        "period": [2024, None],
        "gender": ["T", None],
        "old_value": [80.0, None],
        "new_value": [80.5, None],
        "old_title": [None, "Elever åk 9"],
        "new_title": [None, "Elever i åk 9, andel (%)"],
        "old_recorded_at": [TS, TS],
        "new_recorded_at": [TS + pd.Timedelta(days=30), TS + pd.Timedelta(days=30)],
    },
}
SAMPLE_REF = CheckReference(
    MUNICIPALITY_IDS, today=TODAY, kpi_units={"N15428": "andel (%)", "U00001": "kr/inv"}
)


def test_samples_cover_the_contract_columns() -> None:
    assert {m: list(cols) for m, cols in SAMPLES.items()} == COLUMNS


@pytest.mark.parametrize("mart", sorted(SAMPLES))
def test_suite_passes_a_valid_sample(mart: str) -> None:
    """Through DuckDB and back, so the frame has the dtypes the caller's `.df()` hands over."""
    sample = pd.DataFrame(SAMPLES[mart])  # noqa: F841 - read by DuckDB's replacement scan
    df = duckdb.sql("select * from sample").df()
    result = run_suite(mart, df, expectations_dir=EXPECTATIONS, reference=SAMPLE_REF)
    assert result.passed and not result.failures, result.summary()


def _kpis(n: int) -> pd.DataFrame:
    """n valid dim_kpi rows (the non-KKiK sample row with fresh ids)."""
    row = pd.DataFrame(SAMPLES["dim_kpi"]).iloc[[1]]
    return pd.concat([row] * n, ignore_index=True).assign(kpi_id=[f"N{i:05d}" for i in range(n)])


def _row_count_outcome(result: SuiteResult):
    return next(
        o for o in result.outcomes if o.expectation == "expect_table_row_count_to_be_between"
    )


def test_row_count_drop_of_30_percent_blocks() -> None:
    ref = CheckReference(MUNICIPALITY_IDS, previous_row_count=10, today=TODAY)
    result = run_suite("dim_kpi", _kpis(7), expectations_dir=EXPECTATIONS, reference=ref)
    assert not result.passed and not _row_count_outcome(result).success


def test_row_count_override_passes_and_records_the_reason() -> None:
    ref = CheckReference(
        MUNICIPALITY_IDS,
        previous_row_count=10,
        row_count_override_reason="KPI scope cut by decision 2026-05",
        today=TODAY,
    )
    result = run_suite("dim_kpi", _kpis(7), expectations_dir=EXPECTATIONS, reference=ref)
    outcome = _row_count_outcome(result)
    assert result.passed and outcome.overridden
    assert "KPI scope cut" in json.dumps(result.to_dict(), ensure_ascii=False)


def test_row_count_small_drop_passes() -> None:
    ref = CheckReference(MUNICIPALITY_IDS, previous_row_count=10, today=TODAY)
    result = run_suite("dim_kpi", _kpis(9), expectations_dir=EXPECTATIONS, reference=ref)
    assert result.passed and _row_count_outcome(result).success


def test_stale_newest_period_warns_without_blocking() -> None:
    df = pd.DataFrame(SAMPLES["mart_kkik_colour_counts"]).assign(year=[2019, 2020])
    result = run_suite(
        "mart_kkik_colour_counts", df, expectations_dir=EXPECTATIONS, reference=SAMPLE_REF
    )
    (failed,) = result.failures
    assert failed.expectation == "expect_column_max_to_be_between" and failed.severity == "warning"
    assert result.passed


def test_scorecard_ranked_row_without_direction_blocks() -> None:
    df = pd.DataFrame(SAMPLES["mart_kkik_scorecard"])
    df.loc[0, "direction"] = "not_ranked"
    result = run_suite(
        "mart_kkik_scorecard", df, expectations_dir=EXPECTATIONS, reference=SAMPLE_REF
    )
    failed = {(o.expectation, o.column) for o in result.failures}
    assert ("expect_column_values_to_be_in_set", "direction") in failed and not result.passed


def test_dim_kpi_kkik_kpi_without_direction_blocks() -> None:
    df = pd.DataFrame(SAMPLES["dim_kpi"])
    df.loc[0, ["direction", "direction_source"]] = None
    result = run_suite("dim_kpi", df, expectations_dir=EXPECTATIONS, reference=SAMPLE_REF)
    assert [(o.expectation, o.column) for o in result.failures] == [
        ("expect_column_values_to_not_be_null", "direction")
    ]
