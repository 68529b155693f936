"""Per-KPI freshness from Kolada's own release calendar, never a blanket window.

Kolada's KPI metadata says when the next release is due (`publication_date`) and which period
it will cover (`publ_period`). A KPI is stale when that date has passed by more than the grace
(KK_FRESHNESS_GRACE_DAYS, default 14) and the event log still holds no value for that period
or a later one: the release should have arrived and has not. A KPI without a due date is
never stale (Kolada has not announced one); one that is not due yet is "waiting".
Read from the event log only (current KPI metadata, and the latest period per KPI with a live
value), so it can run next to a build.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

from pipelines.eventlog import state
from pipelines.eventlog.store import UPSERTED, EventLog, current_payloads
from pipelines.sample.profiles import SAMPLE_CALENDAR_DAY
from pipelines.sources.kolada.streams import KPI, KPI_VALUE


@dataclass(frozen=True)
class KpiFreshness:
    kpi_id: str
    title: str
    publication_date: str | None
    publ_period: int | None
    latest_period: int | None
    state: str  # fresh | waiting | stale | no_schedule
    overdue_days: int | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def latest_periods(log: EventLog) -> dict[str, int]:
    """KPI -> the latest period with a live (not deleted) value: from the stream's current-state
    file when it matches the log (O(keys)), else by ranking the history."""
    log.ensure_layout()
    current = state.fresh(log, KPI_VALUE.name)
    latest = (f"select entity_key, event_type from read_parquet('{current.path}')"
              if current is not None else f"""
                select entity_key, event_type from read_parquet('{log.glob(KPI_VALUE)}')
                qualify row_number() over (
                    partition by entity_key order by recorded_at desc, batch_id desc) = 1""")
    with log._connect() as con:
        rows = con.execute(
            f"""
            with latest as ({latest})
            select split_part(entity_key, '|', 1) as kpi,
                   max(try_cast(split_part(entity_key, '|', 3) as integer))
            from latest where event_type = '{UPSERTED}'
            group by 1
            """
        ).fetchall()
    return {kpi: int(period) for kpi, period in rows if period is not None}


def _date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _int(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def calendar_today(log: EventLog, real_today: date) -> date:
    """Today on the release calendar of what the log was fed from: the real date for live
    Kolada; for the synthetic sample, the sample world's own day, since its made-up release
    dates are fixed (pipelines.sample.profiles.SAMPLE_CALENDAR_DAY)."""
    return SAMPLE_CALENDAR_DAY if log.origin() == "sample" else real_today


def kpi_freshness(log: EventLog, *, today: date, grace_days: int) -> list[KpiFreshness]:
    periods = latest_periods(log)
    out = []
    for kpi_id, meta in sorted(current_payloads(log, KPI).items()):
        due, covers = _date(meta.get("publication_date")), _int(meta.get("publ_period"))
        latest = periods.get(kpi_id)
        arrived = covers is not None and latest is not None and latest >= covers
        if due is None or covers is None:
            state, overdue = "no_schedule", None
        elif arrived:
            state, overdue = "fresh", None
        elif today > due + timedelta(days=grace_days):
            state, overdue = "stale", (today - due).days
        else:
            state, overdue = "waiting", None
        out.append(KpiFreshness(kpi_id, str(meta.get("title") or ""), due and due.isoformat(),
                                covers, latest, state, overdue))
    return out
