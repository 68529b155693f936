"""Bad input is refused before anything runs, in one line naming what is wrong (no traceback):
config values (key and line), the data dir, the Kolada base URL. Exit 2 (usage/config)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.base_url import InvalidBaseUrl, check_base_url, redact
from pipelines.cli.exit_codes import EXIT_USAGE
from pipelines.sources.kolada.client import KoladaClient

GOOD_TAIL = "  municipalities: all\n  years: {from: 2020, to: 2022}\n"

# (case, config text, what the message must name): the closing note counts these
BAD_CONFIGS = [
    ("unknown-key", "kolada:\n  kpis: [N15428]\n  municipalites: all\n  years: {from: 2020, to: 2022}\n",
     ["kolada.municipalites", "did you mean 'municipalities'", "line 3"]),
    ("yaml-syntax", "kolada:\n  kpis: [N15428\n" + GOOD_TAIL,
     ["not valid YAML at line 3"]),
    ("sql-in-kpi-id", "kolada:\n  kpis:\n    - N15428\n    - \"N1'; drop table x;--\"\n" + GOOD_TAIL,
     ["kolada.kpis", "drop table x", "line 4"]),
    ("path-in-municipality", ("kolada:\n  kpis: [N15428]\n  municipalities: ['0180', '../../etc']\n"
     "  years: {from: 2020, to: 2022}\n"), ["kolada.municipalities[1]", "../../etc", "line 3"]),
    ("inverted-years", ("kolada:\n  kpis: [N15428]\n  municipalities: all\n"
     "  years: {from: 2023, to: 2019}\n"), ["kolada.years", "after to", "line 4"]),
    ("network-id-path", "kolada:\n  kpis: [N15428]\n" + GOOD_TAIL +
     "networks:\n  - id: ../x\n    title: T\n    members: ['0180', '1480']\n",
     ["networks[0].id", "line 6"]),
]


@pytest.mark.parametrize(("case", "text", "named"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_input_config_is_refused_with_key_and_line(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], case: str, text: str, named: list[str]) -> None:
    config = tmp_path / "scope.yaml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("KK_CONFIG", str(config))
    # a base URL nothing listens on: a request would fail differently (and slowly)
    monkeypatch.setenv("KOLADA_BASE_URL", "http://127.0.0.9:9/v3")
    assert cli.main(["ingest"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for part in named:
        assert part in err
    assert not (data_dir / "events").exists()  # nothing was fetched or written


def test_bad_input_data_dir_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data"
    path.write_text("not a folder")
    monkeypatch.setenv("KK_DATA_DIR", str(path))
    for command in (["status"], ["ingest", "--source", "sample"], ["verify"]):
        assert cli.main(command) == EXIT_USAGE
        err = capsys.readouterr().err
        assert f"KK_DATA_DIR={path} is a file" in err and err.count("\n") == 1


@pytest.mark.parametrize("where", ["under-a-file", "unwritable-filesystem", "no-permission"])
def test_bad_input_data_dir_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], where: str) -> None:
    if where == "under-a-file":
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "data"
    elif where == "unwritable-filesystem":
        path = Path("/proc/kommunkvalitet-data")  # procfs refuses new folders, even to root
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes through permission bits")
        path = tmp_path / "ro"
        path.mkdir(mode=0o500)
    monkeypatch.setenv("KK_DATA_DIR", str(path))
    assert cli.main(["status"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "is not writable" in err and str(path) in err and "Traceback" not in err


BAD_URLS = ["api.kolada.se/v3", "htps://api.kolada.se/v3", "https://", "https://api.kolada.se:99999/v3",
            "https://api kolada.se/v3", "https://api.kolada.se/v3?x=1"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_input_malformed_base_url_is_refused_before_any_request(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        url: str) -> None:
    monkeypatch.setenv("KOLADA_BASE_URL", url)
    assert cli.main(["ingest"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "KOLADA_BASE_URL=" in err and err.count("\n") == 1
    with pytest.raises(InvalidBaseUrl):  # the client refuses it too: no retry loop starts
        KoladaClient(url)


def test_bad_input_base_url_credentials_are_never_shown(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = "ftp://user:s3cret@proxy.example:8080/v3"
    monkeypatch.setenv("KOLADA_BASE_URL", url)
    assert cli.main(["ingest"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "s3cret" not in err and "***@proxy.example:8080" in err
    assert redact("https://a:b@h/v3") == "https://***@h/v3"
    assert check_base_url("https://api.kolada.se/v3/") == "https://api.kolada.se/v3"


def test_bad_input_data_dir_with_a_quote_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "o'brien"  # would end the SQL string literal the globs are written in
    monkeypatch.setenv("KK_DATA_DIR", str(path))
    assert cli.main(["status"]) == EXIT_USAGE
    assert "must not contain a quote" in capsys.readouterr().err
    assert not path.exists()


@pytest.mark.parametrize("version", ["../../etc", "v1'; drop table a;--", "/tmp"])
def test_bad_input_diff_version_must_be_a_version_id(
        data_dir: Path, capsys: pytest.CaptureFixture[str], version: str) -> None:
    (data_dir / "published").mkdir()
    assert cli.main(["diff", version, "current"]) == EXIT_USAGE
    assert "is not a version id" in capsys.readouterr().err
