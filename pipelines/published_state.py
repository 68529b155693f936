"""What the current publication says, read from `published/current/manifest.json`.

Readers (the dbt build's revisions window, the row-count band of the checks, the CLI) take it
from the published files, never from the warehouse: only dbt opens the warehouse.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.build_vars import parse_as_of


def read_current_manifest(published_dir: Path) -> dict[str, Any] | None:
    path = Path(published_dir) / "current" / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def current_watermark(published_dir: Path) -> datetime | None:
    manifest = read_current_manifest(published_dir)
    if not manifest or not manifest.get("as_of"):
        return None
    return parse_as_of(str(manifest["as_of"]))
