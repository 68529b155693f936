"""The unit workload (bench/units.py) cannot silently rot: a tiny run ingests every value of its
world, and a second full fetch appends nothing. Nothing here times anything."""

from __future__ import annotations

import json

import pytest

from bench.units import main


def test_bench_units_ingests_its_world_then_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--kpis", "3", "--units", "30", "--years", "4"])
    out = json.loads(capsys.readouterr().out)
    assert out["values"] == 3 * 30 * 4
    assert out["full"]["appended"] == 360 and out["no_change"]["appended"] == 0
    assert out["full"]["requests"] == 1  # 3 KPIs x 4 years: one request, every unit, one page
