"""The marts' contract as pipelines/warehouse/marts.py reads it from the dbt yml, and the docs made from it.

docs/marts.md is generated, so it can only say what the yml says; this file fails when the
committed page and the yml drift apart, and when the yml leaves a published column half stated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.publish.attribution import CREDIT_TEXTS
from pipelines.warehouse.marts import (
    DOCS_FILE,
    MODELS_FILE,
    PUBLISHED_MARTS,
    ContractError,
    load_contracts,
    mart_contracts,
    render_docs,
)

REPO = Path(__file__).resolve().parents[1]
FIX_DOCS = ".venv/bin/python -m pipelines.warehouse.marts --write-docs"


def test_docs_marts_md_is_generated_from_the_contract() -> None:
    assert DOCS_FILE.read_text(encoding="utf-8") == render_docs(), (
        f"docs/marts.md differs from {MODELS_FILE.relative_to(REPO)}: run `{FIX_DOCS}` "
        "and commit the result"
    )


def test_docs_check_entry_point_passes_on_the_committed_docs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.warehouse.marts", "--check"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_published_marts_keep_their_dependency_order() -> None:
    # Every published mart comes after the published marts it is built from (dbt's own parse).
    import json

    from pipelines.warehouse.dbt_project import dbt_project

    manifest = json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    position = {mart: i for i, mart in enumerate(PUBLISHED_MARTS)}
    for mart in PUBLISHED_MARTS:
        parents = {manifest["nodes"][p]["name"] for p in models[mart]["depends_on"]["nodes"]
                   if p in manifest["nodes"]}
        for parent in parents & set(position):
            assert position[parent] < position[mart], f"{parent} must come before {mart}"


def test_contract_reads_keys_grain_and_column_meta() -> None:
    scorecard = mart_contracts()["mart_kkik_scorecard"]
    assert scorecard.key == ("municipality_id", "kpi_id", "year")
    assert scorecard.grain.startswith("kommun × KKiK KPI × year")
    rank = scorecard.column("rank")
    assert rank is not None and (rank.data_type, rank.header_sv) == ("integer", "Rang")
    assert (rank.unit, rank.credit) == ("placering (1 = bäst)", "own")
    colour = scorecard.column("colour")
    assert colour is not None and colour.accepted_values == ("green", "yellow", "red", "grey")
    assert scorecard.column("no_such_column") is None
    assert "higher_better" not in scorecard.column_names  # an allowed value, not a column


def test_every_credit_class_has_a_credit_text() -> None:
    used = {c.credit for m in mart_contracts().values() for c in m.columns}
    assert used <= set(CREDIT_TEXTS)


def _write_yml(tmp_path: Path, mutate) -> Path:
    raw = yaml.safe_load(MODELS_FILE.read_text(encoding="utf-8"))
    mutate(raw["models"][0])
    path = tmp_path / "models.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_reader_refuses_a_published_column_without_credit(tmp_path: Path) -> None:
    def drop_credit(model: dict) -> None:
        del model["columns"][1]["config"]["meta"]["credit"]

    with pytest.raises(ContractError, match="dim_municipality.municipality_name: no credit"):
        load_contracts(_write_yml(tmp_path, drop_credit))


def test_reader_refuses_a_key_that_is_not_a_column(tmp_path: Path) -> None:
    def bad_key(model: dict) -> None:
        model["config"]["meta"]["key"] = ["municipality_code"]

    with pytest.raises(ContractError, match="municipality_code"):
        load_contracts(_write_yml(tmp_path, bad_key))


def test_unpublished_models_are_not_published_marts(tmp_path: Path) -> None:
    def unpublish(model: dict) -> None:
        model["config"]["meta"] = {}
        del model["columns"][0]["config"]

    contracts = load_contracts(_write_yml(tmp_path, unpublish))
    assert not contracts["dim_municipality"].published
    assert contracts["dim_municipality"].column("municipality_id").header_sv == "municipality_id"


def test_wide_year_columns_follow_the_dbt_vars() -> None:
    """mart_kpi_wide's y<year> columns are generated from the vars wide_first_year and
    wide_last_year; the contract must list the same columns, in order, after the fixed ones."""
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    first, last = (int(project["vars"][v]) for v in ("wide_first_year", "wide_last_year"))
    columns = mart_contracts()["mart_kpi_wide"].column_names
    fixed = ("municipality_id", "municipality_name", "kpi_id", "kpi_title", "unit")
    assert columns == fixed + tuple(f"y{year}" for year in range(first, last + 1)), (
        "edit the y<year> columns of mart_kpi_wide in the contract to match the vars"
    )
