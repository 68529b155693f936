"""Publishing: versioned, immutable folders of the marts (Parquet, DuckDB, Excel CSV and xlsx,
the dictionary, the manifest, the report) and the `current` pointer with its history and
rollback; `current_state` says what the current publication was built from, for the steps
before publishing. What does not belong here: building or checking the marts (warehouse/,
checks/) and reading the warehouse outside the one publish step that copies it."""

from pipelines.publish.publisher import (
    PublishOlderRefused,
    PublishRefused,
    PublishResult,
    publish,
)
from pipelines.publish.versions import (
    RollbackError,
    RollbackResult,
    UnknownVersion,
    current_manifest,
    current_version,
    list_versions,
    read_history,
    rollback,
)

__all__ = [
    "PublishOlderRefused",
    "PublishRefused",
    "PublishResult",
    "RollbackError",
    "RollbackResult",
    "UnknownVersion",
    "current_manifest",
    "current_version",
    "list_versions",
    "publish",
    "read_history",
    "rollback",
]
