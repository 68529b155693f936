"""Run a mart's Great Expectations suite (JSON in `expectations/`) on the mart as pandas.

Why this shape: GX 1.x has no DuckDB engine, and dagster-ge is stuck on GX 0.x, so the caller
reads the mart into pandas and we validate it with an ephemeral GX context (nothing on disk,
nothing sent anywhere). Values only known at run time (dim_municipality's codes, the previous
publication's row count, today's date) reach the JSON through GX's own `{"$PARAMETER": ...}`
placeholders; rules GX cannot express on pandas live in `custom.py`, named in the suite's
`custom_checks` list.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import threading
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ["GX_ANALYTICS_ENABLED"] = "false"  # never call home, whatever the caller set

import pandas as pd

from pipelines.checks import custom
from pipelines.checks.results import (
    ERROR,
    SEVERITIES,
    CheckReference,
    ExpectationOutcome,
    SuiteResult,
)

DEFAULT_ROW_COUNT_MAX_DROP = 0.3
DEFAULT_FRESHNESS_MAX_LAG_YEARS = 2


class SuiteError(ValueError):
    """A suite file is malformed; the message names the file and the problem."""


def load_suite(mart: str, expectations_dir: Path) -> dict:
    """Read and validate `expectations/<mart>.json` (a GX 1.x suite plus `custom_checks`)."""
    path = Path(expectations_dir) / f"{mart}.json"
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SuiteError(f"no suite for mart {mart!r}: {path} does not exist") from exc
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(suite.get("expectations"), list):
        raise SuiteError(f"{path}: 'expectations' must be a list")
    suite.setdefault("name", mart)
    suite.setdefault("meta", {})
    suite.setdefault("custom_checks", [])
    for i, exp in enumerate([*suite["expectations"], *suite["custom_checks"]]):
        if "type" not in exp:
            raise SuiteError(f"{path}: expectation #{i} has no 'type'")
        severity = exp.get("meta", {}).get("severity", ERROR)
        if severity not in SEVERITIES:
            raise SuiteError(f"{path}: {exp['type']} has severity {severity!r}")
    for check in suite["custom_checks"]:
        if check["type"] not in custom.REGISTRY:
            raise SuiteError(
                f"{path}: unknown custom check {check['type']!r} "
                f"(known: {sorted(custom.REGISTRY)})"
            )
    return suite


def available_suites(expectations_dir: Path) -> list[str]:
    return sorted(p.stem for p in Path(expectations_dir).glob("*.json"))


def suite_columns(suite: dict) -> set[str]:
    """The mart columns a suite's expectations and custom checks name (whether or not the mart
    has them: a missing column must still fail its check)."""
    names: set[str] = set()
    for exp in suite["expectations"]:
        kwargs = exp.get("kwargs", {})
        names.update(kwargs.get(k) for k in ("column", "column_A", "column_B") if k in kwargs)
        names.update(kwargs.get("column_list", []))
    for check in suite["custom_checks"]:
        names.update(custom.COLUMNS[check["type"]](check.get("kwargs", {})))
    return names


def suite_parameters(suite: dict, reference: CheckReference) -> dict[str, Any]:
    """Values for the `$PARAMETER` placeholders a suite may use."""
    meta = suite.get("meta", {})
    max_drop = float(meta.get("row_count_max_drop", DEFAULT_ROW_COUNT_MAX_DROP))
    lag = int(meta.get("freshness_max_lag_years", DEFAULT_FRESHNESS_MAX_LAG_YEARS))
    prev = reference.previous_row_count
    return {
        "municipality_ids": sorted(reference.municipality_ids),
        # a drop of more than max_drop fails: rows >= prev * (1 - max_drop)
        "min_row_count": 0 if prev is None else math.ceil(prev * (1 - max_drop) - 1e-9),
        "min_fresh_year": reference.today.year - lag,
    }


def run_suite(
    mart: str, df: pd.DataFrame, *, expectations_dir: Path, reference: CheckReference,
    custom_df: pd.DataFrame | None = None, custom_kpis: int | None = None,
) -> SuiteResult:
    """`df`: the whole mart. `custom_df`: the rows the custom checks read when that is not the
    whole mart (only the `custom_kpis` changed KPIs of an incremental build,
    pipelines.checks.changed_kpis); the GX expectations always read `df`."""
    suite = load_suite(mart, expectations_dir)
    df = df.reset_index(drop=True)
    params = suite_parameters(suite, reference)
    outcomes = _run_gx(suite, df, params, reference)
    checked = df if custom_df is None else custom_df.reset_index(drop=True)
    for check in suite["custom_checks"]:
        outcomes.append(_run_custom(check, checked, reference))
    return SuiteResult(suite=suite["name"], mart=mart, rows=len(df), outcomes=outcomes,
                       custom_rows=None if custom_df is None else len(checked),
                       custom_kpis=None if custom_df is None else custom_kpis)


def import_in_background() -> threading.Thread:
    """Import Great Expectations on a thread (~2 s of CPU, most of a small night's checks)
    while the caller waits on something else: the dbt step, whose process does the work,
    starts it so the checks after it find GX imported. An import that fails here fails
    again, and is reported, where the checks import it."""
    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module("great_expectations")

    thread = threading.Thread(target=load, name="import-great-expectations", daemon=True)
    thread.start()
    return thread


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return gx, ctx


def _run_gx(
    suite: dict, df: pd.DataFrame, params: dict, reference: CheckReference
) -> list[ExpectationOutcome]:
    if not suite["expectations"]:
        return []
    gx, ctx = _context()
    batch = (
        ctx.data_sources.add_pandas("mart")
        .add_dataframe_asset(suite["name"])
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": df})
    )
    configs = []
    for i, exp in enumerate(suite["expectations"]):
        meta = {**exp.get("meta", {}), "_index": i}
        configs.append({"type": exp["type"], "kwargs": exp.get("kwargs", {}), "meta": meta})
    gx_suite = gx.ExpectationSuite(name=suite["name"], expectations=configs)
    result = batch.validate(
        gx_suite,
        expectation_parameters=params,
        result_format={"result_format": "COMPLETE", "partial_unexpected_count": 5},
    )
    by_index: dict[int, ExpectationOutcome] = {}
    for res in result.results:
        cfg = res.expectation_config
        by_index[int(cfg.meta["_index"])] = _outcome(cfg, res, df, params, reference)
    return [by_index[i] for i in sorted(by_index)]


def _exception_message(res: Any) -> str | None:
    info = res.exception_info or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():  # GX nests per-metric exceptions under metric ids
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _outcome(
    cfg: Any, res: Any, df: pd.DataFrame, params: dict, reference: CheckReference
) -> ExpectationOutcome:
    meta = dict(cfg.meta or {})
    severity = meta.get("severity", ERROR)
    kwargs = {k: v for k, v in (cfg.kwargs or {}).items() if k != "batch_id"}
    column = kwargs.get("column")
    if column is None and "column_list" in kwargs:
        column = ",".join(kwargs["column_list"])
    if column is None and "column_A" in kwargs:  # column-pair expectations
        column = f"{kwargs['column_A']},{kwargs['column_B']}"
    r = res.result or {}
    error = _exception_message(res)
    success = bool(res.success) and error is None
    count = r.get("unexpected_count")
    sample: list[dict] = []
    if error:
        detail = f"could not be evaluated: {error}"
    elif "observed_value" in r:
        detail = f"observed {custom.jsonable(r['observed_value'])!r}; expected {_shown(kwargs)}"
    else:
        detail = f"{count} of {r.get('element_count')} values unexpected; expected {_shown(kwargs)}"
    if not success and not error:
        idx = r.get("unexpected_index_list") or []
        if idx and all(isinstance(i, int) or hasattr(i, "item") for i in idx[:5]):
            sample = custom.records(df.loc[list(idx[:5])])
        elif r.get("partial_unexpected_list"):
            sample = [
                v if isinstance(v, dict) else {"value": v}
                for v in (custom.jsonable(x) for x in r["partial_unexpected_list"][:5])
            ]
    if meta.get("description"):
        detail = f"{meta['description']}: {detail}"
    outcome = ExpectationOutcome(
        expectation=cfg.type,
        column=column,
        success=success,
        severity=severity,
        unexpected_count=None if count is None else int(count),
        sample=sample,
        detail=detail,
    )
    if meta.get("overridable") == "row_count":
        if reference.previous_row_count is None:
            outcome.detail += " (no previous publication: the band is not applied)"
        else:
            outcome.detail += (
                f" (previous publication: {reference.previous_row_count} rows; "
                f"minimum {params['min_row_count']})"
            )
        if not outcome.success and not error and reference.row_count_override_reason:
            outcome.success = True
            outcome.overridden = True
            outcome.override_reason = reference.row_count_override_reason
    return outcome


def _shown(kwargs: dict) -> str:
    shown = {}
    for k, v in kwargs.items():
        if k == "column":
            continue
        if isinstance(v, (list, set, tuple)) and len(v) > 10:
            v = f"<{len(v)} values>"
        shown[k] = v
    return json.dumps(shown, ensure_ascii=False, default=str)


def _run_custom(check: dict, df: pd.DataFrame, reference: CheckReference) -> ExpectationOutcome:
    meta = check.get("meta", {})
    try:
        res = custom.REGISTRY[check["type"]](df, check.get("kwargs", {}), reference)
    except Exception as exc:  # noqa: BLE001 - a broken check must fail loudly, not pass
        res = custom.CustomOutcome(False, None, f"could not be evaluated: {exc!r}")
    detail = f"{meta['description']}: {res.detail}" if meta.get("description") else res.detail
    return ExpectationOutcome(
        expectation=check["type"],
        column=res.column,
        success=res.success,
        severity=meta.get("severity", ERROR),
        unexpected_count=res.unexpected_count,
        sample=res.sample,
        detail=detail,
    )
