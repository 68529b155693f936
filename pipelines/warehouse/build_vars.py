"""The dbt vars of one build, computed from the event log, the scope file and the last publication.

A build is a pure function of the events and these vars, so they are resolved here, explicitly,
and recorded on every materialization: the watermark a mart was built at is what the publisher
writes into the manifest, and what an analyst passes to `build --as-of` to reproduce it.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.scope import DEFAULT_PROFILE_WEIGHTS, Network
from pipelines.settings import Layout


class AsOfError(ValueError):
    """An --as-of value that is not an ISO-8601 moment."""


def parse_as_of(text: str) -> datetime:
    """ISO-8601 date or date-time; a value without a zone is UTC (the event log's clock)."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise AsOfError(
            f"--as-of {text!r} is not ISO-8601 (e.g. 2026-05-01, 2026-05-01T12:00, "
            "2026-05-01T12:00:00+02:00)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def dbt_vars(
    *,
    layout: Layout,
    as_of: datetime | None,
    previous_watermark: datetime | None,
    networks: Sequence[Network],
    previous_scorecard: Path | None = None,
    profile_weights: Mapping[str, float] | None = None,
    incremental_kpis: Sequence[str] | None = None,
) -> dict[str, Any]:
    """`as_of` None means an empty event log; the revisions window is (previous, as_of].

    The data dir's paths travel as vars too: the profile and the sources read them, so dbt
    needs no environment variable. `previous_scorecard` is the current publication's scorecard
    file, which mart_rank_changes compares with; it goes with the revisions window.
    `incremental_kpis`: the KPIs an incremental build recomputes (pipelines.warehouse.incremental);
    None on a full rebuild.
    """
    from_watermark = previous_watermark
    if from_watermark is not None and as_of is not None and from_watermark > as_of:
        # Rebuilding an older moment than the last publication: there is no "since" to show.
        from_watermark = None
    if from_watermark is None or previous_scorecard is None or not previous_scorecard.exists():
        previous_scorecard = None
    return {
        **layout.dbt_path_vars(),
        "as_of": iso(as_of),
        "from_watermark": iso(from_watermark),
        "to_watermark": iso(as_of),
        "previous_scorecard": None if previous_scorecard is None else str(previous_scorecard),
        "networks": [
            {"id": n.id, "title": n.title, "members": list(n.members)} for n in networks
        ],
        "profile_weights": dict(profile_weights or DEFAULT_PROFILE_WEIGHTS),
        "incremental_kpis": None if incremental_kpis is None else list(incremental_kpis),
    }


# The vars that change with every build. They reach the models through a file, not --vars:
# dbt keeps its partial parse (target/partial_parse.msgpack) only while --vars stay the same,
# and a full parse costs about 4.5 s of every build on the sample (docs/performance.md).
# incremental_kpis: the KPI ids an incremental build recomputes (pipelines.warehouse.incremental);
# null on a full rebuild (dbt then runs with --full-refresh and the models filter nothing).
PER_BUILD_VARS = ("as_of", "from_watermark", "to_watermark", "previous_scorecard",
                  "incremental_kpis")


# Beside the vars, the file names its dbt invocation and the one before it (whose file it
# replaces): the GX step reads only the changed KPIs of a mart only when its suite passed on the
# warehouse as the invocation before this one left it (pipelines.checks.changed_kpis). dbt
# never reads these two.
BUILD_ID, PREVIOUS_BUILD_ID = "build_id", "previous_build_id"


def dbt_cli_vars(build_vars: Mapping[str, Any], vars_file: Path) -> dict[str, Any]:
    """Write this build's per-build vars to `vars_file` (read by the macro build_var when a
    model is compiled) and return the --vars, which then stay the same from build to build.
    The file is written atomically; one dbt runs at a time (the warehouse pool)."""
    vars_file.parent.mkdir(parents=True, exist_ok=True)
    written = {k: build_vars.get(k) for k in PER_BUILD_VARS}
    written[BUILD_ID] = uuid.uuid4().hex
    written[PREVIOUS_BUILD_ID] = read_build_vars(vars_file).get(BUILD_ID)
    with tempfile.NamedTemporaryFile("w", dir=vars_file.parent, delete=False, suffix=".tmp",
                                     encoding="utf-8") as tmp:
        json.dump(written, tmp, sort_keys=True)
    os.replace(tmp.name, vars_file)
    return stable_cli_vars(build_vars, vars_file)


def stable_cli_vars(build_vars: Mapping[str, Any], vars_file: Path) -> dict[str, Any]:
    """The --vars of every build of one data dir and scope (the per-build ones are in the
    file). The project's own `dbt parse` passes these for the default data dir, so the first
    build there starts from that parse instead of parsing again (pipelines.warehouse.dbt_project)."""
    stable = {k: v for k, v in build_vars.items() if k not in PER_BUILD_VARS}
    return {**stable, "build_vars_file": str(vars_file)}


def read_build_vars(vars_file: Path) -> dict[str, Any]:
    """The vars file as the last dbt invocation wrote it; {} when there is none or it cannot
    be read (whoever reads it then knows nothing of the last build, and must act so)."""
    try:
        content = json.loads(vars_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}
