"""A night with nothing new skips stage 2: the fingerprint, the decision, the CLI and status.

Real files in a temporary data dir and a copy of the code trees; the real-run counterpart is
in tests/test_platform_sample.py (slow)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipelines.operations import nights
from pipelines.settings import REPO_ROOT, Layout
from pipelines.sources.kolada.streams import KPI_VALUE
from pipelines.sources.scb.streams import POPULATION
from pipelines.warehouse.fingerprint import build_fingerprint, code_digest, events_digest


@pytest.fixture
def world(tmp_path: Path) -> tuple[Layout, Path, Path]:
    """A data dir with one batch file and a publication `v1`, a scope file and a code root."""
    layout = Layout(tmp_path / "data")
    batch = layout.events_dir / KPI_VALUE.name / "b1.parquet"
    batch.parent.mkdir(parents=True)
    batch.write_bytes(b"PAR1 one batch")
    (layout.events_dir / "_ledger").mkdir()
    (layout.published_dir / "v1").mkdir(parents=True)
    os.symlink("v1", layout.published_dir / "current")
    scope = tmp_path / "scope.yaml"
    scope.write_text("networks: []\n", encoding="utf-8")
    root = tmp_path / "code"
    shutil.copytree(REPO_ROOT / "dbt_project" / "models", root / "dbt_project" / "models")
    (root / "pipelines").mkdir()
    (root / "pipelines" / "marts.py").write_text("X = 1\n", encoding="utf-8")
    return layout, scope, root


def _published(layout: Layout, scope: Path, root: Path) -> None:
    """A build and a stage 2 that ended well, as the assets record them."""
    nights.record_build(layout, build_fingerprint(layout, scope, root=root), as_of="t",
                        run_id="r1")
    nights.record_publication(layout, run_id="r2")


def test_nothing_changed_skips_and_names_the_version(world: tuple[Layout, Path, Path]) -> None:
    layout, scope, root = world
    assert not nights.decide(layout, scope, root=root).skip  # nothing recorded yet
    _published(layout, scope, root)
    decision = nights.decide(layout, scope, root=root)
    assert decision.skip and decision.since_version == "v1"
    assert decision.message.startswith("nothing new since v1: build, checks and publish skipped")


def test_a_new_batch_file_or_a_quarantined_one_runs_again(
        world: tuple[Layout, Path, Path]) -> None:
    layout, scope, root = world
    _published(layout, scope, root)
    ledger = layout.events_dir / "_ledger" / "l2.parquet"
    ledger.write_bytes(b"a ledger row of an ingest with nothing new")
    assert nights.decide(layout, scope, root=root).skip  # the ledger alone is not an event
    extra = layout.events_dir / POPULATION.name / "b2.parquet"
    extra.parent.mkdir()
    extra.write_bytes(b"PAR1 new")
    decision = nights.decide(layout, scope, root=root)
    assert not decision.skip and decision.changed == ["events"]
    assert "new or changed events" in decision.reason
    extra.unlink()
    assert nights.decide(layout, scope, root=root).skip
    quarantine = layout.events_dir / "_quarantine"
    quarantine.mkdir()
    (layout.events_dir / KPI_VALUE.name / "b1.parquet").rename(quarantine / "b1.parquet")
    assert nights.decide(layout, scope, root=root).changed == ["events"]


def test_a_changed_model_or_config_runs_again(world: tuple[Layout, Path, Path]) -> None:
    layout, scope, root = world
    _published(layout, scope, root)
    model = root / "dbt_project" / "models" / "marts" / "mart_kkik_board.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    assert nights.decide(layout, scope, root=root).changed == ["code"]
    _published(layout, scope, root)
    (root / "pipelines" / "marts.py").write_text("X = 2\n", encoding="utf-8")
    assert nights.decide(layout, scope, root=root).changed == ["code"]
    _published(layout, scope, root)
    scope.write_text("networks: [{id: n, title: N, members: ['1784']}]\n", encoding="utf-8")
    assert nights.decide(layout, scope, root=root).changed == ["config"]


def test_a_rollback_or_a_failed_build_runs_again(world: tuple[Layout, Path, Path]) -> None:
    layout, scope, root = world
    _published(layout, scope, root)
    (layout.published_dir / "v0").mkdir()
    (layout.published_dir / "current").unlink()
    os.symlink("v0", layout.published_dir / "current")
    decision = nights.decide(layout, scope, root=root)
    assert not decision.skip and "rollback" in decision.reason
    # a build that starts forgets the warehouse's fingerprint; one that fails records none,
    # and the publication record it would have made is not written either
    nights.forget_build(layout)
    (layout.data_dir / "fingerprints" / "publication.json").unlink()
    nights.record_publication(layout, run_id="r3")
    assert not (layout.data_dir / "fingerprints" / "publication.json").exists()
    assert not nights.decide(layout, scope, root=root).skip


def test_a_damaged_record_runs_rather_than_skips(world: tuple[Layout, Path, Path]) -> None:
    layout, scope, root = world
    _published(layout, scope, root)
    (layout.data_dir / "fingerprints" / "publication.json").write_text("{not json",
                                                                     encoding="utf-8")
    decision = nights.decide(layout, scope, root=root)
    assert not decision.skip and "no fingerprint" in decision.reason


def test_an_explicit_as_of_is_another_build(world: tuple[Layout, Path, Path]) -> None:
    layout, scope, root = world
    plain = build_fingerprint(layout, scope, root=root)
    past = build_fingerprint(layout, scope, root=root, as_of_requested="2026-01-01T00:00:00+00:00")
    assert plain.changed(past.parts) == ["as_of_requested"]


def test_the_digests_ignore_caches_and_keep_order(tmp_path: Path) -> None:
    root = tmp_path / "code"
    (root / "pipelines" / "__pycache__").mkdir(parents=True)
    (root / "pipelines" / "a.py").write_text("a\n", encoding="utf-8")
    before = code_digest(root)
    (root / "pipelines" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (root / "pipelines" / "notes.swp").write_bytes(b"\0")
    assert code_digest(root) == before
    assert events_digest(tmp_path / "missing") == events_digest(tmp_path / "also-missing")


def test_last_night_reads_the_last_row_and_survives_a_torn_line(tmp_path: Path) -> None:
    assert nights.last_night(tmp_path) is None
    nights.record_night(tmp_path, nights.Decision(False, "nothing published yet"), trigger="cli")
    nights.record_night(tmp_path, nights.Decision(True, "same events, code and config",
                                                  since_version="v1"), trigger="sensor",
                        after_run_id="abc")
    with open(tmp_path / nights.NIGHTS_FILE, "a", encoding="utf-8") as out:
        out.write('{"at": "torn')
    row = nights.last_night(tmp_path)
    assert row is not None and row["stage2"] == "skipped" and row["since_version"] == "v1"
    assert row["after_run_id"] == "abc" and row["trigger"] == "sensor"


@pytest.mark.parametrize(("skip", "argv", "expected_jobs"), [
    (True, ["refresh", "--source", "sample"], ["nightly_refresh"]),
    (True, ["refresh", "--source", "sample", "--force"], ["nightly_refresh", "nightly_publish"]),
    (False, ["refresh", "--source", "sample"], ["nightly_refresh", "nightly_publish"]),
])
def test_the_cli_skips_stage_two_when_nothing_is_new(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        skip: bool, argv: list[str], expected_jobs: list[str]) -> None:
    from pipelines import cli
    from pipelines.cli import jobs as cli_jobs

    ran: list[str] = []

    def fake_execute_job(job: str, config: dict, settings: object, **_: object) -> tuple:
        ran.append(job)
        return 0, None

    def fake_decide(layout: Layout, config_path: Path) -> nights.Decision:
        return nights.Decision(skip, "same events, code and config" if skip else "changed: the code",
                               since_version="v7")

    monkeypatch.setattr(cli_jobs, "execute_job", fake_execute_job)
    monkeypatch.setattr(nights, "decide", fake_decide)
    assert cli.main(argv) == 0
    assert ran == expected_jobs
    out = capsys.readouterr().out
    row = json.loads((data_dir / nights.NIGHTS_FILE).read_text(encoding="utf-8").splitlines()[-1])
    if expected_jobs == ["nightly_refresh"]:
        assert "nothing new since v7: build, checks and publish skipped" in out
        assert row["stage2"] == "skipped"
    else:
        assert "skipped" not in out and row["stage2"] == "run"
        assert row["reason"] == ("forced (--force)" if "--force" in argv else "changed: the code")


def test_status_says_the_last_night_was_skipped_and_why(data_dir: Path) -> None:
    from pipelines.operations.status import collect_status, render
    from pipelines.settings import load_settings

    nights.record_night(data_dir, nights.Decision(True, "same events, code and config",
                                                  since_version="v20261201T020512Z"),
                        trigger="cli")
    status = collect_status(load_settings())
    assert status.as_dict()["last_night"]["stage2"] == "skipped"
    assert ("build, checks and publish skipped: nothing new since v20261201T020512Z "
            "(same events, code and config)") in render(status)


def test_the_per_build_vars_go_to_a_file_so_the_dbt_vars_stay_the_same(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from pipelines.warehouse.build_vars import (
        BUILD_ID,
        PER_BUILD_VARS,
        PREVIOUS_BUILD_ID,
        dbt_cli_vars,
        dbt_vars,
    )

    layout = Layout(tmp_path / "data")
    vars_file = layout.data_dir / "dbt" / "build_vars.json"
    seen = []
    ids = [None]
    for day in (1, 2):
        moment = datetime(2026, 12, day, 2, tzinfo=UTC)
        full = dbt_vars(layout=layout, as_of=moment, previous_watermark=None, networks=[])
        seen.append(dbt_cli_vars(full, vars_file))
        written = json.loads(vars_file.read_text(encoding="utf-8"))
        # each invocation is named, and names the one before it (the GX step's chain)
        assert written.pop(PREVIOUS_BUILD_ID) == ids[-1]
        ids.append(written.pop(BUILD_ID))
        assert written == {k: full[k] for k in PER_BUILD_VARS}
        assert written["as_of"] == moment.isoformat()
    assert ids[1] and ids[2] and ids[1] != ids[2]
    assert seen[0] == seen[1]  # what dbt hashes for its partial parse did not change
    assert not set(PER_BUILD_VARS) & set(seen[0])
    assert seen[0]["build_vars_file"] == str(vars_file)
