"""Dagster resources: where the data lives, and each source's own resource.

Defaults come from the environment (pipelines.settings), and the CLI overrides them per run
through run config, so the schedule, the UI, the CLI and the tests configure one thing.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.eventlog.store import EventLog
from pipelines.scope import IngestScope, load_scope
from pipelines.settings import Layout, load_settings
from pipelines.sources.kolada.resource import KoladaResource
from pipelines.sources.kommunkompassen.resource import AssessmentResource
from pipelines.sources.registry import STREAMS
from pipelines.sources.scb.resource import ScbResource


class PlatformResource(dg.ConfigurableResource):
    """The data directory and the scope file, resolved to absolute paths once."""

    data_dir: str
    config_path: str
    publish_keep: int = 10

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.data_dir))

    def event_log(self) -> EventLog:
        log = EventLog(self.layout.events_dir, STREAMS)
        log.ensure_layout()
        return log

    def scope(self) -> IngestScope:
        return load_scope(Path(self.config_path))


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
        "scb": ScbResource(source=settings.source, base_url=settings.scb_base_url),
        "assessments": AssessmentResource(source=settings.source),
    }
