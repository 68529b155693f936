"""dbt's console stream made concise: progress in tenths, every alarm at once, all on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.warehouse.dbt_output import concise_dbt_output


def _run(tmp_path: Path, lines: list[str]) -> tuple[list[str], list[str], Path]:
    said: list[str] = []
    warned: list[str] = []
    log = tmp_path / "logs" / "run.log"
    with concise_dbt_output(log, said.append, warned.append):
        for line in lines:
            print(line)
    return said, warned, log


def test_progress_comes_in_quarters_and_everything_is_kept_on_disk(tmp_path: Path) -> None:
    lines = []
    for i in range(1, 41):
        lines += [f"{i} of 40 START sql table model main.m{i} .... [RUN]",
                  f"{i} of 40 OK created sql table model main.m{i} .... [OK in 0.1s]"]
    lines.append("Done. PASS=40 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=40")
    said, warned, log = _run(tmp_path, lines)
    assert said[:4] == [f"dbt: {n}/40 nodes done" for n in range(10, 41, 10)]
    assert "Done. PASS=40" in said[4] and said[-1].endswith(str(log))
    assert warned == []
    assert log.read_text(encoding="utf-8").splitlines() == lines


def test_the_projects_hooks_are_not_counted_as_nodes(tmp_path: Path) -> None:
    hook = "1 of 1 {} hook: kommunkvalitet.on-run-start.0 .... [{}]"
    lines = [hook.format("START", "RUN"), hook.format("OK", "OK in 0.01s")]
    for i in range(1, 9):
        lines.append(f"{i} of 8 OK created sql table model main.m{i} .... [OK in 0.1s]")
    said, warned, _ = _run(tmp_path, lines)
    assert said[:4] == [f"dbt: {n}/8 nodes done" for n in (2, 4, 6, 8)]
    assert warned == []
    _, warned, _ = _run(tmp_path, [hook.format("ERROR", "ERROR in 0.01s")])
    assert warned and "ERROR hook" in warned[0]  # a failing hook still surfaces


def test_failures_and_warnings_surface_at_once(tmp_path: Path) -> None:
    _, warned, _ = _run(tmp_path, [
        "1 of 3 OK created sql table model main.a .... [OK in 0.1s]",
        "2 of 3 FAIL 1 not_null_a_id .... [FAIL 1 in 0.1s]",
        "Failure in test not_null_a_id (models/a.yml)",
        "3 of 3 WARN 2 accepted_values_a_x .... [WARN 2 in 0.1s]",
        "Done. PASS=1 WARN=1 ERROR=1 SKIP=0 NO-OP=0 TOTAL=3",
    ])
    assert [w.split(" ", 2)[1] for w in warned] == ["2", "Failure", "3", "Done."]


def test_verbose_passes_dbt_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KK_VERBOSE", "1")
    said, _, log = _run(tmp_path, ["1 of 1 OK created sql table model main.a"])
    assert "1 of 1 OK" in capsys.readouterr().out and said == [] and not log.exists()
