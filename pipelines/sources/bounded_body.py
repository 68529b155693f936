"""Reading an HTTP answer's body within bounds of size and time, and its JSON within depth.

httpx reads a body whole, and its timeout is per read: a 200 MB body took an ingest from 312
to 887 MB, an endless chunked body that kept sending ran 200 s to 1.46 GB and would have run on,
and a 200,000-deep JSON array raised a bare RecursionError naming no URL. Every source's client
reads through here instead: a body past `max_bytes` (declared or received, after decoding) or
still arriving after `max_seconds` is abandoned at once, and the error names the URL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

MIB = 1024 * 1024


class BodyTooLarge(Exception):
    """The answer is larger than any real answer; reading on would only cost memory."""


class BodyTooSlow(Exception):
    """The answer was still arriving when its time was up (a trickle, or an endless body)."""


class TooDeep(ValueError):
    """The JSON nests deeper than Python's parser can follow."""


def read_body(resp: httpx.Response, url: str, *, max_bytes: int, max_seconds: float,
              clock: Callable[[], float] = time.monotonic) -> bytes:
    """The body of a streamed `resp`, or BodyTooLarge / BodyTooSlow naming `url`."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"{url}: the answer declares {int(declared) / MIB:.1f} MiB, over the "
                           f"limit of {max_bytes / MIB:.1f} MiB per answer; not read")
    deadline = clock() + max_seconds
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():  # decoded: a gzip bomb is bounded by what it unpacks to
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"{url}: the answer passed the limit of {max_bytes / MIB:.1f} MiB "
                               "per answer; abandoned")
        if clock() > deadline:
            raise BodyTooSlow(f"{url}: the answer was still arriving after {max_seconds:g} s "
                              f"({size / MIB:.1f} MiB so far); abandoned")
        chunks.append(chunk)
    return b"".join(chunks)


def loads(body: bytes, url: str, **kwargs: Any) -> Any:
    """json.loads of `body`; ValueError as json raises it (a cut-off body: retried by callers),
    TooDeep naming `url` for nesting past the recursion limit (not something a retry fixes)."""
    try:
        return json.loads(body, **kwargs)
    except RecursionError:
        raise TooDeep(f"{url}: the JSON answer nests deeper than can be read "
                      f"({len(body):,} bytes); not an answer this API gives") from None


def no_repeated_keys(url: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An `object_pairs_hook` that refuses an object giving one key twice: json.loads keeps
    the last silently, so two values for one cell would become one without a word."""
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            repeated = next(k for k, _ in pairs if k in seen or seen.add(k))
            raise RepeatedKey(f"{url}: the key {repeated!r} is given twice in one JSON object; "
                              "an answer that repeats a key is refused")
        return out
    return hook


class RepeatedKey(ValueError):
    """An answer gives one key twice (an object's key, or an entry's identity)."""
