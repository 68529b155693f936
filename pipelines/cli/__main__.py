"""`python -m pipelines.cli ...`: the console script `kommunkvalitet` without its wrapper."""

import sys

from pipelines.cli.app import main

sys.exit(main())
