"""Give memory a step freed back to the system before the next big step of the same process.

Freed Arrow buffers stay in pyarrow's allocator, and freed C heap (DuckDB's, which uses the C
library's malloc in these wheels) stays in malloc's arenas, until something asks for it back:
without that, the process's resident memory keeps the high-water mark of an earlier step and
the next step's peak comes on top. The publisher calls this before its first mart (in
`refresh` it runs in the process that just ran dbt's wrapper and the GX suites) and between
marts (docs/performance.md, "Workload M").
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import cache

import pyarrow as pa


def release_unused() -> None:
    """Return the free memory of pyarrow's pool and of malloc's arenas to the system."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None (not Linux, or a C library without it, e.g. musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
