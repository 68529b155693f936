"""Every stream of every source, collected from the sources' own declarations.

Adding a source is adding its folder and one line here (docs/adding-a-source.md). Readers ask
the registry instead of keeping a list of their own: the event log validates stream names and
scopes with it, the ingestion assets are made per stream, the dbt sources file is generated
from it (`python -m pipelines.sources.dbt_sources`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pipelines.eventlog.streams import StreamSpec
from pipelines.sources.initiatives import streams as initiatives
from pipelines.sources.kolada import streams as kolada
from pipelines.sources.kommunkompassen import streams as kommunkompassen
from pipelines.sources.scb import streams as scb

_DECLARED: tuple[StreamSpec, ...] = (
    *kolada.STREAMS, *kommunkompassen.STREAMS, *scb.STREAMS, *initiatives.STREAMS,
)


def _index(specs: tuple[StreamSpec, ...]) -> Mapping[str, StreamSpec]:
    out: dict[str, StreamSpec] = {}
    for spec in specs:
        if spec.name in out:
            raise ValueError(f"stream {spec.name} is declared twice")
        out[spec.name] = spec
    return MappingProxyType(out)


STREAMS: Mapping[str, StreamSpec] = _index(_DECLARED)


def stream(name: str) -> StreamSpec:
    try:
        return STREAMS[name]
    except KeyError:
        raise ValueError(f"unknown stream {name!r}; known: {', '.join(STREAMS)}") from None


def sources() -> dict[str, list[StreamSpec]]:
    """source name -> its streams, in declaration order."""
    out: dict[str, list[StreamSpec]] = {}
    for spec in STREAMS.values():
        out.setdefault(spec.source, []).append(spec)
    return out
