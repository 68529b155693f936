"""Fetch SCB population by age band for every unit the Kolada stream knows, into the event log.

Pure of Dagster, like the Kolada ingest. The table's metadata decides what can be asked (a
code SCB does not have is a 400, not an empty answer): the units and years of the scope that
the table lacks are reported and left out of the query and of the snapshot's scope, so their
events are never tombstoned by an answer that did not speak for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pipelines.eventlog.store import BatchResult, EventLog, SnapshotScope, records_to_table
from pipelines.sources.failures import ledger_failure
from pipelines.sources.kolada.ingest import new_batch_id
from pipelines.sources.records import SourceRecord
from pipelines.sources.scb.client import ScbClient, ScbError
from pipelines.sources.scb.records import (
    check_ages_complete,
    population_records,
    single_year_ages,
    to_kolada_unit,
    to_scb_region,
)
from pipelines.sources.scb.streams import POPULATION, POPULATION_CONTENT, POPULATION_TABLE

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PopulationReport:
    result: BatchResult
    queries: int
    requests: int
    cells: int
    units: int
    years: tuple[int, ...]
    missing_units: tuple[str, ...]
    updated: str | None
    seconds: float
    waited: float

    def metadata(self) -> dict[str, object]:
        return {
            "batch_id": self.result.batch_id,
            "mode": "full",
            "received": self.result.received,
            "events_appended": self.result.appended,
            "upserted": self.result.upserted,
            "deleted": self.result.deleted,
            "unchanged": self.result.unchanged,
            "pages": self.queries,
            "requests": self.requests,
            "cells": self.cells,
            "units": self.units,
            "years": f"{self.years[0]}-{self.years[-1]}" if self.years else "",
            "units_not_in_table": len(self.missing_units),
            "table_updated": self.updated or "",
            "seconds": round(self.seconds, 2),
            "waited_for_call_window_s": round(self.waited, 2),
        }


def ingest_population(
    client: ScbClient,
    log: EventLog,
    units: Sequence[str],
    years: Sequence[int],
    *,
    run_id: str,
    progress: Progress = print,
) -> PopulationReport:
    batch_id = new_batch_id(run_id)
    with ledger_failure(log, POPULATION, batch_id, run_id,
                        f"{client.base_url}/tables/{POPULATION_TABLE}", "full"):
        return _ingest_population(client, log, units, years, batch_id=batch_id, run_id=run_id,
                                  progress=progress)


def _ingest_population(
    client: ScbClient,
    log: EventLog,
    units: Sequence[str],
    years: Sequence[int],
    *,
    batch_id: str,
    run_id: str,
    progress: Progress,
) -> PopulationReport:
    started = datetime.now(UTC)
    meta = client.metadata(POPULATION_TABLE)
    contents = meta.dimension("ContentsCode").codes
    if POPULATION_CONTENT not in contents:
        raise ScbError(f"{POPULATION_TABLE} has no content {POPULATION_CONTENT}; it has "
                       f"{', '.join(contents)}")
    table_regions = set(meta.dimension("Region").codes)
    wanted = {to_scb_region(u): u for u in sorted(set(units))}
    regions = [code for code in wanted if code in table_regions]
    missing = tuple(wanted[code] for code in wanted if code not in table_regions)
    ages = single_year_ages(meta.dimension("Alder").codes)
    check_ages_complete(ages)
    table_years = {int(c) for c in meta.dimension("Tid").codes if c.isdigit()}
    asked_years = tuple(sorted(y for y in set(years) if y in table_years))
    if not regions or not asked_years:
        raise ScbError(
            f"{POPULATION_TABLE} has none of the {len(wanted)} units or none of the years "
            f"{min(years)}-{max(years)} (it has {min(table_years, default='-')}-"
            f"{max(table_years, default='-')}): nothing to ask"
        )
    progress(f"{POPULATION.name}: {len(regions)} units x {len(asked_years)} years x "
             f"{len(ages)} ages from {POPULATION_TABLE}"
             + (f"; {len(missing)} units not in the table ({', '.join(missing[:5])})"
                if missing else ""))
    selection = [
        ("Region", regions),
        ("Alder", ages),
        ("ContentsCode", [POPULATION_CONTENT]),
        ("Tid", [str(y) for y in asked_years]),
    ]
    # Alder stays whole in every query (101 cells, far below any limit): a band is summed
    # from one answer, so its provenance is one POST body.
    answers = client.data(POPULATION_TABLE, selection, keep_whole=("ContentsCode", "Alder"))
    records: list[SourceRecord] = []
    for answer in answers:
        records.extend(population_records(answer.dataset, answer.provenance, ages=ages))
    keys = [r.entity_key for r in records]
    if len(set(keys)) != len(keys):
        raise ScbError(f"{POPULATION_TABLE}: the split queries answered some band twice; "
                       "refusing an ambiguous batch")
    if not records:
        raise ScbError(f"{POPULATION_TABLE} answered {len(answers)} queries without a single "
                       f"number (POST {answers[0].provenance.url if answers else POPULATION_TABLE}"
                       "); refusing to record the population as deleted")
    updated = max((a.provenance.updated or "" for a in answers), default="") or None
    scope_units = [to_kolada_unit(code) for code in regions]
    seconds = (datetime.now(UTC) - started).total_seconds()
    result = log.append(
        POPULATION,
        records_to_table(records),
        batch_id=batch_id,
        snapshot=SnapshotScope({"municipality": scope_units,
                                "year": [str(y) for y in asked_years]}),
        scope_source=f"{client.base_url}/tables/{POPULATION_TABLE}",
        ledger={
            "run_id": run_id,
            "mode": "full",
            "source": f"{client.base_url}/tables/{POPULATION_TABLE}",
            "pages": len(answers),
            "requests": client.requests,
            "scope": json.dumps({
                "table": POPULATION_TABLE, "updated": updated, "units": len(scope_units),
                "years": list(asked_years),
                "body_sha256": [a.provenance.body_sha256 for a in answers],
            }),
            "note": f"table updated {updated}" if updated else None,
        },
    )
    progress(
        f"{POPULATION.name}: {result.received:,} band figures from {len(answers)} queries, "
        f"{result.appended:,} events appended ({result.upserted:,} upserted, "
        f"{result.deleted:,} deleted, {result.unchanged:,} unchanged) in {seconds:.1f} s"
    )
    return PopulationReport(result, len(answers), client.requests, sum(a.cells for a in answers),
                            len(scope_units), asked_years, missing, updated, seconds,
                            client.waited)
