"""Runner-level checks for rules Great Expectations cannot express on pandas.

Each check is a pure function `(df, kwargs, reference) -> CustomOutcome`, registered by name
and referenced from a suite's `custom_checks` list, so the suites stay data. They exist for
rules that span rows (colour vs rank within a KPI-year) or need reference data (units); a rule
that judges one row at a time belongs in dbt instead (a data test in the marts' yml).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from pipelines.checks.results import CheckReference


@dataclass
class CustomOutcome:
    success: bool
    unexpected_count: int | None
    detail: str
    sample: list[dict] = field(default_factory=list)
    column: str | None = None


CustomCheck = Callable[[pd.DataFrame, dict, CheckReference], CustomOutcome]
REGISTRY: dict[str, CustomCheck] = {}
# The mart columns each check reads, from its kwargs: the suite runner reads only the columns
# its checks need (pipelines/checks/suites.py), not the whole mart.
COLUMNS: dict[str, Callable[[dict], list[str]]] = {}


def register(
    name: str, columns: Callable[[dict], list[str]]
) -> Callable[[CustomCheck], CustomCheck]:
    def wrap(fn: CustomCheck) -> CustomCheck:
        REGISTRY[name] = fn
        COLUMNS[name] = columns
        return fn

    return wrap


def _missing(df: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c not in df.columns]


@register("colour_consistent_with_rank", lambda kw: [
    *kw.get("group_by", ["kpi_id", "year"]), kw.get("rank_column", "rank"),
    kw.get("colour_column", "colour")])
def colour_consistent_with_rank(df: pd.DataFrame, kw: dict, ref: CheckReference) -> CustomOutcome:
    """Colours agree with ranks inside each KPI-year.

    - a ranked row has a ranked colour (green/yellow/red); an unranked row has grey or NULL;
    - where more than `min_ranked - 1` rows are ranked (default: more than 4), the best-ranked
      row is never red and the worst-ranked row is never green (rank 1 = best).
    """
    group_by = kw.get("group_by", ["kpi_id", "year"])
    rank_col, colour_col = kw.get("rank_column", "rank"), kw.get("colour_column", "colour")
    ranked_colours = set(kw.get("ranked_colours", ["green", "yellow", "red"]))
    unranked_colours = set(kw.get("unranked_colours", ["grey"]))
    min_ranked = int(kw.get("min_ranked", 5))
    missing = _missing(df, [*group_by, rank_col, colour_col])
    if missing:
        return CustomOutcome(False, None, f"columns missing from the mart: {missing}")
    rank = pd.to_numeric(df[rank_col], errors="coerce")
    colour = df[colour_col]
    is_ranked = rank.notna()
    bad = (is_ranked & ~colour.isin(ranked_colours)) | (
        ~is_ranked & colour.notna() & ~colour.isin(unranked_colours)
    )
    ranked = df[is_ranked].assign(_rank=rank[is_ranked])
    if not ranked.empty:
        grp = ranked.groupby(group_by, dropna=False)["_rank"]
        n = grp.transform("size")
        lo, hi = grp.transform("min"), grp.transform("max")
        big = (n >= min_ranked) & (lo < hi)
        best_red = big & (ranked["_rank"] == lo) & (ranked[colour_col] == "red")
        worst_green = big & (ranked["_rank"] == hi) & (ranked[colour_col] == "green")
        bad.loc[ranked.index[(best_red | worst_green).to_numpy()]] = True
    offenders = df[bad]
    return CustomOutcome(
        success=offenders.empty,
        unexpected_count=len(offenders),
        detail=(
            f"{len(offenders)} rows where {colour_col} disagrees with {rank_col} "
            f"(per {group_by}: ranked rows need one of {sorted(ranked_colours)}, unranked rows "
            f"{sorted(unranked_colours)} or NULL; with >= {min_ranked} ranked, best is never "
            "red and worst never green)"
        ),
        sample=records(offenders),
        column=colour_col,
    )


@register("shares_within_bounds", lambda kw: [
    *kw.get("columns", ["value"]), kw.get("unit_column", "unit"), "kpi_id"])
def shares_within_bounds(df: pd.DataFrame, kw: dict, ref: CheckReference) -> CustomOutcome:
    """Values whose unit is a share ('andel (%)') lie within [min, max] (default 0-100).

    The unit comes from the mart's own `unit` column when it has one, else from
    `reference.kpi_units` by `kpi_id`. With neither, the check fails: it cannot vouch.
    """
    unit_value = kw.get("unit", "andel (%)")
    lo, hi = float(kw.get("min_value", 0)), float(kw.get("max_value", 100))
    columns = [c for c in kw.get("columns", ["value"]) if c in df.columns]
    if not columns:
        return CustomOutcome(False, None, f"none of the value columns {kw.get('columns')} exist")
    unit_col = kw.get("unit_column", "unit")
    if unit_col in df.columns:
        unit = df[unit_col]
    elif ref.kpi_units is not None and "kpi_id" in df.columns:
        unit = df["kpi_id"].map(ref.kpi_units)
    else:
        return CustomOutcome(
            False, None, f"no '{unit_col}' column and no kpi_units in the reference"
        )
    is_share = (unit == unit_value).fillna(False).astype(bool)
    bad = pd.Series(False, index=df.index)
    for c in columns:
        v = pd.to_numeric(df[c], errors="coerce")
        bad |= is_share & v.notna() & ((v < lo) | (v > hi))
    offenders = df[bad]
    return CustomOutcome(
        success=offenders.empty,
        unexpected_count=len(offenders),
        detail=(
            f"{len(offenders)} of {int(is_share.sum())} '{unit_value}' rows outside "
            f"[{lo:g}, {hi:g}] in {columns}"
        ),
        sample=records(offenders),
        column=columns[0] if len(columns) == 1 else None,
    )


def records(df: pd.DataFrame, limit: int = 5) -> list[dict]:
    """Up to `limit` rows as JSON-able dicts (NaN -> None, numpy scalars -> Python)."""
    out = []
    for row in df.head(limit).to_dict(orient="records"):
        out.append({str(k): jsonable(v) for k, v in row.items()})
    return out


def jsonable(v: object) -> object:
    if v is None:
        return None
    try:
        if pd.isna(v):  # type: ignore[arg-type]
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            return v.item()  # numpy scalar
        except (ValueError, AttributeError):
            pass
    if isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return str(v)
