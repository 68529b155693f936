"""The dbt resource the platform runs: dagster-dbt's, minus two costs paid on every build.

- Before every dbt command dagster-dbt builds a dbt adapter inside the Dagster process (it
  loads the project and its ~570 macros: ~1 s of CPU). The adapter serves only
  `fetch_row_counts()` and `fetch_column_metadata()` on the event stream, which the platform
  does not call: it reads each model's row count itself once dbt has exited
  (pipelines.warehouse.dbt_metadata), because DuckDB lets no second process open the
  warehouse while dbt writes it. dagster-dbt runs without an adapter when none can be made.
- To learn dbt's version it runs `dbt --version`, a second Python process that imports dbt
  (~1.5 s before the build can start). The dbt beside this interpreter is the dbt-core
  package installed with it, whose version its metadata states; any other dbt is still asked.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource
from packaging import version


class WarehouseDbtCli(DbtCliResource):
    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(metadata.version("dbt-core"))
        return super()._cli_version
