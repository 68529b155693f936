"""The process environment a module of platform tests runs in: its own data dir and Dagster
home, the sample source (KK_SOURCE unset), and the caller's environment back afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_KEYS = ("KK_DATA_DIR", "DAGSTER_HOME", "KK_SOURCE")


@contextmanager
def platform_env(data: Path, *, unset: tuple[str, ...] = ()) -> Iterator[Path]:
    """`unset`: more variables to run without (as deployed), restored afterwards too."""
    saved = {k: os.environ.get(k) for k in (*_KEYS, *unset)}
    os.environ["KK_DATA_DIR"] = str(data)
    os.environ["DAGSTER_HOME"] = str(data / "dagster")
    for key in ("KK_SOURCE", *unset):
        os.environ.pop(key, None)
    try:
        yield data
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
