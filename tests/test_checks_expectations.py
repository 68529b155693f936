"""The mart suites in expectations/ and every expectation type they use, run on small frames.

The marts' contract (pipelines/warehouse/marts.py, read from the dbt yml) names the columns; row-level
rules are dbt data tests in that yml, so the suites keep only what dbt cannot state, and the
tests here hold both halves: the suites' shape, each GX expectation type probed once on rows
that must pass and once on rows that must fail (some GX 1.24 expectations cannot run on pandas:
UnexpectedRowsExpectation needs SQL), and, in the slow test at the end, the marts' dbt tests on
the same samples. GX runs are shared by module fixtures to keep the file fast.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from pipelines.checks import custom
from pipelines.checks.results import CheckReference, SuiteResult
from pipelines.checks.runner import available_suites, load_suite, run_suite
from pipelines.sources.kolada.streams import KPI, KPI_VALUE
from pipelines.warehouse.marts import CREDITS, MODELS_FILE, PUBLISHED_MARTS, mart_contracts

REPO = Path(__file__).resolve().parents[1]
EXPECTATIONS = REPO / "expectations"
DBT_PROJECT = REPO / "dbt_project"
TODAY = date(2026, 6, 1)  # min_fresh_year = 2024 with the default 2-year lag
MUNICIPALITY_IDS = {"0000", "0001", "0012", "0180", "1280"}


# --- the contract (the marts' dbt yml), so that a suite typo is caught -------------------------


CONTRACTS = mart_contracts()
KEYS = {mart: list(c.key) for mart, c in CONTRACTS.items()}
COLUMNS = {mart: list(c.column_names) for mart, c in CONTRACTS.items()}
RAW_MODELS = {
    m["name"]: m for m in yaml.safe_load(MODELS_FILE.read_text(encoding="utf-8"))["models"]
}
# What only GX can hold: values dbt never sees (the previous publication, today's date), and
# distribution checks; cross-row and reference-data rules are custom_checks.
GX_ONLY_PARAMETERS = {
    "expect_table_row_count_to_be_between": "min_row_count",
    "expect_column_max_to_be_between": "min_fresh_year",
}
GX_DISTRIBUTION_TYPES = {
    "expect_column_mean_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_stdev_to_be_between",
    "expect_column_quantile_values_to_be_between",
    "expect_column_kl_divergence_to_be_less_than",
}


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


def test_every_published_mart_has_a_contract_and_a_suite() -> None:
    assert PUBLISHED_MARTS and set(PUBLISHED_MARTS) == set(CONTRACTS)
    assert available_suites(EXPECTATIONS) == sorted(PUBLISHED_MARTS)


def test_every_contract_column_has_a_swedish_header_and_a_credit() -> None:
    """Read from the raw yml, so a reader default cannot hide a missing entry."""
    for mart in PUBLISHED_MARTS:
        for column in RAW_MODELS[mart]["columns"]:
            meta = column.get("config", {}).get("meta", {})
            where = f"{mart}.{column['name']}"
            assert isinstance(meta.get("header_sv"), str) and meta["header_sv"].strip(), where
            assert meta.get("credit") in CREDITS, where
            assert set(meta) <= {"header_sv", "unit", "credit"}, where


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_contract_key_is_unique_and_not_null_in_dbt(mart: str) -> None:
    model = RAW_MODELS[mart]
    tests = {c["name"]: c.get("data_tests") or [] for c in model["columns"]}
    for column in KEYS[mart]:
        assert "not_null" in tests[column], f"{mart}.{column}: no dbt not_null test"
    if len(KEYS[mart]) == 1:
        assert "unique" in tests[KEYS[mart][0]]
    else:
        combos = [
            t["unique_combination"]["arguments"]["columns"]
            for t in model.get("data_tests") or []
            if isinstance(t, dict) and "unique_combination" in t
        ]
        assert KEYS[mart] in combos


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_suite_references_only_contract_columns(mart: str) -> None:
    suite = load_suite(mart, EXPECTATIONS)
    used: set[str] = set()
    for entry in [*suite["expectations"], *suite["custom_checks"]]:
        used |= referenced_columns(entry)
    assert used - set(COLUMNS[mart]) == set()


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_suite_says_why_each_rule_is_in_gx(mart: str) -> None:
    suite = load_suite(mart, EXPECTATIONS)
    assert len(suite["meta"].get("why_gx", "")) > 20, f"{mart}: no meta.why_gx"
    for entry in [*suite["expectations"], *suite["custom_checks"]]:
        meta = entry.get("meta", {})
        assert meta.get("severity") in ("error", "warning"), entry["type"]
        assert "in GX because" in meta.get("description", ""), (
            f"{mart}: {entry['type']} needs a meta.description saying why it is in GX "
            "(row-level rules belong in dbt_project/models/marts/_marts__models.yml)"
        )


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_suite_holds_only_what_dbt_cannot_state(mart: str) -> None:
    for entry in load_suite(mart, EXPECTATIONS)["expectations"]:
        kind, kwargs = entry["type"], json.dumps(entry["kwargs"])
        if kind in GX_DISTRIBUTION_TYPES:
            continue
        assert kind in GX_ONLY_PARAMETERS, f"{mart}: {kind} is row-level: make it a dbt test"
        assert f'"$PARAMETER": "{GX_ONLY_PARAMETERS[kind]}"' in kwargs, (mart, kind)
        assert "row_condition" not in entry["kwargs"], (mart, kind)


CHANGE_MARTS = {"mart_revisions", "mart_rank_changes", "mart_unit_revisions"}


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_suite_row_count_band_everywhere_but_the_change_marts(mart: str) -> None:
    """The marts of what changed since the last publication are as big as the change (empty on
    a quiet night): a band against the previous size would block for no reason."""
    suite = load_suite(mart, EXPECTATIONS)
    banded = [e for e in suite["expectations"] if e["meta"].get("overridable") == "row_count"]
    freshness = [e for e in suite["expectations"] if e["type"] == "expect_column_max_to_be_between"]
    assert len(banded) == (0 if mart in CHANGE_MARTS else 1)
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
        "municipality_id": ["0000", "0001", "0012", "0180", "1280"],
        "municipality_name": ["Riket", "Region Stockholm", "Region Skåne", "Stockholm", "Malmö"],
        "municipality_type": ["L", "L", "L", "K", "K"],
        "is_riket": [True, False, False, False, False],
        "county_id": [None, "0001", "0012", "0001", "0012"],
        "county_name": [None, "Region Stockholm", "Region Skåne", "Region Stockholm", "Skåne"],
        "kommungrupp_id": [None, None, None, "G92786", "G92787"],
        "kommungrupp_code": [None, None, None, "A1", "A1"],
        "kommungrupp_name": [None, None, None, "Storstäder", "Storstäder"],
        "kommungrupp_edition": [None, None, None, 2023, 2023],
        "population": [10_500_000.0, 2_450_000.0, 1_420_000.0, 988_000.0, 357_377.0],
        "population_year": [2025, 2025, 2025, 2025, 2025],
        "liknande_kommuner": [None, None, None, "1480,1280,0380,0580,0680,1880,2480", "1480, 0180"],
        "liknande_kommuner_year": [None, None, None, 2025, 2025],
        "age_structure_year": [2024, 2024, 2024, 2024, None],
        "share_0_19": [22.4, 23.9, 23.1, 22.0, None],
        "share_65_plus": [20.2, 17.1, 19.4, 15.0, None],
        "share_80_plus": [5.4, 4.3, 5.1, 4.1, None],
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
        "kkik_area_source": ["skr_kkik_presentation", None, "municipal_kkik_pages"],
        "kkik_first_year": [2018, None, 2020],
        "kkik_last_year": [2025, None, 2025],
        "direction": ["higher_better", None, "not_ranked"],
        "change_direction": ["higher_better", None, "lower_better"],
        "direction_source": ["curated", None, "inferred"],
        "series_start_year": pd.array([2024, None, None], dtype="Int64"),
        "decimals": [1, 0, None],
    },
    "dim_source": {
        "source_id": ["3f2a9c0d4b5e6f70"],
        "source_url": ["https://api.kolada.se/v3/data/kpi/N15428/year/2025"],
        "stream": [KPI_VALUE.name],
        "first_recorded_at": [TS],
        "last_recorded_at": [TS + pd.Timedelta(days=3)],
        "last_batch_id": [f"20250304T120000Z-{KPI_VALUE.name}"],
        "batch_count": [2],
        "event_count": [4],
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
        "source_id": ["3f2a9c0d4b5e6f70"] * 2,
    },
    "mart_kkik_scorecard": {
        "municipality_id": ["0180", "1280", "0180"],
        "municipality_name": ["Stockholm", "Malmö", "Stockholm"],
        "kpi_id": ["N15428", "N15428", "U00001"],
        "kpi_title": ["Elever åk 9, andel (%)"] * 2 + ["Kostnad, kr/inv"],
        "kkik_area": ["Barn och unga", "Barn och unga", "Samhälle och miljö"],
        "unit": ["andel (%)", "andel (%)", "kr/inv"],
        "direction": ["higher_better", "higher_better", "not_ranked"],
        "change_direction": ["higher_better", "higher_better", "lower_better"],
        "is_compared": [True, True, False],
        "year": [2025, 2025, 2025],
        "value": [82.5, 71.0, -1200.5],
        "value_y1": [80.0, 72.0, None],
        "value_y2": [79.0, None, None],
        "rank": pd.array([1, 2, None], dtype="Int64"),
        "ranked_count": pd.array([2, 2, None], dtype="Int64"),
        "percentile": [0.0, 1.0, None],
        "colour": ["green", "red", None],
        "change": ["Upp", "Ned", "Ingen"],
        "y1_across_series_break": [False, False, False],
        "series_start_year": pd.array([None, None, None], dtype="Int64"),
        "riket_value": [75.0, 75.0, None],
        "kommungrupp_name": ["A1 Storstäder (indelning 2023)"] * 2 + [None],
        "kommungrupp_later_edition": [False, False, False],
        "kommungrupp_mean": [76.0, 70.0, None],
        "kommungrupp_median": [76.0, 70.0, None],
        "liknande_later_edition": [False, True, False],
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
        "peer_set_name": ["A1 Storstäder (indelning 2023)", "Region Stockholm"],
        "edition_year": pd.array([2023, None], dtype="Int64"),
        "is_later_edition": [False, False],
        "value": [82.5, 82.5],
        "peer_mean": [76.0, 78.0],
        "peer_median": [76.0, 78.0],
        "peers_with_value": [3, 26],
    },
    "mart_kkik_peer_members": {
        "municipality_id": ["0180"],
        "municipality_name": ["Stockholm"],
        "kpi_id": ["N15428"],
        "year": [2025],
        "peer_set_id": ["G1"],
        "peer_set_name": ["Liknande kommuner, övergripande, Stockholm, 2024"],
        "peer_municipality_id": ["1280"],
        "peer_municipality_name": ["Malmö"],
        "peer_value": [77.0],
        "owner_value": [82.5],
        "peer_rank": [1],
        "peers_with_value": [1],
    },
    "mart_kkik_board": {
        "municipality_id": ["0180", "1280", "0180"],
        "municipality_name": ["Stockholm", "Malmö", "Stockholm"],
        "kkik_area": ["Barn och unga", "Barn och unga", "Samhälle och miljö"],
        "kpi_id": ["N15428", "N15428", "U00001"],
        "kpi_title": ["Elever åk 9, andel (%)"] * 2 + ["Kostnad, kr/inv"],
        "unit": ["andel (%)", "andel (%)", "kr/inv"],
        "direction": ["higher_better", "higher_better", "not_ranked"],
        "year": [2025, 2025, 2025],
        "value": [82.5, 71.0, -1200.5],
        "value_y1": [80.0, 72.0, None],
        "value_y2": [79.0, None, None],
        "change": ["Upp", "Ned", "Ingen"],
        "series_start_year": pd.array([None, None, 2024], dtype="Int64"),
        "across_series_break": [False, False, True],
        "colour": ["green", "red", None],
        "comparison": ["Bästa gruppen", "Sämsta gruppen", "Ej jämförbart"],
        "riket_value": [75.0, 75.0, None],
        "kommungrupp_code": ["A1", "A1", "A1"],
        "kommungrupp_name": ["Storstäder"] * 3,
        "kommungrupp_mean": [76.0, 76.0, None],
        "liknande_set_name": ["Liknande kommuner, övergripande, Stockholm, 2024", None,
                              "Liknande kommuner, övergripande, Stockholm, 2024"],
        "liknande_mean": [77.0, None, None],
        "liknande_names": ["Malmö", None, "Malmö"],
        "liknande_ids": ["1280", None, "1280"],
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
        "change_direction": ["higher_better", "lower_better"],
        "first_year": [2018, 2020],
        "last_year": [2025, 2025],
        "n_values": [8, 6],
        "slope": [0.8, -3.5],
        "trend": ["improving", "improving"],
        "latest_value": [82.5, -1200.5],
        "riket_latest_value": [75.0, None],
        "years_better_than_riket": [3, 0],
        "steady_improvement": [True, False],
    },
    "mart_kpi_wide": {
        "municipality_id": ["0180", "0000"],
        "municipality_name": ["Stockholm", "Riket"],
        "kpi_id": ["N15428", "N15428"],
        "kpi_title": ["Elever åk 9, andel (%)"] * 2,
        "unit": ["andel (%)"] * 2,
        **{f"y{year}": [70.0 + year - 2019, None] for year in range(2019, 2025)},
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
        "old_count": pd.array([10, None], dtype="Int64"),
        "new_count": pd.array([12, None], dtype="Int64"),
        "old_status": [None, None],
        "new_status": [None, None],
        "old_title": [None, "Elever åk 9"],
        "new_title": [None, "Elever i åk 9, andel (%)"],
        "changed_fields": ["value,count", "title"],
        "old_recorded_at": [TS, TS],
        "new_recorded_at": [TS + pd.Timedelta(days=30), TS + pd.Timedelta(days=30)],
        "level": ["kommun", "kpi"],
        "ou_id": [None, None],
        "ou_name": [None, None],
    },
    "mart_rank_changes": {
        "municipality_id": ["0180", "1280"],
        "municipality_name": ["Stockholm", "Malmö"],
        "kpi_id": ["N15428", "N15428"],
        "kpi_title": ["Elever åk 9, andel (%)"] * 2,
        "kkik_area": ["Barn och unga"] * 2,
        "year": [2025, 2025],
        "cause": ["own_value_revised", "others_revised"],
        "causes": ["own_value_revised,others_revised", "others_revised"],
        "others_revised_count": [1, 2],
        "rank_changed": [True, True],
        "colour_changed": [True, False],
        "peer_mean_changed": [False, False],
        "old_value": [70.0, 71.0],
        "new_value": [82.5, 71.0],
        "old_rank": pd.array([2, 1], dtype="Int64"),
        "new_rank": pd.array([1, 2], dtype="Int64"),
        "old_colour": ["red", "green"],
        "new_colour": ["green", "green"],
        "old_kommungrupp_mean": [76.0, 70.0],
        "new_kommungrupp_mean": [76.0, 70.0],
        "old_liknande_mean": [77.0, 71.5],
        "new_liknande_mean": [77.0, 71.5],
        "old_county_mean": [78.0, 70.1],
        "new_county_mean": [78.0, 70.1],
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


# --- the marts' dbt tests (the rules moved out of the suites) on the same samples -------------

# Rows that break every dbt test on the published marts, appended to the valid samples: each
# row names the rules it breaks. A new dbt test on a mart needs a row here that it catches.
# fmt: off
BAD_ROWS: dict[str, list[dict]] = {
    "dim_municipality": [
        # duplicate id; no name; unknown type; county code 0099 (not 0001-0025, not a row);
        # unknown kommungrupp id and code; negative population; malformed peer list; shares
        # outside 0-100
        {"municipality_id": "0180", "municipality_name": None, "municipality_type": "X",
         "is_riket": False, "county_id": "0099", "kommungrupp_id": "G1",
         "kommungrupp_code": "Z9", "population": -1.0, "liknande_kommuner": "0180;1280",
         "share_0_19": -0.5, "share_65_plus": 100.5, "share_80_plus": 101.0},
        # not 4 digits; no type; Riket but not 0000
        {"municipality_id": "12", "municipality_type": None, "is_riket": True},
        # a kommun with a region code 00XX, without a county and without is_riket
        {"municipality_id": "0013", "municipality_type": "K", "is_riket": None},
        # a region that is not Riket without a county
        {"municipality_id": "0014", "municipality_type": "L", "is_riket": False},
        {"municipality_id": None, "municipality_type": "L", "is_riket": False,
         "county_id": "0001"},
    ],
    "dim_kpi": [
        # duplicate id; no title or unit; KKiK without area or direction; years out of order
        {"kpi_id": "N15428", "is_kkik": True, "kkik_first_year": 2025, "kkik_last_year": 2020},
        # malformed id; unknown area, area source and directions; a direction without its source;
        # more decimals than the cap
        {"kpi_id": "X2", "title": "t", "unit": "antal", "is_kkik": None, "kkik_area": "Fritid",
         "kkik_area_source": "hearsay", "direction": "sideways", "change_direction": "sideways",
         "decimals": 7},
        # an area that does not say where it came from
        {"kpi_id": None, "title": "t", "unit": "antal", "is_kkik": False,
         "kkik_area": "Barn och unga", "direction": "not_ranked", "direction_source": "guessed"},
    ],
    "dim_source": [
        # duplicate id and URL; unknown stream; last fetched before first; counts below 1
        {"source_id": "3f2a9c0d4b5e6f70",
         "source_url": "https://api.kolada.se/v3/data/kpi/N15428/year/2025",
         "stream": KPI.name, "first_recorded_at": TS + pd.Timedelta(days=9),
         "last_recorded_at": TS, "last_batch_id": "b", "batch_count": 0, "event_count": 0},
        # malformed id; nothing else stated
        {"source_id": "NOT-A-HASH"},
        {"source_id": None},
    ],
    "fct_kpi_values": [
        # duplicate key and entity_key; negative counts; revised before first seen; a source
        # that is not in dim_source
        {"entity_key": "N15428|0180|2025|T", "kpi_id": "N15428", "municipality_id": "0180",
         "period": 2025, "gender": "T", "value_count": -1, "revision_count": -1,
         "first_recorded_at": TS + pd.Timedelta(days=1), "last_revised_at": TS,
         "source_id": "0000000000000000"},
        {"entity_key": None, "kpi_id": None, "municipality_id": None, "period": None,
         "gender": None},
        # malformed KPI id (not in dim_kpi: warns), municipality not in dim_municipality,
        # not a year, unknown gender
        {"entity_key": "e3", "kpi_id": "X1", "municipality_id": "9999", "period": 1800,
         "gender": "X"},
        {"entity_key": "e4", "kpi_id": "N15428", "municipality_id": "180", "period": 2025,
         "gender": "T"},
    ],
    "mart_kkik_scorecard": [
        # duplicate key; unknown area, colour and change; ranked but not_ranked (and coloured);
        # compared by its edition but not_ranked; rank 0 above a negative ranked_count;
        # percentile above 1
        {"municipality_id": "0180", "kpi_id": "N15428", "year": 2025, "kkik_area": "Fritid",
         "direction": "not_ranked", "is_compared": True, "rank": 0, "ranked_count": -1, "percentile": 1.5,
         "colour": "blue", "change": "Sideways"},
        {"municipality_id": None, "kpi_id": None, "year": None, "kkik_area": None,
         "direction": None, "change": None},
        # malformed ids (in no dim); a ranking direction without a colour
        {"municipality_id": "180", "kpi_id": "X1", "year": 2025, "kkik_area": "Barn och unga",
         "direction": "higher_better", "colour": None, "change": "Upp"},
        # unknown directions; an arrow across a series break
        {"municipality_id": "0180", "kpi_id": "U00001", "year": 2024,
         "kkik_area": "Barn och unga", "direction": "sideways", "change_direction": "sideways",
         "change": "Upp", "y1_across_series_break": True},
    ],
    "mart_kkik_peer_values": [
        {"municipality_id": "0180", "kpi_id": "N15428", "year": 2025,
         "peer_set_type": "kommungrupp", "peer_set_id": "G92786", "peers_with_value": -1},
        {"municipality_id": None, "kpi_id": None, "year": None, "peer_set_type": None,
         "peer_set_id": None, "peers_with_value": None},
        {"municipality_id": "180", "kpi_id": "X1", "year": 2025, "peer_set_type": "friends",
         "peer_set_id": "x", "peers_with_value": 1},
    ],
    "mart_kkik_peer_members": [
        # duplicate key; no set id; rank and count out of range
        {"municipality_id": "0180", "kpi_id": "N15428", "year": 2025, "peer_set_id": None,
         "peer_municipality_id": "1280", "peer_rank": 0, "peers_with_value": 8},
        {"municipality_id": None, "kpi_id": None, "year": None, "peer_set_id": "G1",
         "peer_municipality_id": None, "peers_with_value": None},
        # owner, KPI and peer in no dim; not a year
        {"municipality_id": "180", "kpi_id": "X1", "year": 1800, "peer_set_id": "G1",
         "peer_municipality_id": "9999", "peers_with_value": 1},
    ],
    "mart_kkik_board": [
        # duplicate key; unknown area, direction, change, colour, comparison and group code;
        # not a year; malformed peer list; a liknande mean its members do not give; a
        # kommungrupp mean without the group's name
        {"municipality_id": "0180", "kpi_id": "N15428", "year": 1800, "kkik_area": "Fritid",
         "direction": "sideways", "change": "Sideways", "colour": "blue", "comparison": "Bäst",
         "kommungrupp_code": "Z9", "liknande_ids": "0180;1280", "liknande_mean": 99.0,
         "kommungrupp_mean": 70.0},
        {"municipality_id": None, "kpi_id": None, "year": None, "kkik_area": None,
         "change": None, "comparison": None},
        # ids in no dim; a grey value said to be compared
        {"municipality_id": "180", "kpi_id": "X1", "year": 2025, "kkik_area": "Barn och unga",
         "change": "Upp", "colour": "grey", "comparison": "Bästa gruppen"},
    ],
    "mart_kkik_colour_counts": [
        # duplicate key; negative counts that do not add up
        {"municipality_id": "0180", "year": 2025, "kkik_area": "Barn och unga", "green": -1,
         "yellow": -1, "red": -1, "grey": -1, "not_ranked": -1, "kpis": -1},
        {"municipality_id": None, "year": None, "kkik_area": None},
        {"municipality_id": "180", "year": 2025, "kkik_area": "Fritid"},
    ],
    "mart_kpi_trends": [
        # duplicate key; unknown direction and trend; years out of order; negative counts
        {"municipality_id": "0180", "kpi_id": "N15428", "direction": "sideways",
         "change_direction": "sideways", "trend": "sideways", "first_year": 2025, "last_year": 2020, "n_values": -1,
         "years_better_than_riket": -1},
        # a direction without the change direction
        {"municipality_id": None, "kpi_id": None, "direction": "higher_better"},
        # malformed ids; a trend for a neutral KPI
        {"municipality_id": "180", "kpi_id": "X1", "direction": "not_ranked",
         "change_direction": "neutral", "trend": "flat"},
    ],
    "mart_kpi_wide": [
        # duplicate key; then no key; then a malformed KPI id in a municipality in no dim
        {"municipality_id": "0180", "kpi_id": "N15428"},
        {"municipality_id": None, "kpi_id": None},
        {"municipality_id": "180", "kpi_id": "X1"},
    ],
    "mart_revisions": [
        # duplicate key; unknown gender; recorded before what it replaced
        {"change_type": "value_revised", "entity_key": "N15428|0180|2024|T", "kpi_id": "N15428",
         "municipality_id": "0180", "gender": "X", "old_recorded_at": TS + pd.Timedelta(days=9),
         "new_recorded_at": TS},
        {"change_type": None, "entity_key": None, "kpi_id": None},
        # unknown change type; malformed ids
        {"change_type": "value_moved", "entity_key": "k3", "kpi_id": "X1",
         "municipality_id": "180"},
        # a value change without its municipality; a revision that names no field, or an
        # unknown one
        {"change_type": "value_added", "entity_key": "k4", "kpi_id": "N15428"},
        {"change_type": "value_revised", "entity_key": "k5", "kpi_id": "N15428",
         "municipality_id": "0180", "changed_fields": None},
        {"change_type": "value_revised", "entity_key": "k6", "kpi_id": "N15428",
         "municipality_id": "0180", "changed_fields": "value,colour"},
        # no level, an unknown one; a unit value without its KPI, a malformed unit id; a unit
        # change that names no unit
        {"change_type": "value_revised", "entity_key": "k7", "kpi_id": "N15428",
         "municipality_id": "0180", "changed_fields": "value", "level": "planet"},
        {"change_type": "unit_value_added", "entity_key": "k8", "kpi_id": None,
         "level": "unit", "ou_id": "1784", "changed_fields": "value"},
        {"change_type": "unit_renamed", "entity_key": "k9", "level": "unit", "ou_id": None,
         "changed_fields": "title"},
    ],
    "mart_rank_changes": [
        # duplicate key; an unknown and an unexplained cause; unknown causes listed; negative
        # count; an unknown colour
        {"municipality_id": "0180", "kpi_id": "N15428", "year": 2025, "cause": "weather",
         "causes": "weather", "others_revised_count": -1, "rank_changed": True,
         "colour_changed": False, "peer_mean_changed": False, "old_colour": "blue",
         "new_colour": "blue"},
        {"municipality_id": None, "kpi_id": None, "year": None, "cause": None,
         "others_revised_count": None, "rank_changed": None, "colour_changed": None,
         "peer_mean_changed": None},
        # malformed ids (in no dim); nothing in the event log explains it
        {"municipality_id": "180", "kpi_id": "X1", "year": 2025, "cause": "unexplained",
         "others_revised_count": 0, "rank_changed": True, "colour_changed": False,
         "peer_mean_changed": False},
    ],
}
# fmt: on


def _kommunkompassen_samples() -> None:
    """Valid rows and rule-breaking rows for the two Kommunkompassen marts (wide ones are
    built from the contract's column list; untested columns stay null)."""
    from pipelines.warehouse.marts import mart_contracts

    contracts = mart_contracts()
    areas: dict[str, list] = {c: [None, None] for c in contracts["mart_kommunkompassen_areas"].column_names}
    areas.update(
        municipality_id=["0180", "1280"], municipality_name=["Stockholm", "Malmö"],
        assessment_year=[2022, 2018], version=[2020, 2010], area_number=[1, 8],
        area_label_canonical=["Samspel mellan förtroendevalda och medborgare",
                              "Kommunen som samhällsbyggare"],
        score=[60.0, 71.5], benchmark=[50.0, None], total_stated=[480.0, None],
        cross_version=[False, True],
    )
    SAMPLES["mart_kommunkompassen_areas"] = areas
    wide: dict[str, list] = {c: [None, None] for c in contracts["mart_kommunkompassen"].column_names}
    wide.update(
        municipality_id=["0180", "1280"], municipality_name=["Stockholm", "Malmö"],
        assessment_year=[2022, 2018], version=[2020, 2010], areas_given=[8, 7],
        total_stated=[480.0, None], total_summed=[481.0, 420.0], total=[480.0, None],
        rank_in_version=[1, None], assessments_in_version=[1, 0], cross_version=[False, True],
        **{f"area_{n}_score": [60.0, 60.0] for n in range(1, 9)},
    )
    SAMPLES["mart_kommunkompassen"] = wide
    BAD_ROWS["mart_kommunkompassen_areas"] = [
        # duplicate key; score, benchmark and total out of range; no canonical label or flag
        {"municipality_id": "0180", "assessment_year": 2022, "version": 2020, "area_number": 1,
         "score": 120.0, "benchmark": -1.0, "total_stated": 900.0},
        # unknown municipality; year, version and area out of range; no score
        {"municipality_id": "9999", "assessment_year": 1990, "version": 2015, "area_number": 9,
         "area_label_canonical": "x", "cross_version": False},
        {"municipality_id": None, "assessment_year": None, "version": None, "area_number": None},
    ]
    BAD_ROWS["mart_kommunkompassen"] = [
        # duplicate key; every score, the totals and the rank out of range
        {"municipality_id": "0180", "assessment_year": 2022, "version": 2020, "areas_given": 9,
         "total_stated": 801.0, "total_summed": 900.0, "total": 900.0, "rank_in_version": 0,
         **{f"area_{n}_score": 101.0 for n in range(1, 9)}},
        # unknown municipality, year and version; no sum, count or flag
        {"municipality_id": "9999", "assessment_year": 1999, "version": 2015},
        {"municipality_id": None, "assessment_year": None, "version": None},
    ]


_kommunkompassen_samples()


def _quality_profile_samples() -> None:
    """Valid rows and rule-breaking rows for the quality profile and the award history (built
    from the contract's column lists, as the Kommunkompassen ones)."""
    contracts = mart_contracts()
    columns = contracts["mart_quality_profile"].column_names
    stems = [c for c in columns if c.endswith("_rank") and f"{c[:-5]}" in columns]
    profile: dict[str, list] = {c: [None, None] for c in columns}
    profile.update(
        municipality_id=["0180", "1280"], municipality_name=["Stockholm", "Malmö"],
        kommungrupp_name=["Storstäder", "Storstäder"], year=[2024, 2023],
        is_latest_year=[True, False], kkik_kpis_published=[34, 34],
        is_complete_year=[True, True], share_65_plus=[17.0, 18.5], share_80_plus=[4.0, 4.6],
        green=[10, 0], yellow=[20, 0], red=[5, 0], grey=[5, 40], kpis_coloured=[35, 0],
        green_barn_och_unga=[4, 0], red_stod_och_omsorg=[2, 0], share_green=[28.571429, None],
        results_rank=[1, None], results_score=[100.0, None],
        **{stem: [1, None] for stem in stems},
        economy_kpis_ranked=[5, 0], economy_score=[60.0, None], employer_kpis_ranked=[4, 0],
        employer_score=[55.5, None], kommunkompassen_total=[600.0, None],
        kommunkompassen_version=[2020, None], kommunkompassen_year=[2022, None],
        kommunkompassen_score=[75.0, None], development_kpis_compared=[30, 0],
        development_percentile_change=[3.5, None], share_steady_improvement=[10.0, None],
        share_improving_trend=[40.0, None], development_rank=[1, None],
        development_score=[100.0, None], composite_score=[80.0, None],
        composite_dimensions=[4, 0], profile_rank=[1, None], profile_ranked_count=[1, 1],
    )
    profile["economy_rank"], profile["employer_rank"] = [1, None], [1, None]
    SAMPLES["mart_quality_profile"] = profile
    BAD_ROWS["mart_quality_profile"] = [
        # duplicate key; no name, flag or counts; every range broken; colours that do not add
        # up; coloured KPIs without a share green; a total without its year; no ranked count
        {"municipality_id": "0180", "year": 2024, "share_65_plus": 101.0, "share_80_plus": -1.0,
         "green": -1, "yellow": -1, "red": -1, "grey": -1, "kpis_coloured": 5,
         "results_rank": 0, "results_score": 101.0, "economy_rank": 0, "employer_rank": 0,
         "development_rank": 0, "profile_rank": 0,
         **{stem: 0 for stem in stems}, "economy_kpis_ranked": 6, "economy_score": 101.0,
         "employer_kpis_ranked": 6, "employer_score": -1.0, "kommunkompassen_total": 900.0,
         "kommunkompassen_version": 2015, "kommunkompassen_score": 120.0,
         "development_kpis_compared": -1, "development_percentile_change": 150.0,
         "share_steady_improvement": 120.0, "share_improving_trend": 120.0,
         "development_score": 120.0, "composite_score": 120.0, "composite_dimensions": 6,
         **{f"{c}_{a}": -1 for c in ("green", "yellow", "red")
            for a in ("barn_och_unga", "stod_och_omsorg", "samhalle_och_miljo")}},
        # unknown, malformed kommun; year out of range; development shares on an old year; a
        # results score without a composite; a rank above the number ranked; share over 100
        {"municipality_id": "abc", "municipality_name": "x", "year": 1800,
         "is_latest_year": False, "share_steady_improvement": 10.0, "share_green": 120.0,
         "results_score": 50.0, "profile_rank": 10, "profile_ranked_count": 5},
        # no key; a composite without a rank; a partial year said to be the latest
        {"municipality_id": None, "year": None, "composite_score": 50.0, "profile_rank": None,
         "is_latest_year": True, "is_complete_year": False},
    ]
    history: dict[str, list] = {
        c: [None, None] for c in contracts["mart_kvalitetskommun_history"].column_names
    }
    history.update(
        award_year=[2023, 2003], municipality_id=["0180", "1280"],
        municipality_name=["Stockholm", "Malmö"], role=["winner", "nominee"],
        profile_year=[2022, None], profile_rank=[3, None], profile_ranked_count=[290, None],
        composite_score=[80.0, None], in_top_10=[True, None], in_top_decile=[True, None],
        results_score=[90.0, None], share_green=[40.0, None], results_rank=[5, None],
        economy_score=[70.0, None], economy_rank=[20, None], employer_score=[60.0, None],
        employer_rank=[40, None], development_score=[50.0, None], development_rank=[145, None],
        kommunkompassen_total=[679.0, None], kommunkompassen_year=[2022, None],
        profile_note=[None, "no profile year before the award within the ingest scope"],
    )
    SAMPLES["mart_kvalitetskommun_history"] = history
    BAD_ROWS["mart_kvalitetskommun_history"] = [
        # duplicate key; no name or role; every score, rank and total out of range; a profile
        # without its year; a rank above the number ranked
        {"award_year": 2023, "municipality_id": "0180", "profile_rank": 0,
         "profile_ranked_count": -1, "composite_score": 120.0, "results_score": 120.0,
         "share_green": 120.0, "results_rank": 0, "economy_score": 120.0, "economy_rank": 0,
         "employer_score": 120.0, "employer_rank": 0, "development_score": 120.0,
         "development_rank": 0, "kommunkompassen_total": 900.0},
        # an award before 2003 for an unknown, malformed kommun; an unknown role; no profile
        # and no note saying why
        {"award_year": 1999, "municipality_id": "abc", "municipality_name": "x", "role": "jury"},
        {"award_year": None, "municipality_id": None, "municipality_name": "x", "role": "winner",
         "profile_note": "x"},
    ]


_quality_profile_samples()


def _followup_samples() -> None:
    """Valid rows and rule-breaking rows for the improvement follow-up."""
    columns = mart_contracts()["mart_improvement_followup"].column_names
    rows: dict[str, list] = {c: [None, None] for c in columns}
    rows.update(
        municipality_id=["0180", "1280"], municipality_name=["Stockholm", "Malmö"],
        initiative_id=["studiero", "fossilfria-fordon"], title=["Studiero", "Fossilfria fordon"],
        kpi_id=["N15428", "U00502"], kpi_title=["Elever i åk 9 ...", None],
        change_direction=["higher_better", None], start_year=[2021, 2025],
        series_start_year=[None, 2025], crosses_series_break=[False, False],
        peer_set_type=["network", "riket"], network_id=["exempel", None],
        peer_set_name=["Exempelnätverk", None], window_years=[3, 3], years_before=[3, 0],
        years_after=[2, 0], mean_before=[54.0, None], mean_after=[56.5, None],
        own_change=[2.5, None], peer_years_before=[3, 0], peer_years_after=[2, 0],
        peer_mean_before=[50.0, None], peer_mean_after=[51.0, None], peer_change=[1.0, None],
        change_vs_peers=[1.5, None], relative_effect=[1.5, None], own_improved=[True, None],
        peers_improved=[True, None], outcome=["better_than_peers", "no_values"],
        source_file=["initiativ.csv#sha256:ab", "initiativ.csv#sha256:ab"],
    )
    SAMPLES["mart_improvement_followup"] = rows
    BAD_ROWS["mart_improvement_followup"] = [
        # duplicate key; no title or file; unknown direction, peer set and outcome; a network
        # without its id; negative year counts; peer years above own years;
        # a year before without a mean; a window of 0; a start year out of range
        {"municipality_id": "0180", "initiative_id": "studiero", "kpi_id": "N15428",
         "change_direction": "sideways", "start_year": 1800, "peer_set_type": "network",
         "window_years": 0, "years_before": -1, "years_after": -1, "peer_years_before": 1,
         "peer_years_after": -1, "outcome": "maybe"},
        # unknown, malformed kommun and KPI; no counts, peer set, start or outcome
        {"municipality_id": "abc", "initiative_id": "x", "kpi_id": "X1", "title": "t",
         "source_file": "f", "years_before": 2, "mean_before": None, "peer_years_before": -1,
         "peer_set_type": "kommun"},
        {"municipality_id": None, "initiative_id": None, "kpi_id": None, "title": "t",
         "source_file": "f"},
    ]


_followup_samples()


def _unit_samples() -> None:
    """mart_unit_scorecard and mart_unit_trends (issue 30): a ranked grundskola and a grey unit
    of a survey too small to compare; bad rows that break each of their dbt tests."""
    card: dict[str, list] = {c: [None, None] for c in CONTRACTS["mart_unit_scorecard"].column_names}
    card.update(
        ou_id=["V15E178402001", "V26E5778"], ou_name=["Dotteviksskolan", "DV Muraren"],
        municipality_id=["0180", "1280"], unit_kind=["V15", "V26"],
        kind_name=["Grundskola", "Daglig verksamhet LSS"],
        kind_plural=["Grundskolor", "Dagliga verksamheter (LSS)"], is_open=[True, False],
        kpi_id=["N15436", "U28532"], year=[2024, 2023],
        direction=["higher_better", "higher_better"],
        change_direction=["higher_better", "higher_better"], value=[86.6, 70.0],
        value_y1=[84.0, None], rank=[12, None], ranked_count=[131, 0], percentile=[0.08, None],
        colour=["green", "grey"], kommun_rank=[2, None], kommun_ranked_count=[12, None],
        kommun_value=[84.5, 80.0], riket_value=[73.5, 75.0], change=["Upp", "Ingen"],
        ranked_kommuner=[16, None],
    )
    SAMPLES["mart_unit_scorecard"] = card
    # mart_revisions carries the unit changes too (level unit): a revised unit value and a
    # renamed unit, beside its kommun value and KPI rows
    unit_rows = {
        "change_type": ["unit_value_revised", "unit_renamed"],
        "entity_key": ["N15436|V15E178402001|2024|T", "V15E178401203"],
        "kpi_id": ["N15436", None], "municipality_id": ["0180", "0180"],
        "period": [2024, None], "gender": ["T", None], "old_value": [80.0, None],
        "new_value": [81.5, None], "old_count": [1, None], "new_count": [1, None],
        "old_status": [None, None], "new_status": [None, None],
        "old_title": [None, "Jössefors skola"], "new_title": [None, "Jösseforsskolan F-6"],
        "changed_fields": ["value", "title"], "old_recorded_at": [TS, TS],
        "new_recorded_at": [TS + pd.Timedelta(days=1), TS + pd.Timedelta(days=1)],
        "level": ["unit", "unit"], "ou_id": ["V15E178402001", "V15E178401203"],
        "ou_name": ["Dotteviksskolan", "Jösseforsskolan F-6"],
    }
    revisions_sample = SAMPLES["mart_revisions"]
    for column, values in unit_rows.items():
        before = list(revisions_sample[column])
        combined = before + values
        revisions_sample[column] = (pd.array(combined, dtype="Int64")
                                    if column in ("old_count", "new_count") else combined)
    BAD_ROWS["mart_unit_scorecard"] = [
        # duplicate key; no name, kind names or is_open; unknown kommun, kind, directions,
        # colour and change; rank and kommun rank 0; percentile above 1
        {"ou_id": "V15E178402001", "kpi_id": "N15436", "year": 2024, "ou_name": None,
         "municipality_id": "9999", "unit_kind": "X1", "kind_name": None, "kind_plural": None,
         "is_open": None,
         "direction": "sideways", "change_direction": "sideways", "rank": 0,
         "percentile": 1.5, "colour": "blue", "kommun_rank": 0, "change": "Sideways"},
        # malformed unit and KPI; no kind, year or change; a ranked KPI without a colour; a
        # rank above the number ranked, ranked among fewer than 5; kommun rank above its count
        {"ou_id": "1784", "kpi_id": "X1", "unit_kind": None, "year": None,
         "direction": "higher_better", "colour": None, "rank": 10, "ranked_count": 3,
         "kommun_rank": 3, "kommun_ranked_count": 1, "change": None},
        # no key; a colour for a KPI nobody ranks
        {"ou_id": None, "kpi_id": None, "municipality_id": None, "direction": None,
         "colour": "green", "change": "Ingen"},
        # an unranked unit that is not grey; more units in the kommun than in the country
        {"ou_id": "V15E178402101", "kpi_id": "N15436", "year": 2024, "ou_name": "x",
         "municipality_id": "0180", "unit_kind": "V15", "kind_name": "Grundskola",
         "kind_plural": "Grundskolor", "is_open": True, "direction": "lower_better", "rank": None, "colour": "green",
         "ranked_count": 3, "kommun_ranked_count": 6, "change": "Ingen"},
    ]
    trends: dict[str, list] = {c: [None, None] for c in CONTRACTS["mart_unit_trends"].column_names}
    trends.update(
        ou_id=["V15E178402001", "V26E5778"], ou_name=["Dotteviksskolan", "DV Muraren"],
        municipality_id=["0180", "1280"], unit_kind=["V15", "V26"], is_open=[True, False],
        kpi_id=["N15436", "U28532"], direction=["higher_better", None],
        change_direction=["higher_better", None], first_year=[2016, 2022],
        last_year=[2024, 2023], n_values=[9, 2], slope=[1.2, None], trend=["improving", None],
        latest_value=[86.6, 70.0], steady_improvement=[False, None],
    )
    SAMPLES["mart_unit_trends"] = trends
    BAD_ROWS["mart_unit_trends"] = [
        # duplicate key; no name or is_open; unknown kommun, kind, directions and trend; years
        # out of order; no values
        {"ou_id": "V15E178402001", "kpi_id": "N15436", "ou_name": None,
         "municipality_id": "9999", "unit_kind": "X1", "is_open": None,
         "direction": "sideways", "change_direction": "sideways", "first_year": 2024,
         "last_year": 2020, "n_values": 0, "slope": 1.0, "trend": "sideways"},
        # malformed unit and KPI; no kind, kommun or years; a trend without a slope
        {"ou_id": "1784", "kpi_id": "X1", "unit_kind": None, "municipality_id": None,
         "first_year": None, "last_year": None, "n_values": None, "slope": None,
         "trend": "flat"},
        {"ou_id": None, "kpi_id": None},
    ]
    revisions: dict[str, list] = {
        c: [None, None] for c in CONTRACTS["mart_unit_revisions"].column_names}
    revisions.update(
        change_type=["unit_value_revised", "unit_renamed"],
        entity_key=["N15436|V15E178402001|2024|T", "V15E178401203"],
        kpi_id=["N15436", None], ou_id=["V15E178402001", "V15E178401203"],
        ou_name=["Dotteviksskolan", "Jösseforsskolan F-6"], municipality_id=["1784", "1784"],
        period=[2024, None], gender=["T", None], old_value=[80.0, None], new_value=[81.5, None],
        old_name=[None, "Jössefors skola"], new_name=[None, "Jösseforsskolan F-6"],
        changed_fields=["value", "name"], old_recorded_at=[TS, TS],
        new_recorded_at=[TS + pd.Timedelta(days=1), TS + pd.Timedelta(days=1)],
    )
    SAMPLES["mart_unit_revisions"] = revisions
    BAD_ROWS["mart_unit_revisions"] = [
        # duplicate key; unknown gender and fields; recorded before what it replaced; a value
        # change without its year
        {"change_type": "unit_value_revised", "entity_key": "N15436|V15E178402001|2024|T",
         "kpi_id": "N15436", "ou_id": "V15E178402001", "gender": "X", "period": None,
         "changed_fields": "colour", "old_recorded_at": TS + pd.Timedelta(days=9),
         "new_recorded_at": TS},
        # unknown change type; malformed ids
        {"change_type": "unit_moved", "entity_key": "k2", "kpi_id": "X1", "ou_id": "1784",
         "municipality_id": "abc"},
        # no key; a value change without KPI; a revision without its fields
        {"change_type": None, "entity_key": None, "ou_id": None},
        {"change_type": "unit_value_revised", "entity_key": "k4", "kpi_id": None,
         "ou_id": "V15E1", "period": 2024, "changed_fields": None},
    ]


_unit_samples()


def _warehouse(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    con = duckdb.connect(str(path))
    try:
        seed = DBT_PROJECT / "seeds" / "skr_kommungrupper.csv"  # dim_municipality refers to it
        con.execute(f"create table skr_kommungrupper as select * from read_csv('{seed}')")
        for mart, frame in frames.items():
            con.register("frame", frame)
            con.execute(f'create table main."{mart}" as select * from frame')
            con.unregister("frame")
    finally:
        con.close()


def _dbt_test(folder: Path, frames: dict[str, pd.DataFrame]) -> subprocess.Popen:
    """`dbt test` on the published marts only (no build: the tables are the frames)."""
    folder.mkdir()
    _warehouse(folder / "warehouse.duckdb", frames)
    dbt_vars = {
        "warehouse_path": str(folder / "warehouse.duckdb"),
        "events_dir": str(folder / "events"),
    }
    args = [
        str(Path(sys.executable).with_name("dbt")), "test", "--quiet",
        "--select", " ".join(PUBLISHED_MARTS), "--exclude-resource-type", "unit_test",
        "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
        "--target-path", str(folder / "target"), "--log-path", str(folder / "logs"),
        "--vars", json.dumps(dbt_vars),
    ]  # fmt: skip
    env = {**os.environ, "KK_DATA_DIR": str(folder), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _statuses(folder: Path) -> dict[str, str]:
    """dbt test unique_id -> status (pass | fail | warn | error) of one run (not the
    project's on-run-start hook, which dbt lists as an operation)."""
    results = json.loads((folder / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {r["unique_id"]: r["status"] for r in results["results"]
            if not r["unique_id"].startswith("operation.")}


def _warn_only(folder: Path) -> set[str]:
    manifest = json.loads((folder / "target" / "manifest.json").read_text(encoding="utf-8"))
    return {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node["config"]["severity"].lower() == "warn"
    }


@pytest.fixture(scope="module")
def dbt_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    root = tmp_path_factory.mktemp("dbt_tests")
    good = {m: pd.DataFrame(rows) for m, rows in SAMPLES.items()}
    bad = {
        m: pd.concat([frame, pd.DataFrame(BAD_ROWS[m])], ignore_index=True)
        for m, frame in good.items()
    }
    runs = {"good": _dbt_test(root / "good", good), "bad": _dbt_test(root / "bad", bad)}
    out = {}
    for name, proc in runs.items():
        log = proc.communicate(timeout=600)[0].decode(errors="replace")
        assert (root / name / "target" / "run_results.json").exists(), log[-3000:]
        out[name] = _statuses(root / name)
    out["warn_only"] = dict.fromkeys(_warn_only(root / "good"), "warn")
    return out


@pytest.mark.slow
def test_dbt_tests_pass_the_valid_samples(dbt_runs: dict[str, dict[str, str]]) -> None:
    statuses = dbt_runs["good"]
    assert len(statuses) > 8 * len(PUBLISHED_MARTS)
    assert {t: s for t, s in statuses.items() if s != "pass"} == {}


@pytest.mark.slow
def test_dbt_tests_each_catch_a_bad_row(dbt_runs: dict[str, dict[str, str]]) -> None:
    """Every dbt test on a published mart fails on the bad rows (the dim_kpi relationship of
    fct_kpi_values only warns: a KPI removed from Kolada's metadata keeps its history)."""
    statuses = dbt_runs["bad"]
    assert set(statuses) == set(dbt_runs["good"])
    caught = {t for t, s in statuses.items() if s == "fail"}
    caught |= {t for t, s in statuses.items() if s == "warn" and t in dbt_runs["warn_only"]}
    assert set(statuses) - caught == set()
    warn_only = {t.split(".")[2] for t in dbt_runs["warn_only"] if t in statuses}
    assert warn_only == {
        "relationships_fct_kpi_values_kpi_id__kpi_id__ref_dim_kpi_",
        "accepted_values_mart_rank_changes_cause__definition_changed__new_year__own_value_revised__others_revised__peer_set_changed",
    }


def test_warehouse_suites_read_only_checked_columns_and_the_key(tmp_path: Path) -> None:
    """On workload M a `select *` of every mart as pandas took the checks past 5 GiB: each suite
    reads its checked columns and the contract key, and a suite that checks nothing only counts.
    The valid samples pass as before, and a failure's sample rows still carry the key."""
    from pipelines.checks.suites import _read_mart, run_warehouse_suites

    frames = {m: pd.DataFrame(rows) for m, rows in SAMPLES.items()}
    shares = frames["dim_kpi"].loc[frames["dim_kpi"]["unit"] == "andel (%)", "kpi_id"]
    bad_fct = frames["fct_kpi_values"].assign(kpi_id=shares.iloc[0], value=250.0)
    _warehouse(tmp_path / "good.duckdb", frames)
    _warehouse(tmp_path / "bad.duckdb", {**frames, "fct_kpi_values": bad_fct})
    with duckdb.connect(str(tmp_path / "good.duckdb"), read_only=True) as con:
        fct, _ = _read_mart(con, "fct_kpi_values", load_suite("fct_kpi_values", EXPECTATIONS))
        revisions, _ = _read_mart(con, "mart_revisions",
                                  load_suite("mart_revisions", EXPECTATIONS))
    assert list(fct.columns) == ["kpi_id", "municipality_id", "period", "gender", "value"]
    assert list(revisions.columns) == [] and len(revisions) == len(frames["mart_revisions"])
    good = {r.mart: r for r in run_warehouse_suites(
        tmp_path / "good.duckdb", PUBLISHED_MARTS, previous_manifest=None,
        expectations_dir=EXPECTATIONS)}
    assert all(r.passed for r in good.values()), [r.summary() for r in good.values()]
    assert {m: r.rows for m, r in good.items()} == {m: len(frames[m]) for m in good}
    (bad,) = run_warehouse_suites(tmp_path / "bad.duckdb", ["fct_kpi_values"],
                                  previous_manifest=None, expectations_dir=EXPECTATIONS)
    outcome = next(o for o in bad.outcomes if o.expectation == "shares_within_bounds")
    assert not outcome.success
    assert set(outcome.sample[0]) == {"kpi_id", "municipality_id", "period", "gender", "value"}
