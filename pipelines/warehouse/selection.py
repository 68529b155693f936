"""Which dbt models a build must run: those a change can reach, and no others.

A model is a pure function of the events of the streams it reads (up to the build's as_of) and
of the build's vars, so a build whose plan is incremental (pipelines.warehouse.incremental: the
same code and config, no event gone) needs only
- the models downstream of a stream with new batch files (read from dbt's manifest: the
  descendants of that stream's dbt source), and
- the models tagged `since_last_publication` and their descendants: they read the revisions
  window or the previous scorecard (vars that move with every publication), so they are rebuilt
  every build.
Every other model's table is still what a full rebuild would make of the log now: its streams
have no event it has not seen. An import of one Kommunkompassen file then builds the assessment
models and the publication's window marts, not the 5M-value chain.

A full plan builds every model. The selection is taken when a stage-2 run is launched (the
CLI, the nightly sensor), because a Dagster run builds the assets it was launched with: a
model left out of a run can only be left out by the run's selection, never skipped inside the
dbt step (Dagster would then skip the checks and the publication behind it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

SINCE_LAST_PUBLICATION_TAG = "since_last_publication"


@lru_cache(maxsize=4)
def _manifest(path: str, mtime: float) -> Mapping[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_manifest(manifest_path: Path) -> Mapping[str, Any]:
    """dbt's manifest.json, parsed once per version of the file."""
    return _manifest(str(manifest_path), manifest_path.stat().st_mtime)


def model_names(manifest: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(n["name"] for n in manifest["nodes"].values()
                     if n["resource_type"] == "model")


def models_to_build(manifest: Mapping[str, Any], changed_streams: Iterable[str]) -> frozenset[str]:
    """The models an incremental build must run when `changed_streams` have new batch files."""
    nodes = manifest["nodes"]
    sources = {f"{s['source_name']}.{s['name']}": uid for uid, s in manifest["sources"].items()}
    roots = [sources[stream] for stream in changed_streams if stream in sources]
    roots += [uid for uid, node in nodes.items() if node["resource_type"] == "model"
              and SINCE_LAST_PUBLICATION_TAG in (node.get("tags") or ())]
    children = manifest["child_map"]
    reached: set[str] = set()
    stack = list(roots)
    while stack:
        uid = stack.pop()
        if uid in reached:
            continue
        if uid.startswith("model."):  # the roots include sources
            reached.add(uid)
        stack.extend(c for c in children.get(uid, ()) if c.startswith("model."))
    return frozenset(nodes[uid]["name"] for uid in reached)
