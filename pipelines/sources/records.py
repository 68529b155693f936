"""The record every source's parser produces: one fact as delivered, before it becomes an event.

Shared by the sources so the event log sees one shape (`records_to_table` canonicalises the
payload and hashes it; the hash decides whether a fact is new, revised or unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """`entity_key` joins the stream's key parts with `|`; `source` is a URL, or a file name
    and its sha256."""

    entity_key: str
    payload: dict[str, Any]
    deleted: bool
    source: str
