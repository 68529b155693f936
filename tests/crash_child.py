"""The steps the crash suite kills: an ingest, an assessment import and a publish, each the
library call the Dagster assets make, on a small scope. Run as a child process
(`python -m tests.crash_child STEP DATA_DIR [WAREHOUSE]`) with KK_CRASH_AT set, or in-process
for the rerun and the uninterrupted reference."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.checks.results import GREAT_EXPECTATIONS, CheckResult
from pipelines.eventlog.store import EventLog
from pipelines.publish.publisher import publish
from pipelines.sample.server import SampleKoladaServer
from pipelines.scope import IngestScope
from pipelines.settings import Layout
from pipelines.sources.kolada.client import KoladaClient
from pipelines.sources.kolada.ingest import ingest_metadata, ingest_values, new_batch_id
from pipelines.sources.kolada.streams import METADATA_STREAMS
from pipelines.sources.kommunkompassen.importer import (
    import_file,
    known_municipalities,
    landing_files,
)

SCOPE = IngestScope(kpi_groups=(), kpis=("N15428", "N00945", "N00914"), kpi_themes={},
                    municipalities=("0180", "1480", "1784", "2584"),
                    years=(2019, 2020, 2021, 2022), networks=())
MARTS = ["dim_municipality", "fct_kpi_values", "mart_kkik_scorecard"]
T0 = datetime(2026, 11, 23, 19, 0, 0, tzinfo=UTC)


def _quiet(_: str) -> None:
    pass


def ingest(data_dir: Path, day: int) -> None:
    log = EventLog(Layout(data_dir).events_dir)
    log.claim_origin("sample")
    with (SampleKoladaServer(day=day) as server,
          KoladaClient(server.base_url, max_rps=1e6, backoff_base=0.01) as client):
        for stream in METADATA_STREAMS:
            ingest_metadata(stream, client, log, run_id=f"day{day}", progress=_quiet)
        ingest_values(client, log, SCOPE, run_id=f"day{day}", full=True, progress=_quiet)


def import_landing(data_dir: Path) -> None:
    layout = Layout(data_dir)
    log = EventLog(layout.events_dir)
    municipalities = known_municipalities(log)
    for n, path in enumerate(landing_files(layout)):
        import_file(path, log, layout=layout, batch_id=new_batch_id(f"import{n:03d}"),
                    run_id="import", municipalities=municipalities, remove=True)


def publish_hour(data_dir: Path, warehouse: Path, hour: int, keep: int = 2) -> None:
    results = [CheckResult(m, "gx_suite", GREAT_EXPECTATIONS, True, "ERROR",
                           {"suite": m, "mart": m, "rows": 3, "passed": True, "outcomes": []})
               for m in MARTS]
    watermark = T0 + timedelta(hours=hour)
    publish(warehouse, Layout(data_dir).published_dir, MARTS, watermark=watermark,
            check_results=results, code_version="crash", synthetic=True, keep=keep,
            now=watermark + timedelta(minutes=5))


def run(step: str, data_dir: Path, warehouse: Path | None = None) -> None:
    if step == "ingest1":
        ingest(data_dir, 1)
    elif step == "ingest2":
        ingest(data_dir, 2)
    elif step == "import":
        import_landing(data_dir)
    elif step == "publish":
        publish_hour(data_dir, warehouse, 2)  # type: ignore[arg-type]
    elif step == "all":  # the random-moment scenario: one night's work, end to end
        ingest(data_dir, 2)
        import_landing(data_dir)
        publish_hour(data_dir, warehouse, 2)  # type: ignore[arg-type]
    else:
        raise SystemExit(f"unknown step {step!r}")


if __name__ == "__main__":
    run(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
