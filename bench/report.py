"""The bench's table and its targets (issue 13), from the rows of one run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

GIB = 2**30


@dataclass
class Row:
    number: int
    name: str
    wall: float | None  # seconds; None when not measured
    peak_rss: int | None  # bytes, the whole process tree
    status: str
    load: tuple[float, float]  # 1-minute load average before, after
    peak_rss_sum: int | None = None  # plain RSS summed over the tree (over-counts sharing)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _by_number(rows: list[Row] | list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {r["number"]: r for r in (x if isinstance(x, dict) else x.as_dict() for x in rows)}


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def targets(rows: list[Row], workload: str, extra: dict[str, Any] | None = None
            ) -> list[dict[str, Any]]:
    """Each target of issues 13 and 26: what it compares, the measured ratio, the bound, met
    or not. The bounds against the limit are issue 26's, restated for the honest limit."""
    r = _by_number(rows)
    publication = (extra or {}).get("publication", {})

    def wall(n: int) -> float | None:
        row = r.get(n)
        return None if row is None or row["status"] != "ok" else row["wall"]

    checks = [
        ("full ingest <= 5x the limit", _ratio(wall(2), wall(1)), 5.0),
        ("incremental no-change <= 0.1x full ingest", _ratio(wall(3), wall(2)), 0.1),
        ("full no-change <= 0.5x full ingest", _ratio(wall(4), wall(2)), 0.5),
        ("no-change after 30 nights <= 1.1x the first", _ratio(wall(6), wall(4)), 1.1),
        ("end to end <= 20x the limit", _ratio(wall(10), wall(1)), 20.0),
        ("a night with nothing new <= 0.05x a full night", _ratio(wall(11), wall(10)), 0.05),
        ("a realistic night <= 0.15x a full night", _ratio(wall(13), wall(10)), 0.15),
        ("importing one assessment file <= 0.1x a full night", _ratio(wall(14), wall(10)),
         0.1),
        ("realistic nights 2-10 <= 0.15x a full night (mean)", _ratio(wall(15), wall(10)),
         0.15),
        ("kept versions after the nights <= 1.5x one version's disk",
         _ratio(publication.get("after_nights", {}).get("kept_bytes"),
                publication.get("after_full_night", {}).get("newest_bytes")), 1.5),
    ]
    out = [{"target": name, "ratio": ratio, "bound": bound,
            "met": None if ratio is None else ratio <= bound} for name, ratio, bound in checks]
    peer = _ratio(wall(12), wall(2))
    out.append({"target": "dlt peer >= 20x slower than the full ingest", "ratio": peer,
                "bound": 20.0, "met": None if peer is None else peer >= 20.0})
    peaks = [row["peak_rss"] for n, row in r.items() if n != 12 and row["peak_rss"]]
    peak = max(peaks, default=None)
    out.append({"target": f"peak RSS <= 4 GiB ({workload}; the bound is for M)",
                "ratio": None if peak is None else peak / GIB, "bound": 4.0,
                "met": None if peak is None else peak <= 4 * GIB})
    return out


def render_table(result: dict[str, Any]) -> str:
    rows = sorted(result["steps"], key=lambda x: x["number"])
    limit = next((x["wall"] for x in rows if x["number"] == 1), None)
    world = result["world"]
    lines = [
        (f"workload {result['workload']}: {world['kpis']} KPIs x {world['units']} units x "
         f"{world['years'][1] - world['years'][0] + 1} years = {world['values']:,} values in "
         f"{world['full_pages']} pages ({world['bytes_full'] / 1e6:,.0f} MB), commit "
         f"{result['commit']}, {result['when']}"),
        (f"{'#':>2}  {'step':46s} {'wall s':>8} {'PSS MiB':>9} {'x limit':>8}  "
         f"{'load':>11}  status"),
    ]
    for x in rows:
        wall = "-" if x["wall"] is None else f"{x['wall']:.2f}"
        peak = "-" if x["peak_rss"] is None else f"{x['peak_rss'] / 2**20:,.0f}"
        ratio = _ratio(x["wall"], limit)
        shown = "-" if ratio is None else f"{ratio:.1f}"
        load = f"{x['load'][0]:.2f}->{x['load'][1]:.2f}"
        lines.append(f"{x['number']:>2}  {x['name']:46s} {wall:>8} {peak:>9} {shown:>8}  "
                     f"{load:>11}  {x['status']}")
    vs = result.get("value_set", {})
    lines.append(f"value set: ingest {vs.get('ingested', 0):,} = limit {vs.get('limit', 0):,}; "
                 f"only in ingest {vs.get('only_in_ingest')}, only in limit "
                 f"{vs.get('only_in_limit')}"
                 + (" (on the log seeded in KPI slices)" if vs.get("seeded") else ""))
    pub = result.get("publication")
    if pub and "after_nights" in pub:
        one, kept = pub["after_full_night"], pub["after_nights"]
        lines.append(f"publication: one version {one['newest_bytes'] / 1e6:,.0f} MB on disk; "
                     f"after {pub['nights']} realistic nights and an import, "
                     f"{kept['versions']} kept versions {kept['kept_bytes'] / 1e6:,.0f} MB "
                     f"(newest alone {kept['newest_bytes'] / 1e6:,.0f} MB)")
    if result.get("units"):  # steps 16-18 (bench/unit_steps.py)
        lines.append(f"units: {unit_figures_line(result['units'])}")
    lines.append("targets:")
    for t in result["targets"]:
        ratio = "-" if t["ratio"] is None else f"{t['ratio']:.3f}"
        mark = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        lines.append(f"  {t['target']:52s} {ratio:>8}  {mark}")
    return "\n".join(lines)


def unit_figures_line(f: dict[str, Any]) -> str:
    """The unit steps' figures (bench/unit_steps.py) on one line."""
    mib = 2**20
    parts = [f"{f['unit_values']:,} unit values over {f['units']:,} units"]
    if f.get("warehouse_bytes"):
        parts.append(f"warehouse {f['warehouse_bytes'] / mib:,.0f} MiB")
    if f.get("unit_marts_bytes") is not None:
        parts.append(f"unit marts {f['unit_marts_bytes'] / mib:,.0f} MiB of a "
                     f"{f['publication_bytes'] / mib:,.0f} MiB publication")
    if f.get("dbt_node_seconds"):
        d = f["dbt_node_seconds"]
        parts.append(f"dbt unit nodes {d['unit_nodes']} s of {d['all']} node-s "
                     f"({f['dbt_unit_node_seconds_per_million']} s per million)")
    per = f.get("per_million_unit_values", {})
    parts.append("per million unit values: " + ", ".join(
        f"{k[:-2]} {v} s" for k, v in per.items() if v is not None))
    against = f.get("per_million_against_municipal") or {}
    if any(v is not None for v in against.values()):
        parts.append("per value against the municipal steps: " + ", ".join(
            f"{k} {v}x" for k, v in against.items() if v is not None))
    return "; ".join(parts)
