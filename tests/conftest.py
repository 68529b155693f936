"""Shared test setup: nothing calls home, every test gets its own data dir and Dagster home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
# The suite publishes the sample many times; an xlsx of every mart (1.7M rows) would add about
# 17 s of CPU to each. Tests of the xlsx writers and test_report_browser.py (which publishes
# with the default: every mart) cover the full path.
os.environ.setdefault("KK_XLSX_ROW_CAP", "50000")

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference" / "kolada-2024-01"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("KK_DATA_DIR", str(path))
    monkeypatch.setenv("DAGSTER_HOME", str(path / "dagster"))
    return path
