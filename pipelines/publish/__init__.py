"""Publishing: versioned folders of the marts (Parquet, DuckDB, Excel CSV) and `current`."""

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
