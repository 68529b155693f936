"""Operating it every night: alerts (webhook on 127.0.0.1, never blocking, the URL never
shown), the run-failure sensor, the CLI's own alert, per-KPI freshness and the schedule."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest

from pipelines.eventlog.store import EventLog, records_to_table
from pipelines.operations import alerts
from pipelines.operations.alerts import Alert, read_alerts, record_alert
from pipelines.operations.freshness import kpi_freshness
from pipelines.sources.kolada.streams import KPI, KPI_VALUE
from tests.eventlog_helpers import Rec, value

SECRET = "s3cr3t-token-abc"


class Webhook:
    """A webhook receiver on 127.0.0.1; `delay` makes it hang before answering."""

    def __init__(self, delay: float = 0.0, status: int = 200) -> None:
        self.received: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.received.append(json.loads(body))
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/{SECRET}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def an_alert(**kw: object) -> Alert:
    options = {"job": "nightly_refresh", "run_id": "r1", "failed_step": "kolada__kpi_value",
               "root_cause": "KoladaUnavailable: ...", "run_url": "http://127.0.0.1:3000/runs/r1",
               "origin": "cli"}
    options.update(kw)
    return Alert(**options)  # type: ignore[arg-type]


def test_an_alert_is_logged_recorded_and_posted(tmp_path: Path, webhook: Webhook,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    recorded = record_alert(tmp_path, an_alert(), webhook_url=webhook.url)
    assert recorded.delivered == "webhook"
    [body] = webhook.received
    assert body["job"] == "nightly_refresh" and body["failed_step"] == "kolada__kpi_value"
    assert body["run_url"].endswith("/runs/r1")
    [row] = list(read_alerts(tmp_path))
    assert row["run_id"] == "r1" and row["delivered"] == "webhook"
    assert any("ALERT" in r.getMessage() for r in caplog.records)
    everything = caplog.text + (tmp_path / "alerts.jsonl").read_text()
    assert SECRET not in everything


def test_a_hanging_webhook_never_blocks_and_never_shows_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hook = Webhook(delay=5.0)
    monkeypatch.setattr(alerts, "WEBHOOK_TIMEOUT_S", 0.5)
    try:
        started = time.monotonic()
        recorded = record_alert(tmp_path, an_alert(), webhook_url=hook.url)
        assert time.monotonic() - started < 3.0
    finally:
        hook.close()
    assert recorded.delivered == "webhook failed: ReadTimeout"
    assert len(list(read_alerts(tmp_path))) == 1
    assert SECRET not in caplog.text + (tmp_path / "alerts.jsonl").read_text()


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:1/hook/" + SECRET, "webhook failed: ConnectError"),
    ("not a url " + SECRET, "webhook failed: UnsupportedProtocol"),
])
def test_an_unreachable_webhook_is_recorded_not_raised(tmp_path: Path, url: str, expected: str
                                                       ) -> None:
    recorded = record_alert(tmp_path, an_alert(), webhook_url=url)
    assert recorded.delivered == expected
    assert SECRET not in (tmp_path / "alerts.jsonl").read_text()


def test_an_error_status_from_the_webhook_is_recorded(tmp_path: Path) -> None:
    hook = Webhook(status=500)
    try:
        assert record_alert(tmp_path, an_alert(), webhook_url=hook.url).delivered == (
            "webhook answered HTTP 500")
    finally:
        hook.close()


@dg.op
def fails() -> None:
    raise RuntimeError("the root cause\nsecond line")


@dg.job
def failing_job() -> None:
    fails()


def _failure_context(instance: dg.DagsterInstance, tags: dict[str, str] | None = None):
    from assets.operations import run_failure_alert_sensor

    result = failing_job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name=run_failure_alert_sensor.name, dagster_instance=instance,
        dagster_run=result.dagster_run, dagster_event=result.get_run_failure_event(),
    ).for_run_failure()
    return run_failure_alert_sensor, context, result


def test_the_failure_sensor_alerts_any_failed_run(tmp_path: Path, webhook: Webhook,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KK_ALERT_WEBHOOK_URL", webhook.url)
    with dg.instance_for_test() as instance:
        sensor, context, result = _failure_context(instance)
        sensor(context)
    [row] = list(read_alerts(tmp_path))
    assert row["origin"] == "sensor" and row["run_id"] == result.run_id
    assert row["failed_step"] == "fails" and row["root_cause"] == "RuntimeError: the root cause"
    assert webhook.received[0]["run_id"] == result.run_id


def test_the_failure_sensor_leaves_cli_runs_to_the_cli(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path))
    from pipelines.orchestration.jobs import ORIGIN_TAG

    with dg.instance_for_test() as instance:
        sensor, context, _ = _failure_context(instance, tags={ORIGIN_TAG: "cli"})
        sensor(context)
    assert list(read_alerts(tmp_path)) == []


def test_a_failed_cli_run_alerts_without_a_daemon(tmp_path: Path, webhook: Webhook,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.cli import main

    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster"))
    monkeypatch.setenv("KK_ALERT_WEBHOOK_URL", webhook.url)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "warehouse.duckdb").touch()  # a warehouse whose marts never built
    assert main(["publish"]) == 3  # the gate blocks
    [row] = list(read_alerts(tmp_path / "data"))
    assert row["origin"] == "cli" and row["job"] == "publish" and row["failed_step"]
    assert webhook.received and webhook.received[0]["run_id"] == row["run_id"]
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert "alert recorded" in out.err


def _kpi(kpi_id: str, due: str | None, period: int | None) -> Rec:
    return Rec(kpi_id, {"id": kpi_id, "title": f"KPI {kpi_id}", "publication_date": due,
                        "publ_period": period})


def test_freshness_reads_each_kpis_own_release_calendar(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    kpis = [_kpi("N00001", "2026-03-01", 2025),   # due long ago, 2025 arrived -> fresh
            _kpi("N00002", "2026-03-01", 2025),   # due long ago, only 2024 -> stale
            _kpi("N00003", "2026-05-25", 2025),   # due 7 days ago, within the grace -> waiting
            _kpi("N00004", None, None)]           # no date announced -> never stale
    log.append(KPI, records_to_table(kpis), batch_id="b1", snapshot=None, scope_source="t")
    values = [value("N00001", "1784", 2025, 1.0), value("N00002", "1784", 2024, 1.0),
              value("N00003", "1784", 2024, 1.0), value("N00004", "1784", 2020, 1.0),
              value("N00002", "1784", 2025, 2.0)]
    log.append(KPI_VALUE, records_to_table(values), batch_id="b2", snapshot=None,
               scope_source="t")
    # the 2025 value of N00002 is deleted again: a tombstone does not count as arrived
    log.append(KPI_VALUE, records_to_table([value("N00002", "1784", 2025, None, deleted=True)]),
               batch_id="b3", snapshot=None, scope_source="t")
    rows = {r.kpi_id: r for r in kpi_freshness(log, today=date(2026, 6, 1), grace_days=14)}
    assert {k: r.state for k, r in rows.items()} == {
        "N00001": "fresh", "N00002": "stale", "N00003": "waiting", "N00004": "no_schedule"}
    assert rows["N00002"].overdue_days == 92 and rows["N00002"].latest_period == 2024


def test_the_nightly_schedule_runs_at_two_in_stockholm() -> None:
    from pipelines.orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("nightly_refresh_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Stockholm"
    assert schedule.job_name == "nightly_refresh"
    full = defs.resolve_job_def("full_refresh")
    assert full.tags.get("kommunkvalitet/full") == "true"


@dg.op
def passes() -> None:
    pass


@dg.job
def passing_job() -> None:
    passes()


def _success_context(instance: dg.DagsterInstance, tags: dict[str, str] | None = None):
    from assets.operations import nightly_publish_sensor

    result = passing_job.execute_in_process(instance=instance, tags=tags)
    context = dg.build_run_status_sensor_context(
        sensor_name=nightly_publish_sensor.name, dagster_instance=instance,
        dagster_run=result.dagster_run, dagster_event=result.get_run_success_event(),
    )
    return nightly_publish_sensor, context, result


def test_a_night_is_two_runs_so_a_failed_ingest_plans_no_mart() -> None:
    from pipelines.orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    ingest = set(defs.resolve_job_def("nightly_refresh").asset_layer.selected_asset_keys)
    publish = set(defs.resolve_job_def("nightly_publish").asset_layer.selected_asset_keys)
    ingestion = {k for k in graph.get_all_asset_keys()
                 if graph.get(k).group_name == "ingestion"}
    assert ingest == ingestion  # a failed ingest run has planned (and can fail) only these
    assert ingest.isdisjoint(publish)
    assert dg.AssetKey(["publication"]) in publish and dg.AssetKey(["mart_kkik_scorecard"]) in publish
    assert ingest | publish == set(graph.get_all_asset_keys())  # nothing left out of the night
    full = set(defs.resolve_job_def("full_refresh").asset_layer.selected_asset_keys)
    assert full == ingest


def test_the_daemon_starts_stage_two_after_a_successful_ingest(data_dir: Path) -> None:
    from pipelines.orchestration.jobs import ORIGIN_TAG

    with dg.instance_for_test() as instance:
        sensor, context, result = _success_context(instance)
        request = sensor(context)
        assert request.run_key == f"after-{result.run_id}"
        assert request.tags["kommunkvalitet/after"] == result.run_id
        # the CLI chains its own runs: the sensor must not start a second stage 2
        sensor, context, _ = _success_context(instance, tags={ORIGIN_TAG: "cli"})
        assert sensor(context) is None
    from pipelines.orchestration.definitions import defs

    sensor_def = defs.resolve_sensor_def("nightly_publish_sensor")
    assert sensor_def.job_name == "nightly_publish"
    assert json.loads((data_dir / "nights.jsonl").read_text(encoding="utf-8"))["trigger"] == (
        "sensor")  # its decision is recorded for `status` (nothing published yet: run)


def test_the_daemon_skips_stage_two_when_nothing_is_new(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.operations import nights

    monkeypatch.setattr("assets.operations.decide", lambda layout, config_path: nights.Decision(
        True, "same events, code and config", since_version="v1"))
    with dg.instance_for_test() as instance:
        sensor, context, result = _success_context(instance)
        skipped = sensor(context)
        assert isinstance(skipped, dg.SkipReason)
        assert skipped.skip_message.startswith("nothing new since v1")
        assert instance.get_run_by_id(result.run_id).tags[nights.STAGE2_TAG] == "skipped"
    assert nights.last_night(data_dir)["stage2"] == "skipped"


@pytest.mark.parametrize(("ingest_code", "expected_jobs", "code"), [
    (0, ["nightly_refresh", "nightly_publish"], 0),
    (1, ["nightly_refresh"], 1),
])
def test_the_cli_refresh_runs_stage_two_only_after_a_good_ingest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        ingest_code: int, expected_jobs: list[str], code: int) -> None:
    from pipelines import cli
    from pipelines.cli import jobs as cli_jobs

    monkeypatch.setenv("KK_DATA_DIR", str(tmp_path))
    ran: list[str] = []

    def fake_execute_job(job: str, config: dict, settings: object, **_: object) -> tuple:
        ran.append(job)
        return (ingest_code if job == "nightly_refresh" else 0), None

    monkeypatch.setattr(cli_jobs, "execute_job", fake_execute_job)
    assert cli.main(["refresh", "--source", "sample"]) == code
    assert ran == expected_jobs
    if ingest_code:
        assert "current publication are unchanged" in capsys.readouterr().err
