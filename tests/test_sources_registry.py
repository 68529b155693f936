"""The stream declarations are the one place a stream is written down; the rest follows them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipelines.eventlog.streams import SnapshotScope
from pipelines.sources import dbt_sources, registry
from pipelines.sources.kolada.streams import KPI, KPI_VALUE

REPO = Path(__file__).resolve().parents[1]
PYTHON_DIRS = ("pipelines", "assets", "tests")


def _python_files() -> list[Path]:
    return [p for d in PYTHON_DIRS for p in (REPO / d).rglob("*.py")]


def test_registry_dbt_sources_files_are_generated_from_the_declarations() -> None:
    for path, text in dbt_sources.rendered().items():
        assert path.exists(), f"{path} missing: run python -m pipelines.sources.dbt_sources"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(REPO)} differs from the stream declarations: run "
            "python -m pipelines.sources.dbt_sources"
        )


def test_registry_every_stream_has_one_ingestion_asset_keyed_like_its_dbt_source() -> None:
    from pipelines.orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    ingestion = {
        tuple(key.path) for key in graph.get_all_asset_keys()
        if graph.get(key).group_name == "ingestion"
    }
    assert ingestion == {spec.asset_key_path for spec in registry.STREAMS.values()}


def test_registry_stream_names_are_spelled_only_in_their_declaration() -> None:
    for spec in registry.STREAMS.values():
        pattern = re.compile(rf"{re.escape(spec.name)}\b(?!/)")
        spelled = [p for p in _python_files() if pattern.search(p.read_text(encoding="utf-8"))]
        assert spelled == [], (
            f"{spec.name} is spelled in {[str(p.relative_to(REPO)) for p in spelled]}; refer "
            "to its declaration in pipelines/sources/<source>/streams.py instead"
        )


def test_registry_snapshot_scope_names_key_parts_and_refuses_unknown_ones() -> None:
    positions = SnapshotScope({"period": [2023], "kpi": ["N15428"]}).positions(KPI_VALUE)
    assert positions == [(0, ["N15428"]), (2, ["2023"])]
    with pytest.raises(ValueError, match="cannot be scoped by 'gender'"):
        SnapshotScope({"gender": ["T"]}).positions(KPI_VALUE)
    with pytest.raises(ValueError, match="whole stream only"):
        SnapshotScope({"id": ["N15428"]}).positions(KPI)


def test_registry_library_modules_never_import_the_asset_definitions() -> None:
    # pipelines/ is the library the asset bodies call; only the composition roots import
    # assets/ (the whole platform, and the ingest jobs alone for the CLI's ingest-only runs).
    orchestration = REPO / "pipelines" / "orchestration"
    allowed = {orchestration / "definitions.py", orchestration / "ingest_definitions.py"}
    for path in (REPO / "pipelines").rglob("*.py"):
        if path in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("assets"), f"{path.relative_to(REPO)} imports {name}"


def test_registry_paths_are_passed_not_written_into_the_environment() -> None:
    # Only the "never call home" guards may set environment variables.
    writes = re.compile(r"os\.environ\[[^\]]+\]\s*=|os\.environ\.(setdefault|update)\(")
    allowed = re.compile(r"GX_ANALYTICS_ENABLED|DO_NOT_TRACK|DBT_SEND_ANONYMOUS_USAGE_STATS")
    for path in [p for d in ("pipelines", "assets") for p in (REPO / d).rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if writes.search(line) and not allowed.search(line):
                pytest.fail(f"{path.relative_to(REPO)}:{number} writes the environment: {line}")
