"""The peer-group editions against Kolada's real municipality groups (docs/indicators.md,
"Peer groups and their editions").

The edition rule itself is pinned by dbt unit tests (int_liknande_kommuner_editions,
int_peer_set_members); this file holds their real-data fixtures and the project's kommungrupp
seed equal to ../shared/reference/kolada-2024-01/municipality_groups.json, so the rule is
exercised on groups as Kolada publishes them. Skipped cleanly without the reference folder.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REFERENCE_DIR

REPO = Path(__file__).resolve().parents[1]
GROUPS_FILE = REFERENCE_DIR / "municipality_groups.json"
UNIT_TESTS = REPO / "dbt_project" / "models" / "intermediate" / "_intermediate__models.yml"
KOMMUNGRUPPER = REPO / "dbt_project" / "seeds" / "skr_kommungrupper.csv"
SAMPLE_GROUPS = REPO / "pipelines" / "sample" / "seed" / "municipality_groups.csv"

pytestmark = pytest.mark.skipif(not GROUPS_FILE.exists(), reason="no Kolada reference folder")

# Kolada's kommungrupp titles that differ from the names in SKR's 2023 indelning: the seed
# names the group (and the board prints it) by SKR's code and name, never by Kolada's title.
RENAMED = {
    "G92789": ("Pendlingskommun nära mindre tätort", "Pendlingskommun nära mindre stad/tätort"),
    "G92791": ("Landsbygdskommun, ej nära större stad", "Landsbygdskommun"),
}


@pytest.fixture(scope="module")
def groups() -> dict[str, dict]:
    return {g["id"]: g for g in json.loads(GROUPS_FILE.read_text(encoding="utf-8"))}


def _unit_test(name: str) -> dict:
    tests = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["unit_tests"]
    return next(t for t in tests if t["name"] == name)


def test_the_edition_unit_test_uses_the_real_arvika_group(groups: dict[str, dict]) -> None:
    test = _unit_test("test_liknande_editions_from_the_real_arvika_group_and_its_renamed_successor")
    rows = test["given"][0]["rows"]
    first = [r for r in rows if r["revision_number"] == 1]
    real = groups[first[0]["municipality_group_id"]]
    assert {r["title"] for r in first} == {real["title"]}
    assert sorted(r["member_id"] for r in first) == sorted(m["member_id"] for m in real["members"])
    # the year-without-an-edition test starts from the same real edition
    year_test = _unit_test("test_liknande_edition_for_a_year_without_its_own")
    titles = {r["title"] for r in year_test["given"][2]["rows"]}
    assert real["title"] in titles


def test_the_kommungrupp_seed_partitions_the_real_groups(groups: dict[str, dict]) -> None:
    with KOMMUNGRUPPER.open(encoding="utf-8") as f:
        seed = {row["kommungrupp_id"]: row for row in csv.DictReader(f)}
    members = {gid: {m["member_id"] for m in groups[gid]["members"]} for gid in seed}
    everyone = [m for ms in members.values() for m in ms]
    assert len(everyone) == len(set(everyone)) == 290  # every kommun in exactly one group
    storstader = next(gid for gid, row in seed.items() if row["kommungrupp_code"] == "A1")
    assert members[storstader] == {"0180", "1280", "1480"}  # Stockholm, Malmö, Göteborg
    for gid, row in seed.items():
        kolada = groups[gid]["title"].removesuffix(" (ovägt medel)")
        if gid in RENAMED:
            assert (kolada, row["kommungrupp_name"]) == RENAMED[gid], gid
        else:
            assert kolada == row["kommungrupp_name"], gid


def test_the_sample_runs_on_the_real_liknande_groups(groups: dict[str, dict]) -> None:
    # The sample's peer editions (and so the platform test's board) are Kolada's real ones.
    with SAMPLE_GROUPS.open(encoding="utf-8") as f:
        sample = {row["id"]: row for row in csv.DictReader(f) if row["title"].startswith("Liknande")}
    assert len(sample) == 290
    for gid, row in sample.items():
        assert row["title"] == groups[gid]["title"], gid
        assert row["members"].split() == [m["member_id"] for m in groups[gid]["members"]], gid
