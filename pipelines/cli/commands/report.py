"""`kommunkvalitet report`: render the analyst report from published/current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.cli.exit_codes import EXIT_FAILED, EXIT_OK
from pipelines.settings import Settings, SettingsError

NAME = "report"
HELP = "render the analyst report (static HTML site) from published/current"
DESCRIPTION = ("Renders the report from published/current (never the warehouse) into "
               "--out; the publication's own copy in published/<version>/report/ is left as it "
               "was published.")
EXAMPLES = ("kommunkvalitet report --municipality 1784 --out /tmp/arvika",
            "kommunkvalitet report --network exempel_natverk_varmland --pdf")
ENVIRONMENT = ("KK_DATA_DIR",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--municipality", action="append", metavar="CODE",
                        help="only this kommun's page (repeatable; default: all 290)")
    parser.add_argument("--network", action="append", metavar="ID",
                        help="only this network's page (repeatable; default: all)")
    parser.add_argument("--out", metavar="DIR",
                        help="where to write it (default: $KK_DATA_DIR/reports/<version>)")
    parser.add_argument("--pdf", action="store_true",
                        help="also print each kommun page to A4 PDF (needs Chromium)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.report import ReportDataError, ReportError, render
    from pipelines.report.pdf import PdfError, print_pdfs

    current = settings.layout.published_dir / "current"
    if not current.exists():
        print(f"kommunkvalitet: no publication at {current}: run `kommunkvalitet refresh` "
              "first", file=sys.stderr)
        return EXIT_FAILED
    folder = current.resolve()
    codes = [c.strip() for c in args.municipality or []]
    bad = [c for c in codes if not (len(c) == 4 and c.isdigit())]
    if bad:
        raise SettingsError(f"--municipality needs 4-digit kommun codes, got {', '.join(bad)}")
    out = Path(args.out).expanduser().resolve() if args.out else (
        settings.data_dir / "reports" / folder.name)
    try:
        result = render(folder, out, municipalities=codes or None, networks=args.network)
        if args.pdf:
            pages = sorted((out / "kommun").glob("*.html"))
            pdfs = print_pdfs(pages, out / "pdf")
            print(f"  {len(pdfs)} PDF(s) in {out / 'pdf'}")
    except ReportError as exc:
        raise SettingsError(str(exc)) from exc
    except (ReportDataError, PdfError) as exc:
        print(f"kommunkvalitet: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"report of {folder.name}: {result.municipality_pages} kommun pages, "
          f"{result.network_pages} network pages, {result.files} files, "
          f"{result.bytes / 1e6:.1f} MB in {result.seconds:.1f} s")
    print(result.index)
    return EXIT_OK
