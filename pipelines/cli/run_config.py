"""Flags -> Dagster run config for a job (pure: unit-tested without running anything)."""

from __future__ import annotations

import argparse
from typing import Any

from pipelines.settings import Settings, SettingsError
from pipelines.sources.kommunkompassen.streams import KOMMUNKOMPASSEN
from pipelines.warehouse.build_vars import AsOfError, parse_as_of

# The op of the assessment import asset (its asset key joined by "__", as Dagster names it).
ASSESSMENT_OP = "__".join(KOMMUNKOMPASSEN.asset_key_path)

# Which op takes which config; a job only accepts config for the ops it contains.
_JOB_OPS = {
    "ingest": (),
    "build": ("warehouse_models", "gx_suites"),
    "publish": ("publication",),
    "assessment_refresh": (ASSESSMENT_OP, "warehouse_models", "gx_suites", "publication"),
    "assessment_import": (ASSESSMENT_OP,),
    "nightly_refresh": (),
    "full_refresh": (),
    "nightly_publish": ("warehouse_models", "gx_suites", "publication"),
    "dbt_docs": (),
}


def run_config(job: str, args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Flags -> Dagster run config for `job` (pure: unit-tested without running anything)."""
    # Run config replaces a resource's whole config: every field comes from the settings here,
    # or KOLADA_BASE_URL / KOLADA_MAX_RPS would silently fall back to the class defaults.
    kolada: dict[str, Any] = {
        "source": settings.source,
        "base_url": settings.kolada_base_url,
        "max_rps": settings.kolada_max_rps,
        "full": bool(getattr(args, "full", False)),
    }
    scb: dict[str, Any] = {"source": settings.source, "base_url": settings.scb_base_url}
    sample_day = getattr(args, "sample_day", None)
    if sample_day is not None:
        if sample_day < 1:
            raise SettingsError("--sample-day must be 1 or more")
        kolada["sample_day"] = sample_day
        scb["sample_day"] = sample_day
    ops: dict[str, Any] = {}
    op_configs = {
        "warehouse_models": {
            "as_of": _as_of(getattr(args, "as_of", None)),
            "full_refresh": bool(getattr(args, "full_refresh", False)),
        },
        "gx_suites": {"row_count_override_reason": getattr(args, "override_row_count", None)},
        "publication": {
            "force": bool(getattr(args, "force", False)),
            "allow_older_reason": _reason(getattr(args, "allow_older", None), "--allow-older"),
        },
        ASSESSMENT_OP: {"paths": [str(p) for p in getattr(args, "paths", None) or []]},
    }
    for op in _JOB_OPS[job]:
        ops[op] = {"config": op_configs[op]}
    config: dict[str, Any] = {
        "resources": {
            "kolada": {"config": kolada},
            "scb": {"config": scb},
            "assessments": {"config": {"source": settings.source}},
            "platform": {
                "config": {
                    "data_dir": str(settings.data_dir),
                    "config_path": str(settings.config_path),
                    "publish_keep": settings.publish_keep,
                }
            },
        }
    }
    if ops:
        config["ops"] = ops
    # INFO keeps the progress lines (pages, rows, rate; dbt models; suites) and drops Dagster's
    # per-event DEBUG chatter (all of it is in logs/<run id>.log and the instance); --quiet
    # keeps warnings and errors, --verbose shows everything.
    level = ("WARNING" if getattr(args, "quiet", False)
             else "DEBUG" if getattr(args, "verbose", False) else "INFO")
    config["loggers"] = {"console": {"config": {
        "log_level": level, "log_dir": str(settings.data_dir / "logs")}}}
    return config


def _reason(text: str | None, flag: str) -> str | None:
    """An operator's reason: None when the flag is absent, an error when it is blank."""
    if text is None:
        return None
    if not text.strip():
        raise SettingsError(f"{flag} needs a reason (it is recorded in the manifest)")
    return text.strip()


def _as_of(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return parse_as_of(text).isoformat()
    except AsOfError as exc:
        raise SettingsError(str(exc)) from exc
