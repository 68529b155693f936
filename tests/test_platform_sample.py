"""End to end on the synthetic sample, through the CLI and real Dagster runs and dbt builds.

One data dir for the whole module, in the order an operator lives it: first refresh, a refresh
that finds nothing new, day 2 with revisions, a rebuild as of day 1, a replay from scratch, bad
events that the checks must stop, and a rollback. Each test states one behaviour; they share the
(expensive) state the earlier ones built.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from pipelines.eventlog.store import EventLog, records_to_table
from pipelines.publish import read_history
from pipelines.publish.hashing import content_hash
from pipelines.settings import REPO_ROOT
from pipelines.sources.kolada.streams import KPI, KPI_VALUE
from pipelines.sources.scb.streams import POPULATION
from pipelines.warehouse.marts import PUBLISHED_MARTS
from tests.concurrency_helpers import UiWatch, cli_process, finish, wait_for_dbt
from tests.env_helpers import platform_env
from tests.eventlog_helpers import value
from tests.net_helpers import is_loopback
from tests.terminal_helpers import run_in_terminal

pytestmark = pytest.mark.slow

# mart_revisions and mart_rank_changes describe the window since the previous publication, so
# they legitimately differ between a build made for publication N and a rebuild made later.
CHANGE_MARTS = {"mart_revisions", "mart_rank_changes", "mart_unit_revisions"}
# The decimals the board prints a unit with, as the Lika rule reads it (macro change_decimals).
PRINTED = ("case when unit in ('andel (%)', '%', 'index', 'dagar') or unit like 'kr/%' "
           "then 0 else 1 end")
STATE_MARTS = [m for m in PUBLISHED_MARTS if m not in CHANGE_MARTS]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with platform_env(tmp_path_factory.mktemp("platform") / "data") as data:
        yield data


@pytest.fixture(scope="module", autouse=True)
def ui(data_dir: Path) -> Iterator[UiWatch]:
    """The UI open on the module's instance through every run below (issue 15, concurrency):
    it must answer, listen on 127.0.0.1 only and never open the warehouse."""
    from pipelines.orchestration.instance import prepare_dagster_home
    from pipelines.settings import load_settings

    prepare_dagster_home(load_settings())
    watch = UiWatch(data_dir)
    # The UI creates the instance's SQLite storage first: two processes creating it at once
    # can both stamp its schema version (alembic: "more than one head present"), which the
    # faster CLI start-up made a race the first refresh could lose.
    watch.wait_ready()
    yield watch
    watch.stop()


def current(data: Path) -> Path:
    return (data / "published" / "current").resolve()


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def warehouse_hashes(data: Path, marts: list[str]) -> dict[str, str]:
    # Safe here: no run is active, so nothing else holds the warehouse.
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return {m: content_hash(con.sql(f'select * from "{m}"').to_arrow_table()) for m in marts}


def published_hashes(folder: Path, marts: list[str]) -> dict[str, str]:
    return {m: content_hash(pq.read_table(folder / f"{m}.parquet")) for m in marts}


def value_events(data: Path) -> int:
    return EventLog(data / "events").events(KPI_VALUE).num_rows


def test_platform_first_refresh_publishes_with_every_check_passing(
    data_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["refresh", "--source", "sample"]) == 0
    folder = current(data_dir)
    # the summary ends with where the publication is and a query that works from anywhere
    captured = capsys.readouterr()
    out = captured.out
    assert f"published to {folder}" in out
    # piped, a night where all is well fits a screen: what each step did, the example files'
    # quarantine reports (they are wrong on purpose: 11 lines), the summary; no freshness
    # warning on the sample (its own calendar day), none of dbt's or Dagster's internals, no
    # escape codes (the first night on the sample prints 66 lines, a day-2 night about 50)
    lines = (captured.out + captured.err).splitlines()
    assert len(lines) <= 70, "\n".join(lines)
    assert not [line for line in lines if "overdue" in line or "kpi_freshness" in line
                or "WARNING" in line]
    assert "avsiktliga" in captured.err  # the examples' reports: shown, as a demonstration
    # one vocabulary, the same numbers: the run's count of the gate's checks is status's
    gate = re.search(r"on the published marts \(the publication's gate\): (\d+ passed, \d+ "
                     r"failed, \d+ warned)", out)
    assert gate, out
    main(["status"])
    assert f"checks on the published marts: {gate[1]}" in capsys.readouterr().out
    assert not [line for line in lines if "Running dbt command" in line or "vars {" in line
                or "\x1b[" in line or "partial_parse" in line]
    look = next(line for line in out.splitlines() if line.startswith("  look: "))
    shown = subprocess.run(look.removeprefix("  look: "), shell=True, cwd=tmp_path,
                           capture_output=True, text=True, check=True, timeout=120).stdout
    assert "municipality_name" in shown and "colour" in shown
    doc = manifest(folder)
    assert doc["synthetic"] is True
    assert set(doc["row_counts"]) == set(PUBLISHED_MARTS)
    assert all(doc["row_counts"][m] > 0 for m in STATE_MARTS)
    results = doc["checks"]["results"]
    assert results and all(c["passed"] for c in results)
    kinds = {c["kind"] for c in results}
    assert kinds == {"great_expectations", "dbt_test"}
    assert value_events(data_dir) > 100_000


def test_platform_dbt_unit_tests_pass_on_the_built_warehouse(data_dir: Path,
                                                             tmp_path: Path) -> None:
    """dbt's unit tests (the models' code against inline fixtures) are not run by a data
    build (assets/dbt.py): they run here, with the code, against the sample's warehouse,
    whose tables give dbt the parents' columns."""
    from pipelines.scope import load_scope
    from pipelines.settings import Layout, load_settings
    from pipelines.warehouse.build_vars import dbt_cli_vars, dbt_vars
    from pipelines.warehouse.dbt_project import DBT_PROJECT_DIR, dbt_executable

    layout = Layout(data_dir)
    scope = load_scope(load_settings().config_path)
    build_vars = dbt_vars(layout=layout, as_of=EventLog(layout.events_dir).watermark(),
                          previous_watermark=None, networks=scope.networks,
                          profile_weights=scope.profile_weights)
    cli_vars = dbt_cli_vars(build_vars, tmp_path / "build_vars.json")  # not the data dir's
    target = tmp_path / "target"
    done = subprocess.run(
        [dbt_executable(), "test", "--select", "test_type:unit",
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(tmp_path / "logs"),
         "--vars", json.dumps(cli_vars)],
        capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    # and the project's on-run-start hook (macros/model_builds.sql); nothing else
    assert len(unit) >= 37 and all(r["unique_id"].startswith("operation.")
                                   for r in results if r not in unit)
    assert {r["status"] for r in unit} == {"pass"}
    # and the refresh before this ran none of them
    last_dbt_log = max((data_dir / "logs" / "dbt").glob("*.log"), key=lambda p: p.stat().st_mtime)
    assert "unit_test" not in last_dbt_log.read_text(encoding="utf-8")
    # nor wrote dbt's debug file log (every query; `-v` keeps it): the run's log has dbt's output
    dbt_file_log = data_dir / "dbt" / "target" / "dbt.log"
    assert not dbt_file_log.exists() or dbt_file_log.stat().st_size == 0


def test_platform_ui_open_during_the_refresh_answered_and_never_opened_the_warehouse(
        data_dir: Path, ui: UiWatch) -> None:
    import dagster as dg

    from pipelines.orchestration.instance import shared_instance
    from pipelines.settings import load_settings

    ui.wait_ready()
    [build] = shared_instance(load_settings()).get_run_records(
        dg.RunsFilter(job_name="nightly_publish"))
    assert any(build.start_time <= t <= build.end_time for t in ui.answers)  # during dbt
    assert ui.failures == []
    assert ui.warehouse_open == set()  # DuckDB's one writer was never blocked by the UI
    assert ui.addresses and all(is_loopback(address) for address, _ in ui.addresses)
    runs = ui.graphql("{ runsOrError { ... on Runs { results { jobName status } } } }")
    shown = {(r["jobName"], r["status"]) for r in runs["data"]["runsOrError"]["results"]}
    assert {("nightly_refresh", "SUCCESS"), ("nightly_publish", "SUCCESS")} <= shown


def test_platform_ui_shows_row_counts_previews_and_the_publication(data_dir: Path) -> None:
    import dagster as dg

    from pipelines.orchestration.instance import shared_instance
    from pipelines.settings import load_settings

    folder = current(data_dir)
    doc = manifest(folder)
    instance = shared_instance(load_settings())

    def latest(key: list[str]) -> dict:
        event = instance.get_latest_materialization_event(dg.AssetKey(key))
        return {k: v.value for k, v in event.asset_materialization.metadata.items()}

    for mart in ("mart_kkik_scorecard", "dim_municipality"):
        meta = latest([mart])
        assert meta["dagster/row_count"] == doc["row_counts"][mart]
        header = meta["preview"].splitlines()[0]
        assert header.startswith("| ") and doc["marts"][mart]["columns"][0] in header
        assert len(meta["preview"].splitlines()) == 2 + 5
    assert latest(["int_kpi_values_current"])["dagster/row_count"] > 0  # not only the marts
    publication = latest(["publication"])
    assert publication["path"] == str(folder)
    assert publication["dagster/row_count"] == sum(doc["row_counts"].values())
    assert f"| mart_kkik_board | {doc['row_counts']['mart_kkik_board']:,} |" in publication["marts"]


def test_platform_docs_builds_the_dbt_site_with_the_catalog(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs"]) == 0
    site = data_dir / "dbt" / "docs" / "static_index.html"
    assert f"file://{site.resolve()}" in capsys.readouterr().out
    catalog = json.loads((data_dir / "dbt" / "docs" / "catalog.json").read_text())
    assert "model.kommunkvalitet.mart_kkik_scorecard" in catalog["nodes"]  # read the warehouse
    assert "mart_kkik_scorecard" in site.read_text(encoding="utf-8")


def test_platform_published_files_equal_the_warehouse_marts(data_dir: Path) -> None:
    folder = current(data_dir)
    expected = warehouse_hashes(data_dir, list(PUBLISHED_MARTS))
    assert published_hashes(folder, list(PUBLISHED_MARTS)) == expected
    assert manifest(folder)["content_hashes"] == expected
    with duckdb.connect(str(folder / "marts.duckdb"), read_only=True) as con:
        bi = {m: content_hash(con.sql(f'select * from "{m}"').to_arrow_table())
              for m in PUBLISHED_MARTS}
    assert bi == expected


def test_platform_sample_refresh_imports_the_example_assessments(data_dir: Path) -> None:
    folder = current(data_dir)
    wide = pq.read_table(folder / "mart_kommunkompassen.parquet").to_pylist()
    long = pq.read_table(folder / "mart_kommunkompassen_areas.parquet")
    # 8 example assessments; Grästorp 2021's bad row is quarantined, its 7 other areas land
    assert len(wide) == 8 and long.num_rows == 63
    karlskoga = next(r for r in wide if r["municipality_id"] == "1883")
    assert (karlskoga["total_stated"], karlskoga["total_summed"]) == (512.0, 515.0)
    assert karlskoga["total_agrees"] is False
    layout_landing = data_dir / "landing"
    assert list((layout_landing / "assessments").iterdir()) == []
    reports = sorted((layout_landing / "archive" / "assessments").glob("*/*.rapport.txt"))
    assert len(reports) == 2
    assert any("95+" in r.read_text(encoding="utf-8") for r in reports)
    credit = manifest(folder)["attribution"]["assessment"]["applies_to"]
    assert "score" in credit["mart_kommunkompassen_areas"]


def test_platform_sample_refresh_publishes_population_profile_and_followup(data_dir: Path) -> None:
    folder = current(data_dir)
    # SCB: every unit has its age structure, and Arvika's 80+ share is its bands' arithmetic
    dim = {r["municipality_id"]: r for r in pq.read_table(folder / "dim_municipality.parquet")
           .to_pylist()}
    assert len(dim) == 312 and all(r["share_80_plus"] is not None for r in dim.values())
    population = EventLog(data_dir / "events").events(POPULATION).to_pylist()
    arvika = {}
    for event in population:
        parts = event["entity_key"].split("|")
        if parts[0] == "1784" and parts[1] == str(dim["1784"]["age_structure_year"]):
            arvika[parts[2]] = json.loads(event["payload"])["population"]
    assert len(arvika) == 6
    assert dim["1784"]["share_80_plus"] == pytest.approx(100 * arvika["80+"] / sum(arvika.values()))
    # the profile: all 290 kommuner every year, ranked 1..n, share green recomputed
    profile = pq.read_table(folder / "mart_quality_profile.parquet").to_pylist()
    latest = [r for r in profile if r["is_latest_year"]]
    assert len(latest) == 290 and len({r["year"] for r in profile}) * 290 == len(profile)
    ranks = [r["profile_rank"] for r in latest]
    assert min(ranks) == 1 and max(ranks) <= 290 and ranks.count(1) == 1
    assert all(r["composite_score"] is not None for r in latest)
    scorecard = pq.read_table(folder / "mart_kkik_scorecard.parquet").to_pylist()
    year = latest[0]["year"]
    colours = [r["colour"] for r in scorecard if r["municipality_id"] == "1784" and r["year"] == year]
    coloured = [c for c in colours if c in ("green", "yellow", "red")]
    arvika_profile = next(r for r in latest if r["municipality_id"] == "1784")
    assert arvika_profile["share_green"] == pytest.approx(
        100 * coloured.count("green") / len(coloured), abs=1e-6)
    history = pq.read_table(folder / "mart_kvalitetskommun_history.parquet").to_pylist()
    assert len(history) == 15
    hoganas = next(r for r in history if r["municipality_id"] == "1284")
    assert hoganas["profile_year"] == 2022 and hoganas["kommunkompassen_total"] == 679.0
    # the example register: 4 initiatives, 6 KPIs, one row quarantined
    followup = pq.read_table(folder / "mart_improvement_followup.parquet").to_pylist()
    assert len(followup) == 6 and {r["outcome"] for r in followup} <= {
        "better_than_peers", "like_peers", "worse_than_peers"}
    reports = list((data_dir / "landing" / "archive" / "initiatives").glob("*/*.rapport.txt"))
    assert len(reports) == 1 and "tjugo-tjugotre" in reports[0].read_text(encoding="utf-8")


def test_platform_readme_analyst_queries_run_on_the_publication(data_dir: Path) -> None:
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    queries = dict(re.findall(r"```sql\n-- (\w+)\n(.*?)```", readme, flags=re.DOTALL))
    assert set(queries) == {"board", "peers", "profile"}
    results = {}
    for name, query in queries.items():
        sql = query.replace("'data/published/current/", f"'{current(data_dir)}/")
        results[name] = duckdb.connect().execute(sql).fetchall()
    assert len(results["board"]) == 40  # Arvika's board: the 40 KKiK KPIs
    assert 1 <= len(results["peers"]) <= 7
    ranks = [row[0] for row in results["profile"]]
    assert ranks == sorted(ranks) and ranks[0] == 1 and len(ranks) == 10


def test_platform_import_cli_revises_one_assessment_and_publishes_on_a_live_display(
    data_dir: Path, tmp_path: Path
) -> None:
    """Run on a real terminal (a pty, read back through a VT100 emulator): the import's
    quarantine warning prints above the display, the build's frames move while dbt runs, the
    bar reaches dbt's node count, and the final frame's clock agrees with the table."""
    before = current(data_dir)
    corrected = tmp_path / "karlskoga_rattad.csv"
    rows = [f"1883;2021;{n};{s};515" for n, s in enumerate([65, 62, 68, 64, 63, 66, 61, 66], 1)]
    rows[0] = "1883;2021;1;70;520"
    rows = [r.replace(";515", ";520") for r in rows]
    rows.append("1883;2021;9;95+;520")  # a bad row: quarantined, the rest lands
    corrected.write_text("kommunkod;år;område_nr;poäng;totalt\n" + "\n".join(rows) + "\n",
                         encoding="utf-8")
    run = run_in_terminal([sys.executable, "-m", "pipelines.cli", "import", str(corrected)],
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, cwd=str(REPO_ROOT))
    assert run.exit_code == 0, run.final
    screen = run.final
    assert "karlskoga_rattad.csv" in screen  # the report's summary is shown
    warnings = [line for line in screen.splitlines() if "WARNING" in line]
    assert warnings and not any("━" in line or "waiting" in line for line in warnings)
    # the build's frames: dbt's node count moves and reaches its total
    counts = [tuple(map(int, m.groups())) for frame in run.frames
              for m in [re.search(r"warehouse_models.*? (\d+)/(\d+) nodes", frame)] if m]
    totals = {total for _, total in counts}
    assert len(totals) == 1 and len({done for done, _ in counts}) >= 3, counts
    total = totals.pop()
    display = next(line for line in screen.splitlines()
                   if line.lstrip(" ✓").startswith("warehouse_models") and "━" in line)
    assert f"{total}/{total} nodes" in display
    clock = re.search(r"(\d+):(\d\d):(\d\d)", display)
    shown = int(clock[1]) * 3600 + int(clock[2]) * 60 + int(clock[3])
    row = next(line for line in screen.splitlines()
               if line.startswith("warehouse_models") and "│" in line)
    # the clock shows whole seconds (11.96 s is 0:00:11), the table tenths (12.0): they agree
    # when the table's figure lies in the clock's second, give or take its rounding
    assert -0.05 <= float(row.split("│")[2]) - shown <= 1.05, (display, row)
    after = current(data_dir)
    assert after != before
    wide = {r["municipality_id"] + str(r["assessment_year"]): r
            for r in pq.read_table(after / "mart_kommunkompassen.parquet").to_pylist()}
    assert wide["18832021"]["area_1_score"] == 70.0 and wide["18832021"]["total_agrees"] is True
    assert len(wide) == 8  # the other municipalities' assessments stay
    assert corrected.exists()  # a file named to the CLI is read where it is, never moved
    # the build ran the models the import reaches; the value chain was carried over from the
    # last build, published as its own file again, under the import's watermark
    build = json.loads((data_dir / "fingerprints" / "warehouse.json").read_text("utf-8"))
    assert {"fct_kpi_values", "mart_kkik_board"} <= set(build["carried"])
    assert "mart_kommunkompassen" not in build["carried"]
    assert json.loads((after / "manifest.json").read_text("utf-8"))["as_of"] == build["as_of"]
    assert (after / "mart_kkik_board.parquet").stat().st_ino == \
        (before / "mart_kkik_board.parquet").stat().st_ino
    # ... and the publisher shared the carried marts without reading their rows: the same dbt
    # invocation built them (dbt_project/macros/model_builds.sql)
    old, new = manifest(before), manifest(after)
    unread = set(new["sharing"]["marts_not_read"])
    assert {"fct_kpi_values", "mart_kkik_board", "mart_kkik_scorecard"} <= unread
    assert unread <= set(build["carried"]) and "mart_kommunkompassen" not in unread
    for mart in unread:
        assert new["marts"][mart]["built_by"] == old["marts"][mart]["built_by"]
        assert new["content_hashes"][mart] == old["content_hashes"][mart]
    assert new["marts"]["mart_kommunkompassen"]["built_by"] != \
        old["marts"]["mart_kommunkompassen"]["built_by"]


def dbt_builds(data: Path) -> int:
    """How many dbt invocations ran (each writes logs/dbt/<run id>.log)."""
    return len(list((data / "logs" / "dbt").glob("*.log")))


def test_platform_second_refresh_appends_nothing_and_publishes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before_events, before_version = value_events(data_dir), current(data_dir)
    builds = dbt_builds(data_dir)
    capsys.readouterr()
    assert main(["refresh", "--source", "sample"]) == 0
    out = capsys.readouterr().out
    assert value_events(data_dir) == before_events
    assert current(data_dir) == before_version
    ledger = EventLog(data_dir / "events").ledger().to_pylist()
    last_run = [r for r in ledger if r["run_id"] == ledger[-1]["run_id"]]
    assert {r["stream"] for r in last_run} >= {KPI_VALUE.name, KPI.name}
    assert all(r["upserted"] == 0 and r["deleted"] == 0 for r in last_run)
    # same events, code and config: no dbt, no checks, no publish, and it says so
    assert (f"nothing new since {before_version.name}: build, checks and publish skipped"
            in out)
    assert dbt_builds(data_dir) == builds
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["last_night"]["stage2"] == "skipped"
    assert status["last_night"]["since_version"] == before_version.name


def test_platform_a_changed_model_runs_the_build_again(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts" / (
        "mart_kkik_board.sql")
    original = model.read_text(encoding="utf-8")
    builds, before_version = dbt_builds(data_dir), current(data_dir)
    capsys.readouterr()
    try:
        model.write_text(original + "\n-- a comment is a change of the code\n", encoding="utf-8")
        assert main(["refresh", "--source", "sample"]) == 0
    finally:
        model.write_text(original, encoding="utf-8")
    out = capsys.readouterr().out
    assert "skipped" not in out and dbt_builds(data_dir) == builds + 1
    assert "nothing new to publish" in out  # the same watermark: the publisher still refuses
    assert current(data_dir) == before_version
    assert json.loads((data_dir / "nights.jsonl").read_text(encoding="utf-8").splitlines()[-1])[
        "changed"] == ["code"]


def test_platform_day_two_revisions_surface_in_marts(data_dir: Path) -> None:
    day1 = current(data_dir)
    assert main(["refresh", "--source", "sample", "--sample-day", "2"]) == 0
    day2 = current(data_dir)
    assert day2 != day1
    assert manifest(day2)["previous_as_of"] == manifest(day1)["as_of"]
    revisions = pq.read_table(day2 / "mart_revisions.parquet").to_pylist()
    kinds = {r["change_type"] for r in revisions}
    assert {"value_revised", "value_deleted", "value_added", "kpi_retitled"} <= kinds
    # a revision of the value itself (others change only the count or the status)
    revised = next(r for r in revisions if r["change_type"] == "value_revised"
                   and "value" in (r["changed_fields"] or "").split(","))
    assert revised["old_value"] != revised["new_value"]
    facts = pq.read_table(day2 / "fct_kpi_values.parquet")
    key = facts.filter(pc.equal(facts["entity_key"], revised["entity_key"])).to_pylist()
    assert key and key[0]["revision_count"] >= 1 and key[0]["value"] == revised["new_value"]


def test_platform_day_two_closes_renames_and_revises_units(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Units (issue 30): day 2's school that closes keeps its published years with is_open
    false, the renamed one shows its new name, and mart_unit_revisions lists both; so does
    mart_revisions (level unit), Arvika's "Ändrat" section, `history` and `diff`."""
    day2 = current(data_dir)
    revisions = pq.read_table(day2 / "mart_unit_revisions.parquet").to_pylist()
    by_type = {r["change_type"]: r for r in revisions}
    assert {"unit_closed", "unit_renamed", "unit_value_revised", "unit_value_deleted",
            "unit_value_added"} <= set(by_type)
    assert by_type["unit_closed"]["ou_id"] == "V15E178403601"
    assert by_type["unit_renamed"]["new_name"] == "Jösseforsskolan F-6"
    card = duckdb.sql(f"""select ou_id, any_value(ou_name), bool_and(is_open), max(year)
                          from '{day2}/mart_unit_scorecard.parquet'
                          where ou_id in ('V15E178403601', 'V15E178401203') group by 1
                          order by 1""").fetchall()
    assert card == [("V15E178401203", "Jösseforsskolan F-6", True, 2025),
                    ("V15E178403601", "Klässbols skola", False, 2023)]
    # mart_revisions holds the same changes at level unit: what changed is decided once
    unit_rows = [r for r in pq.read_table(day2 / "mart_revisions.parquet").to_pylist()
                 if r["level"] == "unit"]
    assert sorted((r["change_type"], r["entity_key"]) for r in unit_rows) == \
        sorted((r["change_type"], r["entity_key"]) for r in revisions)
    renamed = next(r for r in unit_rows if r["change_type"] == "unit_renamed")
    assert (renamed["old_title"], renamed["new_title"], renamed["municipality_id"]) == \
        ("Jössefors skola", "Jösseforsskolan F-6", "1784")
    # Arvika's page lists its units' changes beside its own
    page = (day2 / "report" / "kommun" / "1784.html").read_text(encoding="utf-8")
    changed = page.split('id="andrat"')[1].split("</section>")[0]
    assert "Enheten har upphört" in changed and "Klässbols skola" in changed
    assert "Jösseforsskolan F-6" in changed and "Reviderat värde för enheten" in changed
    # history of a revised unit value: both events, and what each publication showed
    revised = next(r for r in unit_rows if r["change_type"] == "unit_value_revised"
                   and "value" in (r["changed_fields"] or "").split(","))
    kpi, ou, year, _ = revised["entity_key"].split("|")
    capsys.readouterr()
    assert main(["history", kpi, ou, "--year", year, "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [e["payload"]["value"] for e in history["events"]][-2:] == \
        [revised["old_value"], revised["new_value"]]
    shown = {p["version"]: [row[1] for row in p["rows"]] for p in history["publications"]}
    assert shown[day2.name] == [revised["new_value"]]
    # diff: the unit scorecard between day 1's last publication and day 2's
    versions = sorted(p.name for p in (data_dir / "published").glob("v*"))
    day1 = versions[versions.index(day2.name) - 1]
    assert main(["diff", day1, day2.name, "--mart", "mart_unit_scorecard", "--json"]) == 0
    [card_diff] = json.loads(capsys.readouterr().out)
    assert card_diff["added"] > 0 and card_diff["removed"] > 0 and card_diff["changed"] > 0
    assert card_diff["examples"] and all(e["changes"] for e in card_diff["examples"])


def test_platform_operator_commands_tell_the_truth_after_day_two(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day2 = current(data_dir)
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["healthy"] is True and status["publication"]["version"] == day2.name
    assert status["jobs"]["nightly_refresh"]["status"] == "SUCCESS"
    assert status["jobs"]["nightly_publish"]["status"] == "SUCCESS"  # the night's 2nd run
    streams = {s["stream"]: s for s in status["streams"]}
    assert streams[KPI_VALUE.name]["last_batch_new"] > 0  # day 2 brought revisions
    assert streams[POPULATION.name]["keys_alive"] == 312 * 9 * 6
    # history: the revised value, both of its events and what each publication showed
    revised = next(r for r in pq.read_table(day2 / "mart_revisions.parquet").to_pylist()
                   if r["change_type"] == "value_revised"
                   and "value" in (r["changed_fields"] or "").split(","))
    kpi, municipality, year, gender = revised["entity_key"].split("|")
    assert main(["history", kpi, municipality, "--year", year, "--gender", gender,
                 "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    values = [e["payload"]["value"] for e in history["events"]]
    assert values[-2:] == [revised["old_value"], revised["new_value"]]
    assert all(e["source"].startswith("http://127.0.0.1") for e in history["events"])
    shown = {p["version"]: [row[2] for row in p["rows"]] for p in history["publications"]}
    assert shown[day2.name] == [revised["new_value"]]
    assert revised["old_value"] in [v for vs in shown.values() for v in vs]
    # diff: day 1's last publication against day 2's
    versions = sorted(p.name for p in (data_dir / "published").glob("v*"))
    day1 = versions[versions.index(day2.name) - 1]
    assert main(["diff", day1, day2.name, "--mart", "fct_kpi_values", "--json"]) == 0
    [facts] = json.loads(capsys.readouterr().out)
    assert facts["changed"] > 0 and facts["added"] > 0 and facts["removed"] > 0
    assert any(e["changes"].get("value") for e in facts["examples"])


def test_platform_day_two_explains_every_rank_change(data_dir: Path) -> None:
    day2 = current(data_dir)
    changes = pq.read_table(day2 / "mart_rank_changes.parquet").to_pylist()
    assert changes, "day 2 revises values, so some ranks move"
    assert [c for c in changes if c["cause"] == "unexplained"] == []
    ranked = [c for c in changes if c["rank_changed"]]
    assert any(c["cause"] == "others_revised" and c["new_value"] == c["old_value"]
               for c in ranked), "a rank can move although the kommun's own value did not"
    # an others_revised row counts at least one other kommun whose value changed
    assert all(c["others_revised_count"] >= 1 for c in changes if c["cause"] == "others_revised")


def test_platform_day_two_reads_costs_and_breaks_as_kkik_does(data_dir: Path) -> None:
    day2 = current(data_dir)
    with duckdb.connect() as con:
        scorecard = f"'{day2 / 'mart_kkik_scorecard.parquet'}'"
        wrong_cost_arrows = con.execute(f"""
            select count(*) from {scorecard}
            where change_direction = 'lower_better' and not y1_across_series_break
                and round(value, {PRINTED}) <> round(value_y1, {PRINTED})
                and change <> case when value < value_y1 then 'Upp' else 'Ned' end
        """).fetchall()[0][0]
        # Lika exactly when the two values print alike (docs/indicators.md, the Lika rule)
        wrong_lika = con.execute(f"""
            select count(*) from {scorecard}
            where change in ('Upp', 'Ned', 'Lika')
                and (change = 'Lika') <> (round(value, {PRINTED}) = round(value_y1, {PRINTED}))
        """).fetchall()[0][0]
        cost_arrows = con.execute(f"""
            select count(*) from {scorecard}
            where direction = 'not_ranked' and change in ('Upp', 'Ned') and colour is null
        """).fetchall()[0][0]
        breaks = con.execute(f"""
            select distinct kpi_id, year, change from {scorecard} where y1_across_series_break
        """).fetchall()
        retitled = con.execute(f"""
            select kpi_id, series_start_year from '{day2 / "dim_kpi.parquet"}'
            where series_start_year is not null
        """).fetchall()
        board = con.execute(f"""
            select kpi_id, year, series_start_year, change, count(*)
            from '{day2 / "mart_kkik_board.parquet"}' where across_series_break
            group by all
        """).fetchall()
    assert wrong_cost_arrows == 0 and cost_arrows > 0 and wrong_lika == 0
    assert len(retitled) == 1
    (kpi_id, start), = retitled
    assert breaks and {(k, y) for k, y, _ in breaks} == {(kpi_id, start)}
    assert {c for _, _, c in breaks} == {"Ingen"}
    # the board shows the break on every kommun's row of that KPI, and only there
    assert board == [(kpi_id, start, start, "Ingen", 290)]


def test_platform_day_two_follows_the_editions_and_keeps_a_partial_year_out(
    data_dir: Path,
) -> None:
    day2 = current(data_dir)
    with duckdb.connect() as con:
        def rows(sql: str) -> list[tuple]:
            return con.execute(sql.format(d=day2)).fetchall()

        per_year = dict(rows("""
            select year, count(distinct kpi_id) from '{d}/mart_kkik_scorecard.parquet'
            where colour in ('green', 'yellow', 'red') group by year"""))
        not_compared_coloured = rows("""
            select count(*) from '{d}/mart_kkik_scorecard.parquet'
            where not is_compared and colour is not null""")[0][0]
        profile_years = rows("""
            select distinct year, is_complete_year, is_latest_year
            from '{d}/mart_quality_profile.parquet' order by year""")
        history_years = {r[0] for r in rows("""
            select distinct profile_year from '{d}/mart_kvalitetskommun_history.parquet'""")}
        groups = dict(rows("""
            select municipality_id, any_value(kommungrupp_name || ' | '
                || coalesce(liknande_set_name, ''))
            from '{d}/mart_kkik_board.parquet'
            where municipality_id in ('1784', '0180') group by all"""))
        editions = set(rows("""
            select year, edition_year, is_later_edition from '{d}/mart_kkik_peer_values.parquet'
            where municipality_id = '1784' and peer_set_type = 'liknande_kommuner'"""))
    # the per-edition curation: 34 coloured, 30 in 2020-2021 (kkik_editions.csv)
    assert {y: n for y, n in per_year.items() if y <= 2024} == {
        **{y: 34 for y in range(2016, 2025)}, 2020: 30, 2021: 30}
    assert not_compared_coloured == 0
    # 2025 rests on one measure on day 2: flagged, never the latest, not read by the history
    assert profile_years[-1] == (2025, False, False)
    assert [y for y, _, latest in profile_years if latest] == [2024]
    assert 2025 not in history_years
    # peer groups as Kolada publishes them (the real 2022 liknande editions, SKR's 2023 indelning)
    assert groups == {
        "1784": "C8 Landsbygdskommun (indelning 2023) | Liknande kommuner, övergripande, Arvika, 2022",
        "0180": "A1 Storstäder (indelning 2023) | Liknande kommuner, övergripande, Stockholm, 2022"}
    assert {(y, e, later) for y, e, later in editions if y in (2021, 2022, 2023, 2025)} == {
        (2021, 2022, True), (2022, 2022, False), (2023, 2022, False), (2025, 2022, False)}


def test_platform_build_as_of_day_one_reproduces_it_and_publishes_only_when_allowed(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One as-of build serves both promises (a build is the costly part of this module):
    # it reproduces day 1's marts, and publishing it needs the explicit flag.
    newest = current(data_dir)
    versions = sorted(p for p in (data_dir / "published").iterdir()
                      if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    day1 = versions[0]
    assert main(["build", "--as-of", manifest(day1)["as_of"]]) == 0
    assert warehouse_hashes(data_dir, STATE_MARTS) == published_hashes(day1, STATE_MARTS)
    capsys.readouterr()
    assert main(["publish"]) == 3  # the publishing gate (README: exit codes)
    err = capsys.readouterr().err
    assert manifest(day1)["as_of"] in err and manifest(newest)["as_of"] in err
    assert "--allow-older" in err and current(data_dir) == newest
    assert main(["publish", "--allow-older", "board asked for the day-1 figures"]) == 0
    older = current(data_dir)
    assert older != newest and manifest(older)["as_of"] == manifest(day1)["as_of"]
    assert manifest(older)["allow_older_reason"] == "board asked for the day-1 figures"
    history = read_history(data_dir / "published")[-1]
    assert history["version"] == older.name
    assert history["allow_older_reason"] == "board asked for the day-1 figures"
    # back to the present for the tests that follow: the default build shows day 2 again
    assert main(["rollback", newest.name]) == 0 and main(["build"]) == 0
    assert warehouse_hashes(data_dir, STATE_MARTS) == published_hashes(newest, STATE_MARTS)


def test_platform_replay_from_the_event_log_gives_identical_marts(data_dir: Path) -> None:
    # The warehouse holds the default build the previous test ended with.
    before = warehouse_hashes(data_dir, list(PUBLISHED_MARTS))
    (data_dir / "warehouse.duckdb").unlink()
    shutil.rmtree(data_dir / "dbt", ignore_errors=True)
    assert main(["build", "--full-refresh"]) == 0
    assert warehouse_hashes(data_dir, list(PUBLISHED_MARTS)) == before


def _killed_build(data_dir: Path, *, point: str | None = None, in_dbt: float | None = None
                  ) -> int:
    """`kommunkvalitet build` in its own process group, SIGKILLed as a whole (dbt included)
    at a named crash point, or `in_dbt` seconds after dbt started (its log file appeared:
    robust on a loaded machine, where a fixed delay could fall before or after dbt)."""
    import signal
    import sys
    import time

    env = {**os.environ, "KK_CRASH_GROUP": "1"}
    if point:
        env.update(KK_CRASH_AT=point, KK_CRASH_MARKER=str(data_dir / "crash-reached"))
    logs = data_dir / "logs" / "dbt"
    known = set(logs.glob("*.log"))
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "build"], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if in_dbt is not None:
        deadline = time.monotonic() + 300
        while not set(logs.glob("*.log")) - known and proc.poll() is None:
            assert time.monotonic() < deadline, "dbt never started"
            time.sleep(0.2)
        time.sleep(in_dbt)
        if proc.poll() is None:  # else it ended first, and the caller's assert says so
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=300)
    return proc.returncode


def test_platform_build_killed_mid_dbt_and_at_its_crash_point_rebuilds_the_same_marts(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.publish.integrity import verify_publication
    from pipelines.publish.versions import read_manifest

    # the change marts describe the window since the current publication, which a build made
    # for it and a later rebuild see differently (see CHANGE_MARTS): compare the state marts
    before = warehouse_hashes(data_dir, STATE_MARTS)
    published = current(data_dir)
    assert _killed_build(data_dir, in_dbt=5.0) == -9  # inside dbt (its models take ~35 s)
    assert _killed_build(data_dir, point="build.before_dbt") == -9
    assert (data_dir / "crash-reached").read_text() == "build.before_dbt"
    # inside the GX step (issue 31: no random kill had landed there)
    assert _killed_build(data_dir, point="checks.inside_gx") == -9
    assert (data_dir / "crash-reached").read_text() == "checks.inside_gx"
    # the publication is untouched by a killed build
    assert current(data_dir) == published
    assert verify_publication(published.parent, published.name,
                              read_manifest(published.parent, published.name)).ok
    capsys.readouterr()
    # the rerun fails the orphaned run, gets the warehouse slot and converges
    assert main(["build"]) == 0
    # (the second killed build already failed the first one)
    assert capsys.readouterr().err.count("left STARTED by a process that is gone") == 1
    assert warehouse_hashes(data_dir, STATE_MARTS) == before


def test_platform_bad_events_block_publishing_and_keep_current(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = current(data_dir)
    before = published_hashes(folder, list(PUBLISHED_MARTS))
    # A source that delivers a share of 180 % for a KKiK "andel (%)" KPI: through the real log.
    log = EventLog(data_dir / "events")
    bad = value("N15428", "1784", 2023, 180.0)
    log.append(KPI_VALUE, records_to_table([bad]), batch_id="99990101T000000000000Z_bad",
               snapshot=None, scope_source="test://bad-source")
    assert main(["build"]) == 3  # blocked by a check
    assert main(["publish", "--force"]) == 3
    err = capsys.readouterr().err
    assert "shares_within_bounds" in err
    assert "publishing blocked" in err
    assert current(data_dir) == folder
    assert published_hashes(folder, list(PUBLISHED_MARTS)) == before
    # the source corrects itself: the next build passes again
    fixed = value("N15428", "1784", 2023, 81.5)
    log.append(KPI_VALUE, records_to_table([fixed]), batch_id="99990102T000000000000Z_fix",
               snapshot=None, scope_source="test://bad-source")
    assert main(["build"]) == 0
    # the failed publish was alerted by the CLI, and stays open until a publish succeeds
    capsys.readouterr()
    main(["status", "--json"])
    status = json.loads(capsys.readouterr().out)
    # the failed build's alert is closed by the build that passed; the publishes stay open
    jobs = {a["job"] for a in status["open_alerts"]}
    assert jobs == {"publish"}
    latest = status["open_alerts"][-1]
    assert latest["origin"] == "cli" and latest["failed_step"] == "publication"
    assert "blocked" in latest["root_cause"]


def test_platform_rollback_moves_current_back_and_says_so(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    newest = current(data_dir)
    assert main(["rollback"]) == 0
    back = current(data_dir)
    assert back != newest and back.name < newest.name
    assert f"(moved back from {newest.name})" in capsys.readouterr().out
    assert main(["rollback", newest.name]) == 0  # to a newer version: forward, and it says so
    assert f"(moved forward from {back.name})" in capsys.readouterr().out
    assert main(["rollback", back.name]) == 0
    assert main(["rollback", "v00000000T000000Z"]) == 1  # unknown versions are refused
    assert current(data_dir) == back


def _values_as_of(data: Path, as_of: str) -> dict[str, float | None]:
    """Each KPI value key's value as the event log stood at `as_of` (None: deleted)."""
    glob = str(data / "events" / KPI_VALUE.name / "*.parquet")
    rows = duckdb.connect().execute("""
        select entity_key, case when event_type = 'deleted' then null
                                else json_extract(payload, '$.value')::double end
        from read_parquet(?) where recorded_at <= ?::timestamptz
        qualify row_number() over (partition by entity_key
                                   order by recorded_at desc, batch_id desc) = 1""",
        [glob, as_of]).fetchall()
    return dict(rows)


def test_platform_an_ingest_and_an_import_during_a_refresh_all_succeed_and_stay_consistent(
        data_dir: Path, ui: UiWatch, tmp_path: Path) -> None:
    """Issue 15, concurrency: while a refresh's build holds the warehouse, an `ingest` (which
    writes only the event log) and an `import` (whose import step runs at once; its build then
    waits for the refresh's run to end, naming it: the warehouse reservation) run. All three
    succeed; the log verifies; the import publishes after the refresh, and each publication
    holds exactly the events its build saw (the refresh's none of the ingest's or the
    import's)."""
    published = data_dir / "published"
    arvika = tmp_path / "arvika_2023.csv"
    arvika.write_text("kommunkod;år;område_nr;poäng;totalt\n" + "".join(
        f"1784;2023;{n};{60 + n};516\n" for n in range(1, 9)), encoding="utf-8")
    known = set((data_dir / "logs" / "dbt").glob("*.log"))
    refresh = cli_process(data_dir, "refresh", "--source", "sample", "--sample-day", "3")
    wait_for_dbt(data_dir, known, refresh)  # stage 2 holds the warehouse
    ingest = cli_process(data_dir, "ingest", "--source", "sample", "--sample-day", "4")
    imported = cli_process(data_dir, "import", str(arvika))
    done = {name: finish(proc) for name, proc in
            (("refresh", refresh), ("ingest", ingest), ("import", imported))}
    for name, (code, _, err) in done.items():
        assert code == 0, f"{name}: {err[-3000:]}"
    assert "the warehouse is in use by nightly_publish run" in done["import"][2]
    assert "warehouse is in use" not in done["ingest"][2]  # an ingest waits for nothing
    assert main(["verify"]) == 0
    by_refresh, by_import = read_history(published)[-2:]
    assert by_import["previous_version"] == by_refresh["version"]
    first, last = (published / by_refresh["version"]), (published / by_import["version"])
    # values the ingest revised: the refresh's publication shows them as before, the import's
    # (built after) as the log stood at its as_of: revised, unless its build started before
    # the ingest had appended them (the ingest runs beside both: nothing orders the two)
    before, after = _values_as_of(data_dir, by_refresh["as_of"]), _values_as_of(
        data_dir, by_import["as_of"])
    final = _values_as_of(data_dir, datetime.now(UTC).isoformat())
    revised = {k for k in final if k in before and final[k] != before[k]}
    assert revised, "day 4 revises values"
    for folder, expected in ((first, before), (last, after)):
        shown = dict(duckdb.connect().execute(
            "select entity_key, value from read_parquet(?)",
            [str(folder / "fct_kpi_values.parquet")]).fetchall())
        compared = revised & set(shown)
        assert compared and all(shown[k] == expected[k] for k in compared)
    assessed = [{(r["municipality_id"], r["assessment_year"]) for r in
                 pq.read_table(f / "mart_kommunkompassen.parquet").to_pylist()}
                for f in (first, last)]
    assert ("1784", 2023) not in assessed[0] and ("1784", 2023) in assessed[1]
    assert ui.warehouse_open == set() and ui.failures == []  # the UI stayed open throughout


def test_platform_events_landing_after_a_build_was_launched_hold_its_publication_back(
    data_dir: Path, tmp_path: Path
) -> None:
    """A stage-2 run builds the models its launch-time plan selected
    (pipelines.orchestration.stage2). Values that land after the launch reach models it left
    out: the run still succeeds, publishes nothing (`current` would mix two moments), and the
    next build is a full one, whose publication carries the new values."""
    import argparse

    from pipelines.cli.run_config import run_config
    from pipelines.orchestration.definitions import defs
    from pipelines.orchestration.instance import shared_instance
    from pipelines.orchestration.stage2 import launch_selection, subset_config
    from pipelines.settings import load_settings
    from pipelines.sources.kommunkompassen.importer import import_file, known_municipalities

    settings = load_settings()
    layout, log = settings.layout, EventLog(data_dir / "events")
    before = current(data_dir)
    assessment = tmp_path / "arvika_2024.csv"
    assessment.write_text("kommunkod;år;område_nr;poäng;totalt\n" + "".join(
        f"1784;2024;{n};{55 + n};476\n" for n in range(1, 9)), encoding="utf-8")
    outcome = import_file(assessment, log, layout=layout, batch_id="99990103T000000000000Z_kk",
                          run_id="test", municipalities=known_municipalities(log), remove=False)
    assert outcome.batch is not None and outcome.batch.appended > 0
    job = defs.resolve_job_def("nightly_publish")
    config = run_config("nightly_publish", argparse.Namespace(quiet=True), settings)
    selection = launch_selection("nightly_publish", layout, settings.config_path, config)
    assert selection is not None and dg_key("fct_kpi_values") not in selection
    # ... and then a revision lands before the run starts
    kpi, unit, year = "N15428", "1784", 2023
    log.append(KPI_VALUE, records_to_table([value(kpi, unit, year, 12.34)]),
               batch_id="99990103T000000000001Z_late", snapshot=None, scope_source="test://late")
    result = job.execute_in_process(
        run_config=subset_config(job, selection, config), instance=shared_instance(settings),
        asset_selection=selection, raise_on_error=False)
    assert result.success
    published = [e.step_materialization_data.materialization for e in
                 result.get_asset_materialization_events()
                 if e.step_materialization_data.materialization.asset_key == dg_key("publication")]
    assert published and "nothing published" in published[0].metadata["message"].value
    assert current(data_dir) == before
    build = json.loads((data_dir / "fingerprints" / "warehouse.json").read_text("utf-8"))
    assert "fct_kpi_values" in build["left_stale"] and build["batches"] is None
    # the next build is a full one and its publication has both the assessment and the value
    assert main(["build", "-q"]) == 0
    assert main(["publish", "-q"]) == 0
    after = current(data_dir)
    assert after != before
    shown = duckdb.connect().execute(
        "select value from read_parquet(?) where kpi_id = ? and municipality_id = ? and period = ? "
        "and gender = 'T'", [str(after / "fct_kpi_values.parquet"), kpi, unit, year]).fetchall()
    assert shown == [(12.34,)]
    assert ("1784", 2024) in {(r["municipality_id"], r["assessment_year"]) for r in
                              pq.read_table(after / "mart_kommunkompassen.parquet").to_pylist()}


def dg_key(name: str):
    import dagster as dg

    return dg.AssetKey([name])
