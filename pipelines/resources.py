"""Dagster resources: where the data lives and which Kolada to talk to.

Defaults come from the environment (pipelines.settings), and the CLI overrides them per run
through run config, so the schedule, the UI, the CLI and the tests configure one thing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pipelines.eventlog.store import EventLog
from pipelines.kolada.client import KoladaClient
from pipelines.scope import IngestScope, load_scope
from pipelines.settings import load_settings

# The bundled sample server runs on loopback: throttling it like the public API only wastes time.
SAMPLE_MAX_RPS = 200.0


class PlatformResource(dg.ConfigurableResource):
    """The data directory and the scope file, resolved to absolute paths once."""

    data_dir: str
    config_path: str
    publish_keep: int = 10

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    def event_log(self) -> EventLog:
        log = EventLog(self.data_path / "events")
        log.ensure_layout()
        return log

    def scope(self) -> IngestScope:
        return load_scope(Path(self.config_path))

    @property
    def warehouse_path(self) -> Path:
        return self.data_path / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.data_path / "published"

    @property
    def dbt_target_path(self) -> Path:
        # One fixed target folder per data dir keeps dbt's partial parsing warm between runs;
        # the warehouse pool guarantees a single dbt process uses it at a time.
        return self.data_path / "dbt" / "target"

    def export_env(self) -> None:
        """dbt's profile and sources read KK_DATA_DIR from the environment of its subprocess:
        make it this resource's folder, whatever the process was started with."""
        os.environ["KK_DATA_DIR"] = str(self.data_path)


class KoladaResource(dg.ConfigurableResource):
    """`live` talks to KOLADA_BASE_URL; `sample` serves the bundled synthetic day on 127.0.0.1
    through the very same HTTP client and parsers."""

    source: str = "live"
    base_url: str = "https://api.kolada.se/v3"
    max_rps: float = 5.0
    sample_day: int = 1
    full: bool = False

    @contextmanager
    def client(self, progress: Callable[[str], None]) -> Iterator[KoladaClient]:
        if self.source == "sample":
            from pipelines.sample.server import SampleKoladaServer

            with (
                SampleKoladaServer(day=self.sample_day) as server,
                KoladaClient(server.base_url, max_rps=SAMPLE_MAX_RPS, progress=progress) as client,
            ):
                yield client
        elif self.source == "live":
            with KoladaClient(self.base_url, max_rps=self.max_rps, progress=progress) as client:
                yield client
        else:
            raise ValueError(f"unknown source {self.source!r}: expected live or sample")


def default_resources() -> dict[str, dg.ConfigurableResource]:
    settings = load_settings()
    return {
        "platform": PlatformResource(
            data_dir=str(settings.data_dir),
            config_path=str(settings.config_path),
            publish_keep=settings.publish_keep,
        ),
        "kolada": KoladaResource(
            source=settings.source,
            base_url=settings.kolada_base_url,
            max_rps=settings.kolada_max_rps,
        ),
    }
