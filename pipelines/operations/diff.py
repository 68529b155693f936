"""`kommunkvalitet diff A B`: what changed between two publications, per mart, from the
published Parquet files: rows added, removed and changed (by the mart's contract key), and for
one mart (`--mart`) the changed rows with the columns that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.publish.versions import CURRENT, VERSION_RE
from pipelines.warehouse.marts import mart_contracts


class DiffError(ValueError):
    """A version that is not kept, or a mart that neither version published."""


@dataclass
class MartDiff:
    mart: str
    rows_a: int
    rows_b: int
    added: int
    removed: int
    changed: int
    examples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _folder(published_dir: Path, version: str) -> Path:
    if version != CURRENT and not VERSION_RE.match(version):  # no `../`, no path, no quote
        raise DiffError(f"{version!r} is not a version id (like v20261201T020512Z) or current")
    folder = published_dir / version
    if version in ("current",) or not folder.is_dir():
        resolved = folder.resolve() if folder.exists() else None
        if resolved is None or not resolved.is_dir():
            kept = sorted(p.name for p in published_dir.glob("v*") if p.is_dir())
            raise DiffError(f"no publication {version!r} in {published_dir}; kept: "
                            f"{', '.join(kept) or 'none'}")
        return resolved
    return folder


def diff_mart(a: Path, b: Path, mart: str, key: list[str], *, examples: int = 0) -> MartDiff:
    con = duckdb.connect()
    # paths as values of the relational API, never spliced into SQL text
    con.read_parquet(str(a)).create_view("a")
    con.read_parquet(str(b)).create_view("b")
    cols_a = [r[0] for r in con.execute("describe a").fetchall()]
    cols_b = {r[0] for r in con.execute("describe b").fetchall()}
    compared = [c for c in cols_a if c in cols_b and c not in key]
    on = " and ".join(f'a."{k}" is not distinct from b."{k}"' for k in key)
    differs = " or ".join(f'a."{c}" is distinct from b."{c}"' for c in compared) or "false"
    rows_a = con.execute("select count(*) from a").fetchall()[0][0]
    rows_b = con.execute("select count(*) from b").fetchall()[0][0]
    added = con.execute(f"select count(*) from b anti join a on {on}").fetchall()[0][0]
    removed = con.execute(f"select count(*) from a anti join b on {on}").fetchall()[0][0]
    changed = con.execute(
        f"select count(*) from a join b on {on} where {differs}").fetchall()[0][0]
    result = MartDiff(mart, rows_a, rows_b, added, removed, changed)
    if examples and changed:
        select = ", ".join([*(f'a."{k}"' for k in key),
                            *(f'a."{c}" as "a.{c}", b."{c}" as "b.{c}"' for c in compared)])
        cursor = con.execute(f"select {select} from a join b on {on} where {differs} "
                             f"order by all limit {int(examples)}")
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row, strict=True))
            entry = {k: record[k] for k in key}
            entry["changes"] = {c: [record[f"a.{c}"], record[f"b.{c}"]] for c in compared
                                if record[f"a.{c}"] != record[f"b.{c}"]}
            result.examples.append(entry)
    return result


def diff_publications(published_dir: Path, version_a: str, version_b: str, *,
                      mart: str | None = None, examples: int = 20) -> list[MartDiff]:
    a, b = _folder(published_dir, version_a), _folder(published_dir, version_b)
    contracts = mart_contracts()
    if mart is not None and mart not in contracts:
        raise DiffError(f"no published mart {mart!r}; marts: {', '.join(contracts)}")
    out = []
    for name, contract in contracts.items():
        if mart is not None and name != mart:
            continue
        pa_, pb = a / f"{name}.parquet", b / f"{name}.parquet"
        if not pa_.exists() or not pb.exists():
            continue
        out.append(diff_mart(pa_, pb, name, list(contract.key),
                             examples=examples if mart is not None else 0))
    return out


def render(diffs: list[MartDiff], version_a: str, version_b: str) -> str:
    lines = [f"diff {version_a} -> {version_b}",
             (f"  {'mart':32s} {'rows A':>9s} {'rows B':>9s} {'added':>8s} {'removed':>8s} "
             f"{'changed':>8s}")]
    for d in diffs:
        lines.append(f"  {d.mart:32s} {d.rows_a:>9,} {d.rows_b:>9,} {d.added:>8,} "
                     f"{d.removed:>8,} {d.changed:>8,}")
        for e in d.examples:
            key = ", ".join(f"{k}={v}" for k, v in e.items() if k != "changes")
            change = "; ".join(f"{c}: {old} -> {new}" for c, (old, new) in e["changes"].items())
            lines.append(f"      {key}: {change}")
    return "\n".join(lines)
