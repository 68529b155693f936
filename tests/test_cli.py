"""The CLI turns flags into run config; nothing here starts a run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.cli.parser import build_parser
from pipelines.cli.run_config import run_config
from pipelines.scope import Network
from pipelines.settings import Layout, SettingsError, load_settings
from pipelines.warehouse.build_vars import AsOfError, dbt_vars, parse_as_of

LAYOUT = Layout(Path("/tmp/kk-test-data"))


def _config(argv: list[str], job: str, **env: str) -> dict:
    args = build_parser().parse_args(argv)
    settings = load_settings(env={"KK_DATA_DIR": "/tmp/kk", "KK_SOURCE": "sample", **env})
    return run_config(job, args, settings)


def test_cli_build_passes_as_of_in_utc_to_the_dbt_op() -> None:
    config = _config(["build", "--as-of", "2026-05-01T12:00+02:00"], "build")
    assert config["ops"]["warehouse_models"]["config"]["as_of"] == "2026-05-01T10:00:00+00:00"
    assert "publication" not in config["ops"]  # the build job has no publish op


def test_cli_as_of_without_zone_is_utc() -> None:
    assert parse_as_of("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_as_of("2026-05-01T08:30:00Z") == datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


def test_cli_rejects_an_as_of_that_is_not_iso() -> None:
    with pytest.raises(SettingsError, match="not ISO-8601"):
        _config(["build", "--as-of", "yesterday"], "build")
    with pytest.raises(AsOfError):
        parse_as_of("1/5/2026")


def test_cli_refresh_carries_source_day_and_override_reason() -> None:
    config = _config(
        ["refresh", "--sample-day", "2", "--override-row-count", "KPI set shrank in 2026"],
        "nightly_refresh",
    )
    kolada = config["resources"]["kolada"]["config"]
    # the night's second stage gets the build and publish flags
    config = _config(
        ["refresh", "--sample-day", "2", "--override-row-count", "KPI set shrank in 2026"],
        "nightly_publish",
    )
    assert (kolada["source"], kolada["full"], kolada["sample_day"]) == ("sample", False, 2)
    reason = config["ops"]["gx_suites"]["config"]["row_count_override_reason"]
    assert reason == "KPI set shrank in 2026"
    platform = config["resources"]["platform"]["config"]
    assert platform["data_dir"] == "/tmp/kk" and platform["config_path"].endswith("default.yaml")


def test_cli_publish_and_refresh_carry_the_allow_older_reason() -> None:
    for argv, job in ((["publish"], "publish"), (["refresh"], "nightly_publish")):
        config = _config([*argv, "--allow-older", " re-issue 2025 "], job)
        assert config["ops"]["publication"]["config"]["allow_older_reason"] == "re-issue 2025"
    plain = _config(["publish"], "publish")
    assert plain["ops"]["publication"]["config"]["allow_older_reason"] is None
    with pytest.raises(SettingsError, match="--allow-older needs a reason"):
        _config(["publish", "--allow-older", "  "], "publish")


def test_cli_rejects_sample_day_zero() -> None:
    with pytest.raises(SettingsError, match="sample-day"):
        _config(["ingest", "--sample-day", "0"], "ingest")


def test_build_vars_revisions_window_never_runs_backwards() -> None:
    later = datetime(2026, 6, 1, tzinfo=UTC)
    earlier = datetime(2026, 5, 1, tzinfo=UTC)
    net = Network("n", "Nätverk", ("1784", "1780"))
    forward = dbt_vars(layout=LAYOUT, as_of=later, previous_watermark=earlier, networks=[net])
    assert (forward["from_watermark"], forward["to_watermark"]) == (
        earlier.isoformat(), later.isoformat()
    )
    assert forward["networks"] == [{"id": "n", "title": "Nätverk", "members": ["1784", "1780"]}]
    # dbt's profile and sources get the data dir's paths as vars, not from the environment
    assert forward["events_dir"] == str(LAYOUT.events_dir)
    assert forward["warehouse_path"] == str(LAYOUT.warehouse_path)
    backward = dbt_vars(layout=LAYOUT, as_of=earlier, previous_watermark=later, networks=[])
    assert backward["from_watermark"] is None


def test_cli_run_config_carries_the_kolada_url_and_rate_from_the_environment() -> None:
    # Run config replaces a resource's config whole: a missing field would mean the public API.
    config = _config(["ingest"], "ingest", KK_SOURCE="live",
                     KOLADA_BASE_URL="http://127.0.0.1:8765/v3/", KOLADA_MAX_RPS="2.5")
    kolada = config["resources"]["kolada"]["config"]
    assert (kolada["base_url"], kolada["max_rps"]) == ("http://127.0.0.1:8765/v3", 2.5)


def test_exit_codes_follow_convention(capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.cli.exit_codes import EXIT_BLOCKED, EXIT_FAILED, EXIT_OK, EXIT_USAGE

    assert (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BLOCKED) == (0, 1, 2, 3)
    # a contradiction is a usage error before anything runs
    assert main(["refresh", "--source", "live", "--sample-day", "2"]) == EXIT_USAGE
    assert "--sample-day needs --source sample" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0 and "kommunkvalitet" in capsys.readouterr().out


def test_publish_before_any_build_says_so_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster"))
    assert main(["publish"]) == 1  # failed: nothing to publish; no check blocked anything
    out = capsys.readouterr()
    assert out.err.splitlines() == [
        ("kommunkvalitet: nothing has been built yet, so there is nothing to publish: run "
         "`kommunkvalitet build` (or `refresh`) first")]
    assert out.out == "" and not (tmp_path / "data" / "alerts.jsonl").exists()


def test_build_of_a_log_without_kolada_data_says_so_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster"))
    assert main(["build"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "no Kolada data yet (kolada.municipality, kolada.kpi_value empty)" in line
    assert not (tmp_path / "data" / "logs" / "dbt").exists()  # dbt never started


def test_importing_a_file_that_is_not_an_assessment_builds_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster"))
    note = tmp_path / "anteckning.txt"
    note.write_text("Minnesanteckningar från nämndmötet\nInget att importera här.\n",
                    encoding="utf-8")
    assert main(["import", str(note)]) == 1
    out = capsys.readouterr()
    assert "the file could not be imported (the report above says why): nothing to build" in (
        out.err)
    assert "anteckning.txt" in out.err + out.out  # the rejection, in Swedish, names the file
    assert not (tmp_path / "data" / "logs" / "dbt").exists()  # no dbt build ran
    assert "DagsterDbtCliRuntimeError" not in out.err and "\x1b[" not in out.err


def test_one_check_vocabulary_counts_a_suites_warnings_as_warned() -> None:
    """A GX suite whose warning-level expectations failed passes (warnings never block) and
    is counted `warned`, in the run's summary and in `status` alike."""
    from pipelines.checks.results import check_outcome, count_outcomes, suite_warnings

    suite = {"outcomes": [{"success": True, "severity": "error"},
                          {"success": False, "severity": "warning"}]}
    outcomes = [check_outcome(True, "ERROR", suite_warnings(suite)),  # the suite: warned
                check_outcome(True, "ERROR"),  # a dbt test that passed
                check_outcome(False, "WARN"),  # the freshness check, overdue KPIs
                check_outcome(False, "ERROR")]  # a blocking failure
    assert outcomes == ["warned", "passed", "warned", "failed"]
    assert count_outcomes(outcomes) == "1 passed, 1 failed, 2 warned"
