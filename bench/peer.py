"""The peer (step 12): dlt's `rest_api` source loading the bench server into DuckDB, with
dlt's defaults (nested `values` become a child table; append; no primary key).

Why its own venv (bench/.venv-peer, git-ignored): dlt brings many dependencies that the
platform must not share. `BENCH_PEER=auto` (the default) creates it on first use and skips the
peer, saying why, when dlt cannot be installed; `BENCH_PEER=1` insists, `BENCH_PEER=0` skips.

Run by run.py as:  <peer venv python> bench/peer.py <base url> <cache dir> <work dir>
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PEER_VENV = BENCH_DIR / ".venv-peer"
DLT_SPEC = "dlt[duckdb]==1.31.0"


def ensure_peer_venv() -> tuple[str | None, str]:
    """(python of the peer venv, "") or (None, why it could not be made)."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / ".installed"
    if marker.exists():
        return str(python), ""
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True,
                           capture_output=True, text=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", DLT_SPEC], check=True,
                       capture_output=True, text=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        tail = getattr(exc, "stderr", "") or str(exc)
        return None, f"could not install {DLT_SPEC}: {str(tail).strip()[-300:]}"
    marker.touch()
    return str(python), ""


def peer_command(python: str, base_url: str, cache: Path, work: Path) -> list[str]:
    return [python, str(Path(__file__).resolve()), base_url, str(cache), str(work)]


def main(base_url: str, cache: Path, work: Path) -> None:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    plan = json.loads((cache / "plan.json").read_text(encoding="utf-8"))
    resources: list[dict] = [{"name": name, "endpoint": {"path": name}}
                             for name in ("kpi", "kpi_groups", "municipality",
                                          "municipality_groups")]
    resources += [{"name": f"kpi_value_{i}", "table_name": "kpi_value",
                   "endpoint": {"path": path}} for i, path in enumerate(plan)]
    source = rest_api_source({
        "client": {"base_url": base_url.rstrip("/") + "/",
                   "paginator": {"type": "json_link", "next_url_path": "next_url"}},
        "resource_defaults": {"endpoint": {"data_selector": "values",
                                           "params": {"per_page": 5000}}},
        "resources": resources,
    })
    work.mkdir(parents=True, exist_ok=True)
    pipeline = dlt.pipeline("bench_peer", destination=dlt.destinations.duckdb(
        str(work / "peer.duckdb")), dataset_name="kolada", pipelines_dir=str(work / "dlt"))
    info = pipeline.run(source)
    print(info)
    with pipeline.sql_client() as sql:
        for table in ("kpi_value", "kpi_value__values"):
            print(table, sql.execute_sql(f"select count(*) from {table}")[0][0])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
