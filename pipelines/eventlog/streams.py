"""What the event log needs to know about a stream, declared once by the source that feeds it.

A source (pipelines/sources/<source>/streams.py) declares each of its streams with a
`StreamSpec`: its name, the named parts of its entity key, the payload fields it relies on and
how a full answer's scope is described. The registry (pipelines/sources/registry.py) collects
them; the event log, the ingestion assets, the sample server and the generated dbt sources file
all read that one declaration instead of spelling stream names and key positions again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Types a payload field may have, named as the dbt staging models cast them.
FIELD_TYPES = ("text", "integer", "double", "boolean", "json")
KEY_SEPARATOR = "|"


@dataclass(frozen=True)
class PayloadField:
    name: str
    type: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"payload field {self.name}: type {self.type!r} not in {FIELD_TYPES}")


@dataclass(frozen=True)
class StreamSpec:
    """One event stream, named `<source>.<entity>` (source kolada, entity kpi_value, say).

    `key_parts` name the `|`-separated parts of `entity_key` (`N15428|1784|2023|T` is kpi,
    municipality, period, gender). `scope_parts` are the key parts a full answer can be limited
    to (a value query asks for some KPIs x units x years); empty means a full answer always
    speaks for the whole stream (a metadata snapshot).
    """

    source: str
    entity: str
    key_parts: tuple[str, ...]
    payload: tuple[PayloadField, ...]
    description: str
    scope_parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [p for p in self.scope_parts if p not in self.key_parts]
        if unknown:
            raise ValueError(f"{self.name}: scope parts {unknown} are not key parts")

    @property
    def name(self) -> str:
        return f"{self.source}.{self.entity}"

    @property
    def asset_key_path(self) -> tuple[str, str]:
        """The Dagster asset key, equal to dbt's `source('<source>', '<entity>')`."""
        return (self.source, self.entity)

    def key_index(self, part: str) -> int:
        try:
            return self.key_parts.index(part)
        except ValueError:
            raise ValueError(
                f"{self.name} has no key part {part!r}; its key is "
                f"{KEY_SEPARATOR.join(self.key_parts)}"
            ) from None

    def entity_key(self, *parts: object) -> str:
        if len(parts) != len(self.key_parts):
            raise ValueError(f"{self.name}: expected {len(self.key_parts)} key parts, got {parts}")
        return KEY_SEPARATOR.join(str(p) for p in parts)


@dataclass(frozen=True)
class SnapshotScope:
    """Which keys a full answer speaks for: key part name -> the values the query asked for.

    An empty mapping means the answer covers the whole stream (a metadata snapshot).
    """

    parts: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def positions(self, stream: StreamSpec) -> list[tuple[int, list[str]]]:
        """(index in the entity key, values) per part, validated against the stream."""
        for part in self.parts:
            if part not in stream.scope_parts:
                raise ValueError(
                    f"{stream.name} cannot be scoped by {part!r}; scope parts: "
                    f"{', '.join(stream.scope_parts) or '(whole stream only)'}"
                )
        return sorted(
            (stream.key_index(part), [str(v) for v in values])
            for part, values in self.parts.items()
        )


@dataclass(frozen=True)
class AnyOf:
    """A full answer that speaks for several scopes at once, and for nothing else.

    An assessment file holding Arvika 2014 and Stockholm 2022 speaks for exactly those two
    assessments; the cross product of its parts would also cover Arvika 2022. No scopes means
    the answer speaks for no key at all (never "the whole stream").
    """

    scopes: tuple[SnapshotScope, ...]
