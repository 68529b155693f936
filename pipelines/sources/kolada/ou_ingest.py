"""Fetch Kolada's unit values (`/oudata`) for the configured unit scope and append them.

The same rules as the municipal values (ingest.py): a full fetch first, then `from_date` with
one day of overlap for exactly the same scope; a full answer tombstones only inside the scope
it asked for. What differs is the scope: with `units.municipalities: all` the client asks for
every unit of a KPI and year (no ou segment), so the answer speaks for KPI x year and any unit;
with a list of kommuner it asks for their units (from the ou stream), 25 at a time, and speaks
for exactly those units.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from pipelines.eventlog.store import EventLog, SnapshotScope, current_payloads
from pipelines.scope import IngestScope
from pipelines.sources.failures import ledger_failure
from pipelines.sources.kolada.client import KoladaClient, SuspiciousEmptyAnswer
from pipelines.sources.kolada.ingest import (
    IngestReport,
    Progress,
    incremental_from_date,
    new_batch_id,
    value_scope_fingerprint,
)
from pipelines.sources.kolada.streams import OU, OU_VALUE
from pipelines.sources.kolada.values_arrow import BULK_INCOMING_SCHEMA, last_wins


def resolve_ous(scope: IngestScope, log: EventLog) -> list[str] | None:
    """The units asked for: None = every unit (`municipalities: all`), else the live units of
    the listed kommuner as the ou stream knows them now."""
    wanted = scope.units.municipalities
    if wanted == "all":
        return None
    units = current_payloads(log, OU)
    if not units:
        raise LookupError(f"the {OU.name} stream is empty; ingest {'/'.join(OU.asset_key_path)} "
                          "first.")
    kommuner = set(wanted)
    return sorted(u["id"] for u in units.values() if u.get("municipality") in kommuner)


def ou_value_scope(kpis: Sequence[str], ous: Sequence[str] | None, years: Sequence[int]
                   ) -> SnapshotScope:
    """What a full unit answer speaks for: the KPIs x years asked, and the units asked (every
    unit when none were named)."""
    parts: dict[str, list[str]] = {"kpi": list(kpis), "period": [str(y) for y in years]}
    if ous is not None:
        parts["ou"] = list(ous)
    return SnapshotScope(parts)


def ingest_ou_values(
    client: KoladaClient,
    log: EventLog,
    scope: IngestScope,
    *,
    run_id: str,
    full: bool = False,
    progress: Progress = print,
) -> IngestReport:
    batch_id = new_batch_id(run_id)
    with ledger_failure(log, OU_VALUE, batch_id, run_id, client.base_url, None):
        return _ingest(client, log, scope, batch_id=batch_id, run_id=run_id, full=full,
                       progress=progress)


def _ingest(client: KoladaClient, log: EventLog, scope: IngestScope, *, batch_id: str,
            run_id: str, full: bool, progress: Progress) -> IngestReport:
    started = datetime.now(UTC)
    kpis = list(scope.units.kpis)
    years = list(scope.years)
    ous = resolve_ous(scope, log) if kpis else []
    fingerprint = value_scope_fingerprint(kpis, ["all"] if ous is None else ous, years)
    from_date = None if full else incremental_from_date(log, fingerprint, OU_VALUE)
    mode = "incremental" if from_date else "full"
    shown_units = "all units" if ous is None else f"{len(ous)} units"
    progress(f"{OU_VALUE.name}: {mode} fetch of {len(kpis)} unit KPIs x {shown_units} x "
             f"{len(years)} years" + (f" changed since {from_date}" if from_date else ""))

    tables: list[tuple[str, pa.Table]] = []  # Arrow per chunk (ou_values_arrow)
    pages = 0
    if kpis and ous != []:
        for chunk in client.ou_values(kpis, ous, years, from_date=from_date):
            pages += chunk.pages
            if not chunk.rows and from_date is None:
                _guard_empty_chunk(log, chunk.url, ou_value_scope(chunk.kpis, chunk.ous,
                                                                  chunk.years))
            tables.append((chunk.url, chunk.table))
    # by URL: the same batch order each run; a key in two answers (one strayed outside its
    # request) keeps the last
    tables.sort(key=lambda item: item[0])
    incoming = last_wins(pa.concat_tables([t for _, t in tables])) if tables \
        else BULK_INCOMING_SCHEMA.empty_table()
    # no unit KPIs or no units: an empty partial batch, so the ledger still shows the run
    snapshot = (ou_value_scope(kpis, ous, years) if from_date is None and kpis and ous != []
                else None)
    seconds = (datetime.now(UTC) - started).total_seconds()
    result = log.append(
        OU_VALUE,
        incoming,
        batch_id=batch_id,
        snapshot=snapshot,
        scope_source=f"{client.base_url}/oudata/kpi/.../year/{years[0]}-{years[-1]}",
        ledger={
            "run_id": run_id,
            "mode": mode,
            "scope_fingerprint": fingerprint,
            "scope": json.dumps({"kpis": kpis, "ous": "all" if ous is None else len(ous),
                                 "years": years}),
            "from_date": from_date.isoformat() if from_date else None,
            "source": client.base_url,
            "pages": pages,
            "requests": pages,
        },
    )
    progress(f"{OU_VALUE.name}: {result.received:,} values received, {result.appended:,} events "
             f"appended ({result.upserted:,} upserted, {result.deleted:,} deleted, "
             f"{result.unchanged:,} unchanged) in {seconds:.1f} s")
    return IngestReport(result, mode, pages, pages, seconds, from_date)


def _guard_empty_chunk(log: EventLog, url: str, scope: SnapshotScope) -> None:
    """An empty full answer where the log holds live unit values smells like a broken query."""
    live = log.live_key_count(OU_VALUE, scope)
    if live:
        raise SuspiciousEmptyAnswer(
            f"{url} answered no unit values, but the event log holds {live:,} live values in "
            "that scope. Refusing to record them as deleted; retry later or check the query.")
