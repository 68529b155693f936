"""Fetch one Kolada stream and append what changed to the event log.

Pure of Dagster: the assets call these functions with a client, the event log and a
progress callback, so tests can drive them directly and the CLI, schedule and tests still
share one path (they all go through the assets).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.eventlog.ledger import BATCH_STATUSES
from pipelines.eventlog.store import (
    BatchResult,
    EventLog,
    SnapshotScope,
    current_payloads,
    records_to_table,
)
from pipelines.scope import IngestScope
from pipelines.sources.failures import ledger_failure
from pipelines.sources.kolada.client import KoladaClient, SuspiciousEmptyAnswer
from pipelines.sources.kolada.streams import KPI_GROUP, KPI_VALUE, MUNICIPALITY, KoladaStream
from pipelines.sources.kolada.values_arrow import BULK_INCOMING_SCHEMA, last_wins

Progress = Callable[[str], None]


@dataclass(frozen=True)
class IngestReport:
    result: BatchResult
    mode: str
    pages: int
    requests: int
    seconds: float
    from_date: date | None = None

    def metadata(self) -> dict[str, object]:
        return {
            "batch_id": self.result.batch_id,
            "mode": self.mode,
            "from_date": self.from_date.isoformat() if self.from_date else None,
            "received": self.result.received,
            "events_appended": self.result.appended,
            "upserted": self.result.upserted,
            "deleted": self.result.deleted,
            "unchanged": self.result.unchanged,
            "pages": self.pages,
            "seconds": round(self.seconds, 2),
        }


def new_batch_id(run_id: str, now: datetime | None = None) -> str:
    """Sortable by time, and traceable to the Dagster run that wrote it."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S%fZ}_{run_id[:8]}"


def ingest_metadata(
    stream: KoladaStream,
    client: KoladaClient,
    log: EventLog,
    *,
    run_id: str,
    progress: Progress = print,
) -> IngestReport:
    """Metadata endpoints have no delta support: take a full snapshot and diff it."""
    batch_id = new_batch_id(run_id)
    with ledger_failure(log, stream, batch_id, run_id, client.base_url, "full"):
        return _ingest_metadata(stream, client, log, batch_id=batch_id, run_id=run_id,
                                progress=progress)


def _ingest_metadata(
    stream: KoladaStream, client: KoladaClient, log: EventLog, *, batch_id: str, run_id: str,
    progress: Progress,
) -> IngestReport:
    started = datetime.now(UTC)
    fetched = client.metadata(stream)
    incoming = records_to_table(fetched.records)
    if incoming.num_rows == 0:
        raise SuspiciousEmptyAnswer(
            f"{fetched.url} answered an empty list for {stream.name}; Kolada always has rows here. "
            "Refusing to treat it as 'everything was deleted'."
        )
    seconds = (datetime.now(UTC) - started).total_seconds()
    result = log.append(
        stream,
        incoming,
        batch_id=batch_id,
        snapshot=SnapshotScope(),
        scope_source=fetched.url,
        ledger={
            "run_id": run_id,
            "mode": "full",
            "source": fetched.url,
            "pages": fetched.pages,
            "requests": fetched.pages,
            "scope": json.dumps({"stream": stream.name, "ids": "all"}),
        },
    )
    progress(
        f"{stream.name}: {result.received:,} records, {result.appended:,} events appended "
        f"({result.upserted:,} upserted, {result.deleted:,} deleted), {fetched.pages} pages"
    )
    return IngestReport(result, "full", fetched.pages, fetched.pages, seconds)


def resolve_kpis(scope: IngestScope, log: EventLog) -> list[str]:
    """Members of the configured KPI groups (as the log knows them now) plus the single KPIs."""
    groups = current_payloads(log, KPI_GROUP)
    kpis: list[str] = []
    for group_id in scope.kpi_groups:
        group = groups.get(group_id)
        if group is None:
            raise LookupError(
                f"KPI group {group_id} (from the scope config) is not in the {KPI_GROUP.name} "
                f"stream; ingest {'/'.join(KPI_GROUP.asset_key_path)} first or fix the config."
            )
        kpis.extend(m["member_id"] for m in group.get("members", []))
    kpis.extend(scope.kpis)
    return sorted(dict.fromkeys(kpis))


def resolve_municipalities(scope: IngestScope, log: EventLog) -> list[str]:
    if scope.municipalities != "all":
        return sorted(scope.municipalities)
    units = sorted(current_payloads(log, MUNICIPALITY))
    if not units:
        raise LookupError(
            f"the {MUNICIPALITY.name} stream is empty; ingest "
            f"{'/'.join(MUNICIPALITY.asset_key_path)} first."
        )
    return units


def value_scope_fingerprint(kpis: Sequence[str], units: Sequence[str], years: Sequence[int]) -> str:
    import hashlib

    text = json.dumps([sorted(kpis), sorted(units), sorted(years)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def incremental_from_date(log: EventLog, fingerprint: str, stream: KoladaStream = KPI_VALUE
                          ) -> date | None:
    """One day before the last successful ingest of exactly this scope, else None (full)."""
    ledger = log.ledger()
    if ledger.num_rows == 0:
        return None
    values = ledger.filter(pc.equal(ledger["stream"], stream.name))
    mask = pc.and_(
        pc.equal(values["scope_fingerprint"], fingerprint),
        pc.is_in(values["status"], pa.array(BATCH_STATUSES)),  # a failed attempt is no baseline
    )
    previous = values.filter(mask)
    if previous.num_rows == 0:
        return None
    last = pc.max(previous["recorded_at"]).as_py()
    # A batch quarantined since (verify --repair) took events with it: fetch everything again.
    repaired = values.filter(pc.equal(values["status"], "quarantined"))
    if repaired.num_rows and pc.max(repaired["recorded_at"]).as_py() > last:
        return None
    return last.date() - timedelta(days=1)


def ingest_values(
    client: KoladaClient,
    log: EventLog,
    scope: IngestScope,
    *,
    run_id: str,
    full: bool = False,
    progress: Progress = print,
) -> IngestReport:
    batch_id = new_batch_id(run_id)
    with ledger_failure(log, KPI_VALUE, batch_id, run_id, client.base_url, None):
        return _ingest_values(client, log, scope, batch_id=batch_id, run_id=run_id, full=full,
                              progress=progress)


def _ingest_values(
    client: KoladaClient, log: EventLog, scope: IngestScope, *, batch_id: str, run_id: str,
    full: bool, progress: Progress,
) -> IngestReport:
    started = datetime.now(UTC)
    kpis = resolve_kpis(scope, log)
    units = resolve_municipalities(scope, log)
    years = list(scope.years)
    fingerprint = value_scope_fingerprint(kpis, units, years)
    from_date = None if full else incremental_from_date(log, fingerprint)
    mode = "incremental" if from_date else "full"
    progress(
        f"{KPI_VALUE.name}: {mode} fetch of {len(kpis)} KPIs x {len(units)} units x "
        f"{len(years)} years" + (f" changed since {from_date}" if from_date else "")
    )

    tables = []  # Arrow per chunk, never a Python object per value (values_arrow)
    pages = requests = 0
    disjoint = True
    for chunk in client.values(kpis, units, years, from_date=from_date):
        pages += chunk.pages
        requests += chunk.pages
        if not chunk.rows and from_date is None:
            _guard_empty_chunk(log, chunk.url, chunk.kpis, chunk.municipalities, chunk.years)
        tables.append((chunk.url, chunk.table))
        disjoint = disjoint and chunk.in_scope

    # Each chunk is deduplicated already; across chunks a key can only repeat when an answer
    # strayed outside its request's scope (the scopes are disjoint), and only then is the
    # key-wise pass over every value paid.
    # chunks complete in any order; by request URL, the batch file's order is the same each run
    tables.sort(key=lambda item: item[0])
    incoming = (pa.concat_tables([table for _, table in tables]) if tables
                else BULK_INCOMING_SCHEMA.empty_table())
    del tables
    if not disjoint:
        incoming = last_wins(incoming)
    snapshot = None if from_date else _value_scope(kpis, units, years)
    seconds = (datetime.now(UTC) - started).total_seconds()
    result = log.append(
        KPI_VALUE,
        incoming,
        batch_id=batch_id,
        snapshot=snapshot,
        scope_source=f"{client.base_url}/data/kpi/.../municipality/.../year/{years[0]}-{years[-1]}",
        ledger={
            "run_id": run_id,
            "mode": mode,
            "scope_fingerprint": fingerprint,
            "scope": json.dumps({"kpis": kpis, "municipalities": len(units), "years": years}),
            "from_date": from_date.isoformat() if from_date else None,
            "source": client.base_url,
            "pages": pages,
            "requests": requests,
        },
    )
    progress(
        f"{KPI_VALUE.name}: {result.received:,} values received, {result.appended:,} events appended "
        f"({result.upserted:,} upserted, {result.deleted:,} deleted, {result.unchanged:,} unchanged) "
        f"in {seconds:.1f} s"
    )
    return IngestReport(result, mode, pages, requests, seconds, from_date)


def _value_scope(
    kpis: Sequence[str], units: Sequence[str], years: Sequence[int]
) -> SnapshotScope:
    """What a full value answer speaks for: exactly the KPIs x units x years it asked for."""
    return SnapshotScope(
        {"kpi": list(kpis), "municipality": list(units), "period": [str(y) for y in years]}
    )


def _guard_empty_chunk(
    log: EventLog, url: str, kpis: Sequence[str], units: Sequence[str], years: Sequence[int]
) -> None:
    """An empty full answer where the log holds live values smells like a broken query, not
    like mass deletion: refuse to turn it into tombstones."""
    live = log.live_key_count(KPI_VALUE, _value_scope(kpis, units, years))
    if live:
        raise SuspiciousEmptyAnswer(
            f"{url} answered no values, but the event log holds {live:,} live values in that "
            "scope. Refusing to record them as deleted; retry later or check the query."
        )
