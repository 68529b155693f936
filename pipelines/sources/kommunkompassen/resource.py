"""The Dagster resource of the assessment source: whether the bundled example files join.

`sample` (the offline quick start) drops the bundled example Kommunkompassen files into the
landing folder before an import of that folder (once per data dir), so a new user sees an import, its quarantine
report and the marts without doing anything; `live` imports only what analysts dropped.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.settings import Layout
from pipelines.sources.landing import drop_examples

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample" / "assessments"


class AssessmentResource(dg.ConfigurableResource):
    source: str = "live"

    def drop_examples(self, layout: Layout) -> list[Path]:
        """Copy the bundled example files into the landing folder (sample source only), once:
        an example already in the archive was imported before, and dropping it again would
        undo any correction imported since."""
        if self.source != "sample":
            return []
        return drop_examples(EXAMPLES_DIR, layout.assessment_landing_dir,
                             layout.assessment_archive_dir)
