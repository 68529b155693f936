"""Render the bench world once to page files under bench/cache/<workload>-v<version>/.

Why pre-rendered: the bench measures the platform, not the server. Serving a file is a read
and a write; rendering JSON per request would put the server's own Python on the same two
cores. The limit reads the very same files from local disk.

Layout (keys are `page_key(kpis, units, years)`, the request's path segments hashed):
  meta/<endpoint>-<page>.json        metadata pages
  full/<key>-<page>.json             the base state's full answers
  delta/<state>/<key>-<page>.json    from_date answers of a state (chunks with changes only)
  plan.json                          the data requests (for the peer)
  config.yaml                        the scope (KK_CONFIG) that asks for exactly this world
  manifest.json                      written last: the cache is complete when it exists
Pages carry `@ORIGIN@` (and `@FROM_DATE@` in delta pages) in next_url/previous_url; the
server fills them in, so the files do not depend on a port.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from bench.workload import GENERATED_GROUP, GENERATOR_VERSION, BenchWorld, build_world, rows_of
from pipelines.settings import DEFAULT_CONFIG

PER_PAGE = 5000
ORIGIN = "@ORIGIN@"
FROM_DATE = "@FROM_DATE@"
BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / "cache"


def page_key(kpis: str, units: str, years: str) -> str:
    """The file key of one data request, from its comma-joined path segments."""
    return hashlib.sha1(f"{kpis}/{units}/{years}".encode()).hexdigest()[:20]


def data_path(kpis: str, units: str, years: str) -> str:
    return f"/v3/data/kpi/{kpis}/municipality/{units}/year/{years}"


def _envelope(items: list[Any], page: int, pages: int, path: str, delta: bool, per_page: int
              ) -> dict[str, Any]:
    query = f"per_page={per_page}" + (f"&from_date={FROM_DATE}" if delta else "")

    def url(n: int) -> str:
        return f"{ORIGIN}{path}?{query}&page={n}"

    return {"values": items, "count": len(items),
            "next_url": url(page + 1) if page < pages else None,
            "previous_url": url(page - 1) if page > 1 else None}


def _write_pages(folder: Path, stem: str, items: list[Any], path: str, delta: bool,
                 per_page: int = PER_PAGE) -> int:
    """Page `items` by `per_page` into folder/<stem>-<n>.json; returns the number of pages."""
    pages = max(1, -(-len(items) // per_page))
    for n in range(1, pages + 1):
        doc = _envelope(items[(n - 1) * per_page:n * per_page], n, pages, path, delta, per_page)
        (folder / f"{stem}-{n}.json").write_bytes(
            json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return pages


def bench_config(w: BenchWorld) -> dict[str, Any]:
    """The default scope with the bench's years, plus the generated KPI group when there is one."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    kolada = config["kolada"]
    kolada["years"] = {"from": w.years[0], "to": w.years[-1]}
    if any(g["id"] == GENERATED_GROUP for g in w.metadata["kpi_groups"]):
        kolada["kpi_groups"] = [*kolada["kpi_groups"], GENERATED_GROUP]
    # The municipal workload: no unit values (bench/units.py measures those on their own).
    config.pop("units", None)
    return config


def render(w: BenchWorld, out: Path, per_page: int = PER_PAGE) -> dict[str, Any]:
    """Write every page of `w` under `out` (replacing it); returns the manifest. A smaller
    `per_page` than Kolada's 5000 lets tiny test worlds still span several pages."""
    started = time.monotonic()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ("meta", "full", "delta"):
        (tmp / sub).mkdir(parents=True)
    meta_pages = {name: _write_pages(tmp / "meta", name, items, f"/v3/{name}", False)
                  for name, items in w.metadata.items()}
    plan = w.chunk_plan()
    full_pages = 0
    states: dict[str, dict[str, int]] = {}
    for state in w.states():
        folder = tmp / ("full" if state.name == "base" else f"delta/{state.name}")
        folder.mkdir(parents=True, exist_ok=True)
        for kpis, units, years in plan:
            segs = (",".join(kpis), ",".join(units), ",".join(str(y) for y in years))
            if state.name == "base":  # the full answers
                rows = rows_of(w, state.value, w.live, kpis, units)
                full_pages += _write_pages(folder, page_key(*segs), rows, data_path(*segs),
                                           False, per_page)
            if state.delta.any():
                rows = rows_of(w, state.value, state.delta, kpis, units)
                if rows:
                    dfolder = tmp / "delta" / state.name
                    dfolder.mkdir(parents=True, exist_ok=True)
                    _write_pages(dfolder, page_key(*segs), rows, data_path(*segs), True,
                                 per_page)
        changed = int(state.delta.sum())
        states[state.name] = {"values_changed": changed}
    (tmp / "plan.json").write_text(json.dumps(
        [data_path(",".join(k), ",".join(u), ",".join(map(str, y)))[len("/v3/"):]
         for k, u, y in plan]), encoding="utf-8")
    (tmp / "config.yaml").write_text(yaml.safe_dump(bench_config(w), allow_unicode=True,
                                                    sort_keys=False), encoding="utf-8")
    manifest = {
        "generator_version": GENERATOR_VERSION, "kpis": len(w.kpi_ids),
        "units": len(w.unit_ids), "years": [w.years[0], w.years[-1]],
        "values": w.value_count, "rows": w.row_count, "requests": len(plan),
        "full_pages": full_pages, "meta_pages": meta_pages, "states": states,
        "bytes_full": sum(p.stat().st_size for p in (tmp / "full").iterdir()),
        "render_seconds": round(time.monotonic() - started, 1),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return manifest


def ensure_cache(workload: str, n_kpis: int, cache_dir: Path = CACHE_DIR,
                 n_units: int | None = None) -> tuple[Path, dict[str, Any]]:
    """The rendered cache of a workload, rendering it first when it is missing or stale."""
    out = cache_dir / f"{workload}-v{GENERATOR_VERSION}"
    manifest = out / "manifest.json"
    if manifest.exists():
        return out, json.loads(manifest.read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    return out, render(build_world(n_kpis, n_units=n_units), out)
