"""What the current publication says, for the steps before publishing.

The dbt build takes its revisions window from it and the checks their row-count band; both read
the published manifest (pipelines.publish.versions), never the warehouse: only dbt opens it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipelines.publish.versions import current_manifest, current_version
from pipelines.warehouse.build_vars import parse_as_of


def current_watermark(published_dir: Path) -> datetime | None:
    """The event-log watermark (`as_of`) of the current publication, None before the first."""
    manifest = current_manifest(Path(published_dir))
    if not manifest or not manifest.get("as_of"):
        return None
    return parse_as_of(str(manifest["as_of"]))


def current_mart_file(published_dir: Path, mart: str) -> Path | None:
    """The current publication's Parquet file of `mart` (resolved past the `current` link, so a
    publish during the build cannot swap it), None before the first publication or without it."""
    version = current_version(Path(published_dir))
    if version is None:
        return None
    path = (Path(published_dir) / version / f"{mart}.parquet").resolve()
    return path if path.exists() else None
