"""The analyst report: a static, offline site of board-ready KKiK scorecards with charts.

Rendered from a publication's own files (never the warehouse) into `published/<version>/report/`
by the publisher, and again on demand by `kommunkvalitet report`. Modules, one concern each:
`load` (the publication's marts, with DuckDB), `numbers` (Swedish number formats), `charts`
(SVG), `views` (what each page shows), `downloads` (each kommun's board as xlsx and CSV),
`site` (Jinja2 templates -> files), `pdf` (optional print to PDF with headless Chromium).
docs/report.md says what is in it and why. What does not belong here: any figure the marts
do not hold (the report computes no ranks or means).
"""

from pipelines.report.load import REQUIRED_MARTS, ReportDataError, available_marts
from pipelines.report.site import RenderResult, ReportError, render

__all__ = ["REQUIRED_MARTS", "RenderResult", "ReportDataError", "ReportError",
           "available_marts", "render"]
