"""The Dagster resource of the SCB source: which PxWeb API to talk to.

`live` talks to SCB_BASE_URL (default https://statistikdatabasen.scb.se/api/v2); `sample`
serves the synthetic population of the sample day on 127.0.0.1 through the same client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

from pipelines.sources.scb.client import ScbClient


class ScbResource(dg.ConfigurableResource):
    """`live` talks to SCB_BASE_URL; `sample` serves the synthetic population of `sample_day`
    on 127.0.0.1 through the same client, limits and all."""

    source: str = "live"
    base_url: str = "https://statistikdatabasen.scb.se/api/v2"
    sample_day: int = 1

    @contextmanager
    def client(self, progress: Callable[[str], None]) -> Iterator[ScbClient]:
        if self.source == "sample":
            from pipelines.sample.scb_server import SampleScbServer

            with (
                SampleScbServer(day=self.sample_day) as server,
                ScbClient(server.base_url, progress=progress) as client,
            ):
                yield client
        elif self.source == "live":
            with ScbClient(self.base_url, progress=progress) as client:
                yield client
        else:
            raise ValueError(f"unknown source {self.source!r}: expected live or sample")
