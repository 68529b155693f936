"""`kommunkvalitet status`: is the platform healthy, and what did each part do last?

Reads the event log and its ledger, the Dagster instance's run records, `published/` and
alerts.jsonl; never the warehouse. Healthy (exit 0) unless the last nightly refresh failed,
nothing was ever published, the current publication is older than the schedule allows
(KK_MAX_PUBLICATION_AGE_HOURS, default 30: one nightly run plus a margin), or a batch file or
published file does not match the hash recorded for it (operations.verify, without its
payload pass: ~0.25 s on the sample's 260k events).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pipelines.checks.results import check_outcome, count_outcomes, suite_warnings
from pipelines.eventlog.ledger import BATCH_STATUSES
from pipelines.eventlog.store import UPSERTED, EventLog
from pipelines.operations.alerts import read_alerts
from pipelines.operations.freshness import calendar_today, kpi_freshness
from pipelines.operations.nights import last_night
from pipelines.operations.verify import verify_platform
from pipelines.publish.versions import list_versions
from pipelines.settings import Settings
from pipelines.sources.registry import STREAMS

JOBS = ("nightly_refresh", "nightly_publish", "full_refresh", "ingest", "build", "publish",
        "assessment_refresh")


@dataclass
class Status:
    checked_at: str
    streams: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    publication: dict[str, Any] | None = None
    versions_kept: int = 0
    stale_kpis: list[dict[str, Any]] = field(default_factory=list)
    freshness: dict[str, int] = field(default_factory=dict)
    open_alerts: list[dict[str, Any]] = field(default_factory=list)
    integrity: dict[str, Any] | None = None
    # the last night's stage-2 decision (pipelines.operations.nights): run, or skipped and why
    last_night: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy, "problems": self.problems, "checked_at": self.checked_at,
            "streams": self.streams, "jobs": self.jobs, "publication": self.publication,
            "versions_kept": self.versions_kept, "freshness": self.freshness,
            "stale_kpis": self.stale_kpis, "open_alerts": self.open_alerts,
            "integrity": self.integrity, "last_night": self.last_night,
        }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def stream_rows(log: EventLog, damaged: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Per stream its counts and last batch; a `damaged` stream is not read (its counts None)."""
    log.ensure_layout()
    ledger = log.ledger().to_pylist()
    rows = []
    with log._connect() as con:
        for name in STREAMS:
            if name in damaged:
                rows.append({"stream": name, "events": None, "keys_alive": None, "batches": None,
                             "last_batch_at": None, "damaged": True})
                continue
            events, alive = con.execute(
                f"""
                with latest as (
                    select event_type, row_number() over (
                        partition by entity_key order by recorded_at desc, batch_id desc) as n
                    from read_parquet('{log.glob(name)}')
                )
                select count(*), count(case when n = 1 and event_type = '{UPSERTED}' then 1 end)
                from latest
                """
            ).fetchone()
            batches = [r for r in ledger if r["stream"] == name and r["status"] in BATCH_STATUSES]
            last = max(batches, key=lambda r: r["recorded_at"]) if batches else None
            failures = [r for r in ledger if r["stream"] == name and r["status"] == "failed"
                        and (last is None or r["recorded_at"] > last["recorded_at"])]
            rows.append({
                "stream": name, "events": int(events), "keys_alive": int(alive),
                "batches": len(batches),
                "last_batch_at": _iso(last["recorded_at"]) if last else None,
                "last_batch_mode": last["mode"] if last else None,
                "last_batch_new": (last["upserted"] + last["deleted"]) if last else None,
                "last_batch_unchanged": last["unchanged"] if last else None,
                # an ingest that failed after the last good batch (its ledger row says why)
                "failed_since": failures[-1]["note"] if failures else None,
            })
    return rows


def job_rows(settings: Settings) -> dict[str, dict[str, Any] | None]:
    """The last run of each job on the shared instance (None when it never ran)."""
    from dagster import DagsterInstance, RunsFilter

    home = settings.dagster_home
    if not (home / "dagster.yaml").exists() and not (home / "history").exists():
        return dict.fromkeys(JOBS)
    instance = DagsterInstance.from_config(str(home))
    try:
        out: dict[str, dict[str, Any] | None] = {}
        for job in JOBS:
            records = instance.get_run_records(filters=RunsFilter(job_name=job), limit=1)
            if not records:
                out[job] = None
                continue
            record = records[0]
            out[job] = {
                "run_id": record.dagster_run.run_id,
                "status": record.dagster_run.status.value,
                "started_at": _iso(record.start_time),
                "ended_at": _iso(record.end_time),
            }
        return out
    finally:
        instance.dispose()


def collect_status(settings: Settings, *, now: datetime | None = None,
                   max_age_hours: float = 30.0) -> Status:
    now = now or datetime.now(UTC)
    layout = settings.layout
    status = Status(checked_at=now.isoformat(timespec="seconds"))
    log = EventLog(layout.events_dir)
    report = verify_platform(settings, payloads=False)  # sizes + sha256: see docs/event-log.md
    status.integrity = report.summary()
    status.problems.extend(report.problem_lines())
    damaged = frozenset(p.stream for p in report.events.problems)
    status.streams = stream_rows(log, damaged)
    status.jobs = job_rows(settings)
    status.last_night = last_night(settings.data_dir)
    manifest = report.manifest
    status.versions_kept = len(list_versions(layout.published_dir)) if (
        layout.published_dir.exists()) else 0
    if manifest:
        results = manifest.get("checks", {}).get("results", [])
        status.publication = {
            "version": manifest.get("version"),
            "path": str((layout.published_dir / str(manifest.get("version"))).resolve()),
            "as_of": manifest.get("as_of"), "published_at": manifest.get("published_at"),
            "synthetic": manifest.get("synthetic"),
            "checks_passed": sum(1 for r in results if r.get("passed")),
            "checks_total": len(results), "row_counts": manifest.get("row_counts", {}),
            "checks": count_outcomes([
                check_outcome(bool(r.get("passed")), str(r.get("severity", "ERROR")),
                              suite_warnings(r.get("suite"))) for r in results]),
        }
        published = datetime.fromisoformat(str(manifest["published_at"]))
        age = (now - published).total_seconds() / 3600
        status.publication["age_hours"] = round(age, 1)
        if age > max_age_hours:
            status.problems.append(f"the current publication is {age:.0f} h old (more than "
                                   f"{max_age_hours:g} h: the nightly refresh has not published)")
    else:
        status.problems.append("nothing has been published yet (run `kommunkvalitet refresh`)")
    for stage in ("nightly_refresh", "nightly_publish"):  # a night is two runs
        nightly = status.jobs.get(stage)
        if nightly and nightly["status"] == "FAILURE":
            status.problems.append(f"the last {stage} ({nightly['run_id']}) failed")
    fresh = [] if damaged else kpi_freshness(
        log, today=calendar_today(log, now.date() if isinstance(now, datetime) else date.today()),
        grace_days=settings.freshness_grace_days)
    status.freshness = {s: sum(r.state == s for r in fresh)
                        for s in ("fresh", "waiting", "stale", "no_schedule")}
    status.stale_kpis = [r.as_dict() for r in fresh if r.state == "stale"]
    status.open_alerts = _open_alerts(settings, status.jobs)
    return status


def _open_alerts(settings: Settings, jobs: dict[str, dict[str, Any] | None]
                 ) -> list[dict[str, Any]]:
    """Alerts of a job that has not succeeded since (a later success closes them)."""
    open_ = []
    for alert in read_alerts(settings.data_dir):
        last = jobs.get(alert.get("job"))
        closed = (last is not None and last["status"] == "SUCCESS"
                  and (last.get("started_at") or "") > str(alert.get("at", "")))
        if not closed:
            open_.append(alert)
    return open_


def render(status: Status) -> str:
    lines = [f"kommunkvalitet status ({status.checked_at}): "
             + ("healthy" if status.healthy else "UNHEALTHY")]
    lines += [f"  ! {p}" for p in status.problems]
    lines.append("streams:")
    for s in status.streams:
        if s.get("damaged"):
            lines.append(f"  {s['stream']:28s} DAMAGED: not read (kommunkvalitet verify)")
            continue
        if s["last_batch_at"] is None:
            last = "never fetched"
        elif s["last_batch_new"]:
            last = f"checked {s['last_batch_at']}, {s['last_batch_new']:,} new or changed"
        else:
            last = f"checked {s['last_batch_at']}, nothing new"
        lines.append(f"  {s['stream']:28s} {s['events']:>9,} events  {s['keys_alive']:>9,} "
                     f"keys alive  {last}")
        if s.get("failed_since"):
            lines.append(f"    last attempt failed: {s['failed_since'][:200]}")
    lines.append("jobs (last run):")
    for job, run in status.jobs.items():
        lines.append(f"  {job:28s} " + (f"{run['status']:8s} {run['started_at']}  {run['run_id']}"
                                         if run else "never ran"))
    night = status.last_night
    if night:
        if night["stage2"] == "skipped":
            lines.append(f"last night ({night['at']}): build, checks and publish skipped: "
                         f"nothing new since {night['since_version']} ({night['reason']})")
        else:
            lines.append(f"last night ({night['at']}): build, checks and publish run "
                         f"({night['reason']})")
    p = status.publication
    if p:
        lines += [
            f"publication: {p['version']} as of {p['as_of']} ({p['age_hours']} h old"
            + (", synthetic sample" if p.get("synthetic") else "") + ")",
            f"  {p['path']}",
            (f"  checks on the published marts: {p['checks']}; "
            f"{sum(p['row_counts'].values()):,} rows in {len(p['row_counts'])} marts; "
            f"{status.versions_kept} versions kept"),
        ]
    else:
        lines.append("publication: none")
    f = status.freshness
    lines.append(f"freshness (Kolada's release calendar): {f.get('fresh', 0)} fresh, "
                 f"{f.get('waiting', 0)} waiting, {f.get('stale', 0)} stale, "
                 f"{f.get('no_schedule', 0)} without a date")
    for k in status.stale_kpis[:10]:
        lines.append(f"  stale {k['kpi_id']}: {k['publ_period']} due {k['publication_date']} "
                     f"({k['overdue_days']} days ago), latest {k['latest_period']}")
    if len(status.stale_kpis) > 10:
        lines.append(f"  ... and {len(status.stale_kpis) - 10} more (status --json lists all)")
    if status.integrity:
        i = status.integrity
        lines.append(f"integrity: {i['event_files_checked']} event files "
                     f"({i['event_bytes_checked']:,} bytes), {i['published_files_checked']} "
                     f"published files checked in {i['seconds']} s; "
                     + ("ok" if i["ok"] else f"{i['problems']} problems")
                     + (f"; {i['no_checksum']} files with no checksum recorded (older ledger rows)"
                        if i["no_checksum"] else ""))
    lines.append(f"open alerts: {len(status.open_alerts)}")
    for a in status.open_alerts[-5:]:
        lines.append(f"  {a.get('at')} {a.get('job')} {a.get('failed_step') or ''}: "
                     f"{a.get('root_cause')}")
    return "\n".join(lines)
