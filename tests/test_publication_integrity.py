"""A publication's manifest records every file's sha256: a file changed after publishing is
reported by `status` and `verify`; an invalid manifest.json is one clear line, not a trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import cli
from pipelines.publish.integrity import verify_publication
from pipelines.publish.versions import current_manifest, current_version
from tests.test_publish_publisher import _publish, warehouse  # noqa: F401 - the fixture


def test_publication_manifest_records_every_file_and_verifies_clean(
        warehouse: Path, tmp_path: Path) -> None:  # noqa: F811
    published = tmp_path / "published"
    _publish(warehouse, published)
    manifest = current_manifest(published)
    files = set(manifest["files"])
    assert {"marts.duckdb", "README.md", "fct_kpi_values.parquet"} <= files
    assert "manifest.json" not in files
    assert verify_publication(published, manifest["version"], manifest).ok


@pytest.mark.parametrize("tamper", ["edit", "truncate", "delete", "add"])
def test_publication_tampered_file_is_detected_by_status(
        warehouse: Path, data_dir: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        tamper: str) -> None:
    published = data_dir / "published"
    _publish(warehouse, published)
    folder = published / current_version(published)
    csv = next((folder / "csv").glob("*.csv"))
    if tamper == "edit":
        csv.write_bytes(csv.read_bytes().replace(b"Stockholm", b"Stockholn"))
    elif tamper == "truncate":
        csv.write_bytes(csv.read_bytes()[:10])
    elif tamper == "delete":
        csv.unlink()
    else:
        (folder / "extra.csv").write_text("x\n")
    assert cli.main(["status", "--json"]) == 1
    out = capsys.readouterr().out
    assert ("extra.csv" if tamper == "add" else csv.name) in out
    assert cli.main(["verify"]) == 1


# (diff reads only the published Parquet files, never the manifest)
@pytest.mark.parametrize("command", [["status"], ["verify"], ["history", "N15428", "0180"]])
def test_publication_invalid_manifest_is_one_line_not_a_traceback(
        warehouse: Path, data_dir: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        command: list[str]) -> None:
    published = data_dir / "published"
    _publish(warehouse, published)
    (published / current_version(published) / "manifest.json").write_text("{not json")
    code = cli.main(command)
    err = capsys.readouterr()
    assert code == 1
    assert "manifest.json" in err.out + err.err
    assert "Traceback" not in err.out + err.err


def test_publication_rollback_refuses_a_version_with_an_invalid_manifest(
        warehouse: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    from datetime import timedelta

    from tests.test_publish_publisher import T0

    published = data_dir / "published"
    first = _publish(warehouse, published).version
    second = _publish(warehouse, published, watermark=T0 + timedelta(hours=2)).version
    (published / first / "manifest.json").write_text("[]")
    assert cli.main(["rollback"]) == 1
    err = capsys.readouterr().err
    assert f"{first}/manifest.json" in err and "Traceback" not in err
    assert current_version(published) == second  # current did not move
