"""Which models a build runs (pipelines.warehouse.selection), on the project's real dbt
manifest, and how the publisher takes the watermark of marts carried over from an earlier
build (pipelines.publish.provenance). A whole import that builds only its models and publishes
the rest carried over runs in tests/test_platform_sample.py; the equality of such builds with a
full rebuild in tests/test_incremental.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pytest

from pipelines.checks.gate import PublishBlocked
from pipelines.publish.provenance import built_watermark
from pipelines.sources.kolada.streams import KPI_VALUE, MUNICIPALITY, OU_VALUE
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.sources.registry import STREAMS
from pipelines.warehouse.dbt_project import dbt_project
from pipelines.warehouse.selection import (
    SINCE_LAST_PUBLICATION_TAG,
    load_manifest,
    model_names,
    models_to_build,
)

# What makes a model depend on the previous publication rather than on events alone.
_WINDOW_MACROS = {"macro.kommunkvalitet.from_watermark_timestamp",
                  "macro.kommunkvalitet.to_watermark_timestamp"}


@pytest.fixture(scope="module")
def manifest() -> Mapping[str, Any]:
    return load_manifest(dbt_project().manifest_path)


def _tagged(manifest: Mapping[str, Any]) -> set[str]:
    return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"
            and SINCE_LAST_PUBLICATION_TAG in n["tags"]}


def _macros_reached(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> set[str]:
    seen: set[str] = set()
    stack = list(node["depends_on"]["macros"])
    while stack:
        uid = stack.pop()
        if uid not in seen:
            seen.add(uid)
            stack += manifest["macros"].get(uid, {}).get("depends_on", {}).get("macros", [])
    return seen


def test_exactly_the_models_that_read_the_last_publication_are_rebuilt_every_build(
        manifest: Mapping[str, Any]) -> None:
    reads_window = {n["name"] for n in manifest["nodes"].values()
                    if n["resource_type"] == "model"
                    and (_macros_reached(manifest, n) & _WINDOW_MACROS
                         or "previous_scorecard" in n["raw_code"])}
    assert reads_window == _tagged(manifest)
    assert {"mart_revisions", "mart_rank_changes", "int_previous_scorecard"} <= reads_window


def test_an_import_builds_the_assessment_models_and_the_window_marts_only(
        manifest: Mapping[str, Any]) -> None:
    built = models_to_build(manifest, [KOMMUNKOMPASSEN.name])
    assert {"stg_assessment__kommunkompassen_events", "int_kommunkompassen_current",
            "mart_kommunkompassen", "mart_quality_profile"} <= built
    assert _tagged(manifest) <= built
    assert not {"fct_kpi_values", "mart_kkik_scorecard", "mart_kkik_board",
                "stg_kolada__kpi_value_events", "dim_municipality"} & built
    assert len(built) < len(model_names(manifest)) / 4


def test_new_values_build_their_downstream_and_leave_other_sources_models(
        manifest: Mapping[str, Any]) -> None:
    built = models_to_build(manifest, [KPI_VALUE.name])
    assert {"stg_kolada__kpi_value_events", "fct_kpi_values", "mart_kkik_scorecard",
            "mart_kkik_board", "mart_kpi_trends"} <= built
    assert not {"stg_scb__population_events", "int_kommunkompassen_current",
                "stg_kolada__ou_value_events", "int_ou_values_current"} & built
    # a unit value reaches the unit marts, not the municipal value chain
    units = models_to_build(manifest, [OU_VALUE.name])
    assert {"mart_unit_scorecard", "mart_unit_trends"} <= units
    assert "fct_kpi_values" not in units


def test_every_stream_is_a_dbt_source_and_reaches_a_mart(manifest: Mapping[str, Any]) -> None:
    """A stream the selection cannot find would leave its models stale."""
    sources = {f"{s['source_name']}.{s['name']}" for s in manifest["sources"].values()}
    assert set(STREAMS) <= sources
    window = models_to_build(manifest, [])
    for stream in STREAMS:
        assert any(m.startswith(("mart_", "dim_", "fct_"))
                   for m in models_to_build(manifest, [stream]) - window), stream
    assert models_to_build(manifest, ["nobody.unknown"]) == window
    assert models_to_build(manifest, [MUNICIPALITY.name]) > models_to_build(manifest, [])


def _materialize(instance: dg.DagsterInstance, mart: str, as_of: str) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=mart, metadata={"as_of": as_of}))


MARTS = [dg.AssetKey(["mart_a"]), dg.AssetKey(["mart_b"]), dg.AssetKey(["mart_c"])]


def test_the_watermark_of_marts_carried_over_by_the_last_build() -> None:
    with dg.instance_for_test() as instance:
        for key in MARTS:
            _materialize(instance, key.path[-1], "t1")
        assert built_watermark(instance, MARTS) == "t1"
        _materialize(instance, "mart_a", "t2")  # an import's build rebuilt mart_a only
        with pytest.raises(PublishBlocked, match="different moments"):
            built_watermark(instance, MARTS)  # no build record: they must agree
        build = {"as_of": "t2", "carried": {"mart_b": "t1", "mart_c": "t1"}}
        assert built_watermark(instance, MARTS, build) == "t2"
        # a mart the record does not carry, or carries at another as_of, blocks publishing
        with pytest.raises(PublishBlocked, match="mart_c"):
            built_watermark(instance, MARTS, {"as_of": "t2", "carried": {"mart_b": "t1"}})
        _materialize(instance, "mart_b", "t0")  # rebuilt since by some other build
        with pytest.raises(PublishBlocked, match="mart_b"):
            built_watermark(instance, MARTS, build)
