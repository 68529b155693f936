"""Optional: print report pages to A4 PDF with headless Chromium, when it is installed.

The pages' print stylesheet does the layout (A4, no navigation, tables kept whole); Chromium
only prints. Nothing is downloaded: without a system Chromium `--pdf` is an error that says so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Flags that keep a headless Chromium from calling home (and work as root in a container).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pdf-header-footer")


class PdfError(RuntimeError):
    """No Chromium to print with, or Chromium failed."""


def chromium() -> str | None:
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def print_pdfs(pages: Iterable[Path], out: Path, *, timeout: float = 60) -> list[Path]:
    """One PDF per page into `out`, named like the page."""
    browser = chromium()
    if browser is None:
        raise PdfError("--pdf needs Chromium (apt-get install chromium); none found on PATH")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages:
        target = out / (page.stem + ".pdf")
        with tempfile.TemporaryDirectory(prefix="kk-chromium-") as profile:
            done = subprocess.run(
                [browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={target}",
                 page.resolve().as_uri()],
                capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0 or not target.is_file():
            raise PdfError(f"Chromium could not print {page}: {done.stderr.strip()[-500:]}")
        written.append(target)
    return written
