"""A failed ingest leaves a `failed` ledger row saying why, for every source.

Nothing was appended when it failed (a batch is written only once the whole answer is in), so
the row is the only trace of the attempt: `status` shows "last attempt failed" from it, and
the next incremental fetch does not take the failed attempt as its baseline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipelines.base_url import redact
from pipelines.eventlog.store import EventLog


@contextmanager
def ledger_failure(log: EventLog, stream: Any, batch_id: str, run_id: str, source: str,
                   mode: str | None) -> Iterator[None]:
    """Within the block, an exception records a `failed` ledger row for `stream` (the URL in
    the row is redacted of credentials), then propagates unchanged."""
    try:
        yield
    except Exception as exc:
        try:
            log.record_failure(stream, batch_id=batch_id, error=exc,
                               ledger={"run_id": run_id, "mode": mode, "source": redact(source)})
        except Exception as ledger_exc:  # noqa: BLE001 - never mask the failure being recorded
            exc.add_note(f"(its failed ledger row could not be written: {ledger_exc})")
        raise
