"""Alerts for failed runs: one structured log line, a row in `$KK_DATA_DIR/alerts.jsonl`, and
an optional POST to KK_ALERT_WEBHOOK_URL.

Sending an alert must never block or fail anything: the webhook gets a short timeout, every
error is caught, and what went wrong is recorded in the alert's row instead. The webhook URL is
a secret (it often carries a token): it is never printed, logged or put in an error message;
a delivery failure names the exception's type only.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

LOG = logging.getLogger("kommunkvalitet.alerts")
ALERTS_FILE = "alerts.jsonl"
WEBHOOK_TIMEOUT_S = 5.0


@dataclass
class Alert:
    job: str
    run_id: str
    failed_step: str | None
    root_cause: str
    run_url: str
    origin: str  # "sensor" (the daemon) or "cli" (a command run from cron or by hand)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    delivered: str | None = None  # "webhook", "not configured", or why it failed

    def body(self) -> dict[str, object]:
        """What the webhook receives."""
        return {"job": self.job, "run_id": self.run_id, "failed_step": self.failed_step,
                "root_cause": self.root_cause, "run_url": self.run_url, "at": self.at,
                "origin": self.origin}


def first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:500]
    return "unknown error"


def _post(url: str, alert: Alert, transport: httpx.BaseTransport | None) -> str:
    try:
        with httpx.Client(timeout=WEBHOOK_TIMEOUT_S, transport=transport) as client:
            response = client.post(url, json=alert.body())
        if response.status_code >= 400:
            return f"webhook answered HTTP {response.status_code}"
        return "webhook"
    except Exception as exc:  # noqa: BLE001 - an alert never fails its caller
        return f"webhook failed: {type(exc).__name__}"


def record_alert(
    data_dir: Path,
    alert: Alert,
    *,
    webhook_url: str | None,
    transport: httpx.BaseTransport | None = None,
    log: bool = True,
) -> Alert:
    """Log, append to alerts.jsonl and POST (when configured); returns the alert as recorded.
    `log=False`: the caller says it itself (the CLI prints one line, not the JSON)."""
    alert.delivered = _post(webhook_url, alert, transport) if webhook_url else "not configured"
    if log:
        LOG.error("ALERT %s", json.dumps({**alert.body(), "delivered": alert.delivered},
                                         ensure_ascii=False))
    try:
        path = Path(data_dir) / ALERTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(alert), ensure_ascii=False) + "\n"
        # One write of one line in append mode: concurrent writers never interleave a line.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        LOG.error("could not record the alert in %s: %s", data_dir, exc)
    return alert


def read_alerts(data_dir: Path) -> Iterator[dict]:
    """Every recorded alert, oldest first (a damaged line is skipped, not fatal)."""
    path = Path(data_dir) / ALERTS_FILE
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            continue


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def root_cause(error: object) -> str:
    """Dagster wraps the exception a step raised; the operator needs the innermost one."""
    if error is None:
        return "unknown error"
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    message = str(getattr(error, "message", error)).strip()
    # "pipelines.checks.gate.PublishBlocked: ..." -> "PublishBlocked: ...": the class says
    # what happened, its module path only who raised it
    message = re.sub(r"^(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*: )", r"\1", message)
    # dagster-dbt names the whole dbt command (~600 characters of vars) before the reason
    return _DBT_COMMAND.sub("dbt failed", message)


_DBT_COMMAND = re.compile(r"The dbt CLI process with command\s+`.*?`\s+failed", re.DOTALL)


def alert_for_run(
    *,
    job: str,
    run_id: str,
    step_failures: list,
    run_failure_message: str | None,
    ui_url: str,
    origin: str,
) -> Alert:
    """The alert of a failed run from its step-failure events (Dagster `DagsterEvent`s)."""
    if step_failures:
        first = step_failures[0]
        step = first.step_key
        cause = first_line(root_cause(first.step_failure_data.error))
    else:  # failed before any step ran (bad config, a missing resource)
        step, cause = None, first_line(run_failure_message)
    return Alert(job=job, run_id=run_id, failed_step=step, root_cause=cause,
                 run_url=run_url(ui_url, run_id), origin=origin)
