"""The shape of one event, shared by writers, readers, dbt sources and tests.

Which streams exist is declared by the sources (pipelines/sources/registry.py).

An event file is Parquet with exactly these columns. `payload` is the source record as
canonical JSON text (sorted keys, no whitespace) so that `payload_hash` is stable and any
engine (DuckDB's `->>`, pandas, Spark) can read it without a struct schema per stream.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = 1

UPSERTED = "upserted"
DELETED = "deleted"

EVENT_SCHEMA = pa.schema(
    [
        pa.field("stream", pa.string(), nullable=False),
        pa.field("entity_key", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        # Null for a tombstone that the source did not send a record for (absence in a full answer).
        pa.field("payload", pa.string(), nullable=True),
        pa.field("payload_hash", pa.string(), nullable=True),
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
        # The URL of the page (or file name + sha256) that delivered this fact.
        pa.field("source", pa.string(), nullable=False),
        pa.field("schema_version", pa.int32(), nullable=False),
    ]
)


def canonical_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def payload_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
