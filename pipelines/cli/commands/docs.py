"""`kommunkvalitet docs`: the dbt docs site, built in the warehouse pool."""

from __future__ import annotations

import argparse

from pipelines.cli.exit_codes import EXIT_OK
from pipelines.cli.jobs import check_config, run_command_job
from pipelines.settings import Settings

NAME = "docs"
HELP = ("build the dbt docs site (models, columns, tests, lineage) into "
        "$KK_DATA_DIR/dbt/docs/static_index.html")
DESCRIPTION = ("Runs `dbt docs generate --static` in the warehouse pool, with the "
               "catalog of the current warehouse (or none before the first build).")
EXAMPLES = ("kommunkvalitet docs   # then open the printed static_index.html",)
ENVIRONMENT = ("KK_DATA_DIR", "KK_CONFIG", "DAGSTER_HOME")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, settings: Settings) -> int:
    check_config(settings)
    code = run_command_job("dbt_docs", args, settings)
    if code == EXIT_OK:
        site = (settings.data_dir / "dbt" / "docs" / "static_index.html").resolve()
        print(f"  dbt docs: open file://{site} in a browser (one self-contained file)")
    return code
