"""The Dagster definitions load, validate, and their graph only changes on purpose."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "tests" / "snapshots" / "asset_graph.txt"


def render_graph() -> str:
    from pipelines.orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        pool = node.pools and ",".join(sorted(node.pools)) or "-"
        lines.append(f"asset {key.to_user_string()} [{node.group_name}; pool {pool}] <- {parents}")
    for check in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        lines.append(f"check {check.to_user_string()}")
    for job in sorted(defs.jobs or [], key=lambda j: j.name):
        lines.append(f"job {job.name}")
    for schedule in defs.schedules or []:
        lines.append(f"schedule {schedule.name} {schedule.cron_schedule} "
                     f"{schedule.execution_timezone} -> {schedule.job_name}")
    return "\n".join(lines) + "\n"


def test_definitions_asset_graph_matches_snapshot() -> None:
    rendered = render_graph()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    # A missing snapshot fails too: writing it here would make the test pass by construction.
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing; create it with UPDATE_SNAPSHOTS=1"
    assert rendered == SNAPSHOT.read_text(encoding="utf-8"), (
        "the asset graph changed; review the diff and rerun with UPDATE_SNAPSHOTS=1"
    )


def test_definitions_every_warehouse_step_is_in_the_warehouse_pool() -> None:
    from pipelines.orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.group_name in ("staging", "intermediate", "marts", "publishing"):
            assert node.pools == {"warehouse"}, key


def test_definitions_publish_depends_on_every_published_mart() -> None:
    from pipelines.orchestration.definitions import defs
    from pipelines.warehouse.marts import PUBLISHED_MARTS

    graph = defs.resolve_asset_graph()
    import dagster as dg

    parents = {p.to_user_string() for p in graph.get(dg.AssetKey("publication")).parent_keys}
    assert parents == set(PUBLISHED_MARTS)


@pytest.mark.slow
def test_definitions_validate_with_the_dagster_cli(tmp_path: Path) -> None:
    env = {**os.environ, "KK_DATA_DIR": str(tmp_path / "data"),
           "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_definitions_published_marts_are_exactly_the_contracted_marts() -> None:
    # The plain-YAML contract reader agrees with dbt's own parse of the same yml.
    from pipelines.warehouse.dbt_project import dbt_project
    from pipelines.warehouse.marts import PUBLISHED_MARTS, mart_contracts

    manifest = json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    flagged = {m for m, n in models.items() if n["config"].get("meta", {}).get("published")}
    assert set(PUBLISHED_MARTS) == flagged == set(mart_contracts())
    for mart, contract in mart_contracts().items():
        assert list(models[mart]["columns"]) == list(contract.column_names), mart


def test_every_check_says_what_it_checks() -> None:
    from pipelines.orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    undescribed = [k.to_user_string() for k in graph.asset_check_keys
                   if not graph.get_check_spec(k).description]
    assert not undescribed
    described = {k.to_user_string(): graph.get_check_spec(k).description
                 for k in graph.asset_check_keys}
    assert described["mart_kkik_scorecard:not_null_mart_kkik_scorecard_direction"] == (
        "direction always has a value (dbt test, blocks publishing when it fails)")


def test_the_ingest_only_definitions_plan_the_same_ingest_jobs() -> None:
    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.ingest_definitions import ingest_defs
    from pipelines.orchestration.jobs import INGEST_JOBS

    for name in (job.name for job in INGEST_JOBS):
        full, alone = defs.resolve_job_def(name), ingest_defs.resolve_job_def(name)
        assert alone.asset_layer.selected_asset_keys == full.asset_layer.selected_asset_keys
        # the ops of the plan, the freshness check's among them
        assert {n.name for n in alone.graph.node_defs} == {n.name for n in full.graph.node_defs}
        if "kolada/kpi_value" in {k.to_user_string() for k in full.asset_layer.selected_asset_keys}:
            assert any(n.name.endswith("kpi_freshness") for n in alone.graph.node_defs)
        assert alone.tags == full.tags


def test_an_ingest_only_run_imports_neither_dbt_nor_gx() -> None:
    code = ("import sys; from pipelines.cli.jobs import definitions_for; "
            "definitions_for('nightly_refresh'); "
            "print(sorted(m for m in ('dagster_dbt', 'dbt', 'great_expectations') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    assert out.strip() == "[]"


def test_the_projects_parse_passes_the_default_data_dirs_build_vars(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dagster-dbt copies the project's parse into a build's empty target folder and dbt keeps
    it only when the --vars are the same: the first build of a data dir (`make run`) then
    skips a full parse. The same --vars, in the same order, as the warehouse_models asset's."""
    from assets.dbt import _build_vars
    from pipelines.orchestration.resources import PlatformResource
    from pipelines.settings import load_settings
    from pipelines.warehouse.build_vars import stable_cli_vars
    from pipelines.warehouse.dbt_project import _default_build_cli_vars

    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    platform = PlatformResource(data_dir=str(settings.data_dir),
                                config_path=str(settings.config_path))
    build = stable_cli_vars(_build_vars(platform, as_of=None), settings.layout.build_vars_file)
    assert json.dumps(_default_build_cli_vars()) == json.dumps(build)
    assert build["warehouse_path"] == str(tmp_path / "data" / "warehouse.duckdb")
    assert build["networks"] and "as_of" not in build
