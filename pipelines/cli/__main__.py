"""`python -m pipelines.cli ...`: the console script `kommunkvalitet` without its wrapper."""

from pipelines.cli import entry

entry()
