"""`kommunkvalitet history`: every recorded value of one key, and what each publication showed.

The answer to "why did this number change?": each event of the key (when it was recorded, in
which batch and run, from which URL or file, and the value), then, per kept publication, the
value that publication carried. Reads the event log, its ledger and `published/`; never the
warehouse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.eventlog.ledger import BATCH_STATUSES
from pipelines.eventlog.store import EventLog
from pipelines.publish.versions import list_versions, read_manifest
from pipelines.sources.kolada.streams import KPI_VALUE, OU, OU_VALUE
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN


@dataclass
class KeyHistory:
    what: str
    events: list[dict[str, Any]] = field(default_factory=list)
    publications: list[dict[str, Any]] = field(default_factory=list)
    # a unit's own events (the OU stream): listed, renamed, closed; only for a unit's value
    unit_events: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {"what": self.what, "events": self.events, "publications": self.publications}
        if self.unit_events:
            out["unit_events"] = self.unit_events
        return out


def _events(log: EventLog, stream, pattern: str) -> list[dict[str, Any]]:
    log.ensure_layout()
    ledger = {(r["batch_id"], r["stream"]): r for r in log.ledger().to_pylist()
              if r["status"] in BATCH_STATUSES}
    with log._connect() as con:
        rows = con.execute(
            f"""select entity_key, event_type, payload, recorded_at, batch_id, source
                from read_parquet('{log.glob(stream)}')
                where entity_key like ? order by entity_key, recorded_at, batch_id""",
            [pattern],
        ).fetchall()
    out = []
    for key, kind, payload, recorded_at, batch_id, source in rows:
        entry = ledger.get((batch_id, stream.name), {})
        out.append({
            "entity_key": key, "event": kind, "recorded_at": recorded_at.isoformat(),
            "batch_id": batch_id, "run_id": entry.get("run_id"), "mode": entry.get("mode"),
            "source": source, "payload": json.loads(payload) if payload else None,
        })
    return out


def _published(published_dir: Path, mart: str, where: str, params: list[Any],
               columns: str) -> list[dict[str, Any]]:
    out = []
    if not published_dir.exists():
        return out
    for version in list_versions(published_dir):
        path = published_dir / version / f"{mart}.parquet"
        if not path.exists():
            continue
        manifest = read_manifest(published_dir, version)
        rows = duckdb.connect().execute(
            f"select {columns} from read_parquet(?) where {where} order by all",
            [str(path), *params],
        ).fetchall()
        out.append({"version": version, "as_of": manifest.get("as_of"),
                    "published_at": manifest.get("published_at"),
                    "rows": [list(r) for r in rows]})
    return out


def value_history(log: EventLog, published_dir: Path, kpi: str, municipality: str, *,
                  year: int | None = None, gender: str | None = None) -> KeyHistory:
    pattern = f"{kpi}|{municipality}|{year if year is not None else '%'}|{gender or '%'}"
    history = KeyHistory(what=f"{kpi} {municipality}"
                         + (f" {year}" if year is not None else "") + (f" {gender}" if gender else ""))
    history.events = _events(log, KPI_VALUE, pattern)
    where, params = "kpi_id = ? and municipality_id = ?", [kpi, municipality]
    if year is not None:
        where, params = where + " and period = ?", [*params, year]
    if gender:
        where, params = where + " and gender = ?", [*params, gender]
    history.publications = _published(published_dir, "fct_kpi_values", where, params,
                                      "period, gender, value, status, revision_count")
    return history


def unit_value_history(log: EventLog, published_dir: Path, kpi: str, ou: str, *,
                       year: int | None = None) -> KeyHistory:
    """The same for a unit's value (stream OU_VALUE; published in mart_unit_scorecard)."""
    pattern = f"{kpi}|{ou}|{year if year is not None else '%'}|%"
    history = KeyHistory(what=f"{kpi} {ou}" + (f" {year}" if year is not None else ""))
    history.events = _events(log, OU_VALUE, pattern)
    # the unit itself: a value can vanish because its unit closed, or a name change between
    # two publications, and mart_revisions lists those as unit_closed / unit_renamed
    # (matched with LIKE: a unit id has no wildcard; one that had would match nothing exact)
    history.unit_events = [] if set(ou) & {"%", "_"} else _events(log, OU, ou)
    where, params = "kpi_id = ? and ou_id = ?", [kpi, ou]
    if year is not None:
        where, params = where + " and year = ?", [*params, year]
    history.publications = _published(published_dir, "mart_unit_scorecard", where, params,
                                      "year, value, colour")
    return history


def assessment_history(log: EventLog, published_dir: Path, municipality: str, year: int
                       ) -> KeyHistory:
    history = KeyHistory(what=f"Kommunkompassen {municipality} {year}")
    history.events = _events(log, KOMMUNKOMPASSEN, f"{municipality}|{year}|%")
    history.publications = _published(
        published_dir, "mart_kommunkompassen_areas",
        "municipality_id = ? and assessment_year = ?", [municipality, year],
        "version, area_number, score")
    return history


def render(history: KeyHistory, *, value_field: str = "value") -> str:
    lines = [f"history of {history.what}"]
    if not history.events:
        lines.append("  no events recorded for this key")
    current = None
    for e in history.events:
        if e["entity_key"] != current:
            current = e["entity_key"]
            lines.append(f"{current}:")
        payload = e["payload"] or {}
        shown = payload.get(value_field, payload.get("score")) if e["event"] == "upserted" else None
        what = "deleted" if e["event"] != "upserted" else f"{value_field} = {shown}"
        lines.append(f"  {e['recorded_at']}  {what:24s} batch {e['batch_id']} "
                     f"(run {e['run_id'] or '-'}, {e['mode'] or '-'})")
        lines.append(f"      from {e['source']}")
    if history.unit_events:
        lines.append(f"the unit ({OU.name}):")
        for e in history.unit_events:
            payload = e["payload"] or {}
            what = (f"title = {payload.get('title')}" if e["event"] == "upserted"
                    else "closed: Kolada no longer lists it")
            lines.append(f"  {e['recorded_at']}  {what} (batch {e['batch_id']}, "
                         f"{e['mode'] or '-'})")
    lines.append("publications:")
    if not history.publications:
        lines.append("  none kept")
    for p in history.publications:
        rows = "; ".join(", ".join(str(v) for v in row) for row in p["rows"]) or "(not in it)"
        lines.append(f"  {p['version']} (as of {p['as_of']}): {rows}")
    return "\n".join(lines)
