"""The shared, persistent Dagster instance (DAGSTER_HOME): the committed `dagster.yaml`
template, installed once, and the warehouse pool every warehouse step runs in. Prepared
before anything runs; the instance itself (run storage, event logs) lives in the data dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from pipelines.orchestration.instance.sqlite_storage import (
    pool_event_log_storage,
    tune_sqlite_storage,
)
from pipelines.settings import Settings

TEMPLATE = Path(__file__).with_name("dagster.yaml")
WAREHOUSE_POOL = "warehouse"


def prepare_dagster_home(settings: Settings) -> Path:
    """Create the shared instance folder and install the committed template once."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(TEMPLATE, config)
    return home


def shared_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance in `settings.dagster_home`, opened from its folder (not from a
    DAGSTER_HOME written into this process's environment)."""
    home = prepare_dagster_home(settings)
    tune_sqlite_storage(home)  # no fsync per stored event (sqlite_storage.py says why)
    instance = dg.DagsterInstance.from_config(str(home))
    # The yaml's default_limit covers pools that are not configured; set ours explicitly so
    # the UI shows it and an operator sees the limit where they would look for it.
    storage = pool_event_log_storage(instance.event_log_storage)  # one engine per shard file
    if storage.supports_global_concurrency_limits:
        current = storage.get_concurrency_info(WAREHOUSE_POOL)
        if current.slot_count != 1:
            storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
    return instance
