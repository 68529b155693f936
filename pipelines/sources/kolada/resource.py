"""The Dagster resource of the Kolada source: which Kolada to talk to, and how.

`live` talks to KOLADA_BASE_URL; `sample` serves the bundled synthetic day on 127.0.0.1
through the very same HTTP client and parsers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

from pipelines.sources.kolada.client import KoladaClient

# The bundled sample server runs on loopback: throttling it like the public API only wastes time.
SAMPLE_MAX_RPS = 200.0


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
