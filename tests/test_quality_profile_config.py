"""The quality profile's weights: KK_CONFIG -> scope -> dbt var, validated, and the profile's
KPI list kept in step with the ingest scope and the curated directions."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from pipelines.scope import DEFAULT_PROFILE_WEIGHTS, ScopeError, load_scope
from pipelines.settings import REPO_ROOT, Layout
from pipelines.warehouse.build_vars import dbt_vars

DEFAULT_CONFIG = REPO_ROOT / "pipelines" / "config" / "default.yaml"
MACRO = REPO_ROOT / "dbt_project" / "macros" / "quality_profile.sql"
CURATION = REPO_ROOT / "dbt_project" / "seeds" / "kpi_curation.csv"


def config(tmp_path: Path, profile: str) -> Path:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").split("\nquality_profile:")[0]
    path = tmp_path / "config.yaml"
    path.write_text(text + "\n" + profile, encoding="utf-8")
    return path


def test_default_config_carries_the_default_weights() -> None:
    assert dict(load_scope(DEFAULT_CONFIG).profile_weights) == DEFAULT_PROFILE_WEIGHTS


def test_named_weights_override_and_the_rest_keep_their_default(tmp_path: Path) -> None:
    scope = load_scope(config(tmp_path, "quality_profile:\n  weights:\n    results: 1\n"
                                        "    kommunkompassen: 0.5\n"))
    assert scope.profile_weights == {**DEFAULT_PROFILE_WEIGHTS, "results": 1.0,
                                     "kommunkompassen": 0.5}


def test_a_config_without_the_section_gets_the_defaults(tmp_path: Path) -> None:
    assert load_scope(config(tmp_path, "")).profile_weights == DEFAULT_PROFILE_WEIGHTS


@pytest.mark.parametrize("profile, message", [
    ("quality_profile:\n  weights:\n    resluts: 1\n", "quality_profile.weights.resluts: unknown"),
    ("quality_profile:\n  weights:\n    economy: -1\n", "expected a number >= 0"),
    ("quality_profile:\n  weights:\n    economy: high\n", "expected a number >= 0"),
    ("quality_profile:\n  weights:\n    results: 0\n", "must be above 0"),
    ("quality_profile:\n  weigths: {}\n", "did you mean 'weights'?"),
])
def test_bad_weights_name_the_file_and_the_key(tmp_path: Path, profile: str, message: str) -> None:
    with pytest.raises(ScopeError, match=re.escape(message)) as caught:
        load_scope(config(tmp_path, profile))
    assert "config.yaml" in str(caught.value)


def test_weights_reach_dbt_as_a_var(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    weights = {**DEFAULT_PROFILE_WEIGHTS, "development": 0.0}
    out = dbt_vars(layout=layout, as_of=None, previous_watermark=None, networks=[],
                   profile_weights=weights)
    assert out["profile_weights"] == weights
    assert dbt_vars(layout=layout, as_of=None, previous_watermark=None,
                    networks=[])["profile_weights"] == DEFAULT_PROFILE_WEIGHTS


def _macro_kpis() -> dict[str, bool]:
    text = MACRO.read_text(encoding="utf-8")
    return {m.group(1): m.group(2) == "true" for m in re.finditer(
        r"'kpi_id': '([NU]\d{5})'.*?'ranked': (true|false)", text)}


def test_profile_kpis_are_in_the_ingest_scope_and_ranked_ones_have_a_direction() -> None:
    kpis = _macro_kpis()
    assert len(kpis) == 11
    scope = load_scope(DEFAULT_CONFIG)
    assert set(kpis) <= set(scope.kpi_themes["economy"]) | set(scope.kpi_themes["employer"])
    with CURATION.open(encoding="utf-8") as f:
        directions = {row["kpi_id"]: row["direction"] for row in csv.DictReader(f)}
    for kpi, ranked in kpis.items():
        if ranked:
            assert directions[kpi] in ("higher_better", "lower_better"), kpi
        else:
            assert directions[kpi] == "not_ranked", kpi


def test_dbt_project_defaults_equal_the_python_defaults() -> None:
    import yaml

    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text("utf-8"))
    assert project["vars"]["profile_weights"] == DEFAULT_PROFILE_WEIGHTS


@pytest.mark.parametrize("old, new, where", [
    ("  municipalities: all", "  municipalites: all", "kolada.municipalites: unknown key"),
    ("kolada:\n", "kolda:\n", "kolda: unknown key"),
    ("    to: 2025", "    too: 2025", "kolada.years.too: unknown key"),
    ("    members: [", "    member: [", "networks[0].member: unknown key"),
])
def test_misspelt_config_keys_are_errors_with_a_suggestion(tmp_path: Path, old: str, new: str,
                                                            where: str) -> None:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScopeError, match=re.escape(where)) as caught:
        load_scope(path)
    assert "did you mean" in str(caught.value)


def test_the_cli_refuses_a_bad_config_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.cli import main

    path = tmp_path / "config.yaml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
        "  municipalities: all", "  municipalites: all"), encoding="utf-8")
    monkeypatch.setenv("KK_CONFIG", str(path))
    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path / "data"))
    assert main(["ingest", "--source", "sample"]) == 2
    assert "did you mean 'municipalities'" in capsys.readouterr().err
    assert not (tmp_path / "data" / "events").exists()  # nothing was fetched
