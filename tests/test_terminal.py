"""What a run shows: the live display on a terminal, plain lines elsewhere, the full log in a
file, and -q/-v/--help on every command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import dagster as dg
import pyte
import pytest
from rich.console import Console

from pipelines import progress
from pipelines.cli import main
from pipelines.cli.parser import build_parser
from pipelines.console.logger import concise_console_logger
from pipelines.console.terminal import LiveDisplay, summary_table

ANSI = re.compile(r"\x1b\[")


class Recorder:
    def __init__(self) -> None:
        self.steps: list[tuple[str, str]] = []
        self.ticks: list[tuple[int, int | None, str]] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def advance(self, done: int, total: int | None, unit: str, detail: str) -> None:
        self.ticks.append((done, total, unit))

    def note(self, message: str) -> None:
        self.notes.append(message)

    def warn(self, line: str) -> None:
        self.warnings.append(line)

    def step_event(self, step: str, kind: str) -> None:
        self.steps.append((step, kind))


@dg.asset
def counted(context) -> None:  # untyped: this module has string annotations, Dagster reads them badly
    for done in range(1, 4):
        progress.advance(done, 3, "pages")
    context.log.info("counted: 3 pages")
    context.log.warning("counted: one page was late")


@dg.asset(deps=[counted])
def broken() -> None:
    raise RuntimeError("the source said no")


@dg.asset(deps=[broken])
def after() -> None:
    pass


def _run(tmp_path: Path, level: str = "INFO") -> dg.ExecuteInProcessResult:
    job = dg.define_asset_job("tiny", selection=dg.AssetSelection.all())
    defs = dg.Definitions(assets=[counted, broken, after], jobs=[job],
                          loggers={"console": concise_console_logger})
    with dg.instance_for_test() as instance:
        return defs.resolve_job_def("tiny").execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {
                "log_level": level, "log_dir": str(tmp_path / "logs")}}}})


def test_a_run_feeds_the_display_its_steps_ticks_and_lines(tmp_path: Path) -> None:
    recorder = Recorder()
    with progress.listening(recorder):
        result = _run(tmp_path)
    assert not result.success
    assert ("counted", "started") in recorder.steps and ("counted", "succeeded") in recorder.steps
    # the plan comes first; a step after a failure is planned and never starts
    assert recorder.steps[:3] == [("counted", "planned"), ("broken", "planned"),
                                  ("after", "planned")]
    assert ("broken", "failed") in recorder.steps and ("after", "started") not in recorder.steps
    assert recorder.ticks == [(1, 3, "pages"), (2, 3, "pages"), (3, 3, "pages")]
    assert "counted: 3 pages" in recorder.notes
    assert any("one page was late" in w for w in recorder.warnings)
    assert progress.listener() is None  # detached after the block


def test_without_a_display_the_run_prints_plain_lines_and_logs_everything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = _run(tmp_path)
    err = capsys.readouterr().err
    assert not ANSI.search(err)
    assert re.search(r"^\d\d:\d\d:\d\d counted\s+counted: 3 pages$", err, re.MULTILINE)
    assert "ERROR: " in err and 'raise RuntimeError' not in err  # an error's first line only
    from pipelines.cli.summary import steps_not_run as _steps_not_run

    assert _steps_not_run(result) == ["after"]
    log = (tmp_path / "logs" / f"{result.run_id}.log").read_text(encoding="utf-8")
    # the file has what the terminal leaves out: DEBUG events and the failure's whole trace
    assert 'Started execution of step "counted"' in log
    assert 'raise RuntimeError("the source said no")' in log  # the trace, down to the line


def test_quiet_keeps_warnings_and_errors_only(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path, level="WARNING")
    err = capsys.readouterr().err
    assert "counted: 3 pages" not in err
    assert "one page was late" in err and "ERROR: " in err


def test_the_live_display_draws_steps_and_ends_with_a_table() -> None:
    out = io.StringIO()
    display = LiveDisplay(console=Console(file=out, force_terminal=True, width=140))
    with display, progress.listening(display):
        display.step_event("kolada__kpi_value", "started")
        progress.advance(40, 63, "chunks", "40 pages")
        display.step_event("kolada__kpi_value", "succeeded")
        display.step_event("warehouse_models", "started")
        progress.advance(100, 538, "nodes")
        display.warn("WARNING: dbt: 12 of 538 WARN not_null")
        display.step_event("warehouse_models", "failed")
        display.step_event("publication", "planned")  # never started: skipped at the end
    drawn = out.getvalue()
    assert "63/63 chunks" in drawn  # a finished step's bar is full
    assert "100/538 nodes" in drawn  # a failed one stops where it failed
    assert "WARN not_null" in drawn
    outcomes = {name: line.outcome for name, line in display.steps.items()}
    assert outcomes == {"kolada__kpi_value": "succeeded", "warehouse_models": "failed",
                        "publication": "skipped"}
    table = io.StringIO()
    Console(file=table, width=140).print(
        summary_table(display, {"kolada__kpi_value": {"pages": 63}}))
    rows = table.getvalue()
    assert re.search(r"kolada__kpi_value .*✓ succeeded .*pages=63", rows)
    assert re.search(r"warehouse_models .*✗ failed", rows)


@pytest.mark.parametrize("columns", [80, 100, 120, 200])
def test_every_terminal_width_shows_each_steps_bar_count_and_clock(columns: int) -> None:
    """Left to rich, a terminal under ~150 columns lost the bar, the count and the clock (the
    widest columns shrink first); only the step's message gives way now."""
    out = io.StringIO()
    display = LiveDisplay(console=Console(file=out, force_terminal=True, width=columns,
                                          color_system=None))
    with display:
        display.step_event("assessment__kommunkompassen", "planned")
        display.step_event("warehouse_models", "planned")
        display.step_event("assessment__kommunkompassen", "started")
        display.step_event("assessment__kommunkompassen", "succeeded")
        display.step_event("warehouse_models", "started")
        display.advance(270, 538, "nodes", "")
        display.note("dbt: 270/538 nodes done; full dbt output in /srv/kk/data/logs/dbt/x.log")
    screen = pyte.Screen(columns, 24)  # what the terminal shows, escape codes applied
    pyte.Stream(screen).feed(out.getvalue().replace("\n", "\r\n"))
    frame = [line for line in screen.display if "assessment__" in line or "warehouse_" in line]
    assert len(frame) == 2
    for line in frame:
        assert "━" in line and re.search(r"\d:\d\d:\d\d", line)
    assert "assessment__kommunkompassen" in frame[0] and "/538 nodes" in frame[1]
    assert ("dbt: 270/538" in frame[1]) == (columns >= 100)  # the message where it fits


@pytest.mark.parametrize("command", ["ingest", "refresh", "build", "publish", "import",
                                     "assessment-template", "rollback", "status", "history",
                                     "diff", "report", "docs", "verify"])
def test_every_command_has_help_with_an_example_and_its_settings(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert f"kommunkvalitet {command}" in text.split("examples:")[1]
    assert "exit codes: 0 ok" in text
    if command != "assessment-template":
        assert "KK_DATA_DIR" in text.split("environment")[1]


def test_quiet_and_verbose_go_before_or_after_the_command_and_exclude_each_other(
        capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["-q", "refresh"]).quiet
    assert parser.parse_args(["refresh", "-q"]).quiet
    assert parser.parse_args(["-v", "build"]).verbose
    assert not parser.parse_args(["build"]).quiet
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["refresh", "-q", "-v"])
    assert done.value.code == 2


def test_a_cli_run_names_its_full_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "warehouse.duckdb").touch()  # a warehouse whose marts never built
    assert main(["-q", "publish"]) == 3  # blocked by the gate
    out = capsys.readouterr()
    assert not ANSI.search(out.out + out.err)  # captured output is not a terminal: plain
    path = Path(re.search(r"full log: (\S+)", out.err).group(1))
    assert path.is_file() and "nothing has been built yet" in path.read_text(encoding="utf-8")
    assert "FAILED step publication" in out.err


def test_verbose_travels_in_the_run_config_not_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.cli.run_config import run_config
    from pipelines.console.logger import run_is_verbose
    from pipelines.settings import load_settings

    monkeypatch.delenv("KK_VERBOSE", raising=False)
    settings = load_settings(env={"KK_DATA_DIR": "/tmp/kk"})
    loud = run_config("build", build_parser().parse_args(["-v", "build"]), settings)
    quiet = run_config("build", build_parser().parse_args(["build", "-q"]), settings)
    plain = run_config("build", build_parser().parse_args(["build"]), settings)
    assert run_is_verbose(loud) and not run_is_verbose(quiet) and not run_is_verbose(plain)
    assert quiet["loggers"]["console"]["config"]["log_level"] == "WARNING"
