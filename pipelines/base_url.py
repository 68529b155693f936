"""A source's base URL, checked before the first request, and shown without credentials.

A malformed base URL (`api.kolada.se/v3` without a scheme, `https://:443`, a port out of
range, a space) used to be "retried" six times per stream as if the network were down; it is
a configuration error, so it is refused at once with the variable's name. A proxy or API URL
may carry `user:password@`: every message shows it with the credentials replaced.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Percent-escapes a server may decode before it resolves dot segments: `.`, `/`, `\\` and `%`
# itself (so `%252e` is a dot after two decodings).
_PATH_ESCAPES = re.compile(r"%(2e|2f|5c|25)", re.IGNORECASE)


class InvalidBaseUrl(ValueError):
    """The base URL cannot be requested; the message names the setting, never a password."""


def redact(url: str) -> str:
    """`url` with any `user:password@` replaced by `***@` (for logs and errors)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"***@{host}" + (f":{port}" if port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def check_base_url(url: str, name: str = "base URL") -> str:
    """`url` without a trailing slash, or InvalidBaseUrl saying what is wrong with it."""
    shown = redact(url)
    if not url or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidBaseUrl(f"{name}={shown!r} is not a URL (empty, or contains whitespace)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidBaseUrl(f"{name}={shown!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidBaseUrl(f"{name}={shown!r} must start with https:// (or http://), e.g. "
                             "https://api.kolada.se/v3")
    if not parts.hostname:
        raise InvalidBaseUrl(f"{name}={shown!r} has no host name")
    if port == 0:
        raise InvalidBaseUrl(f"{name}={shown!r}: port 0 cannot be requested")
    if parts.query or parts.fragment:
        raise InvalidBaseUrl(f"{name}={shown!r} must not carry a query or fragment (the "
                             "client adds its own)")
    return url.rstrip("/")


_URL = re.compile(r"https?://[^\s'\"<>`]+")


def elide(url: str, width: int = 72) -> str:
    """`url` cut to about `width` characters in its middle: the host and the start of the
    path stay, so does the end (the page, the year), and the words after it in a message."""
    if len(url) <= width:
        return url
    keep = (width - 1) // 2
    return f"{url[:keep]}…{url[-(width - 1 - keep):]}"


def elide_urls(text: str, width: int = 72) -> str:
    """Every long URL in a message elided (see `elide`), for a line an operator reads."""
    return _URL.sub(lambda m: elide(m.group(0), width), text)


def normalised_path(path: str) -> str:
    """`path` as the most eager server would resolve it: escaped dots, slashes and backslashes
    decoded (repeatedly, for double encoding), backslashes as slashes, then RFC 3986's
    remove_dot_segments. Two URLs are compared by this, never by their text: `/v3/../evil`,
    `/v3/%2e%2e/evil` and `/v3/./../../x` all start with `/v3/` but are requested elsewhere."""
    for _ in range(4):
        decoded = _PATH_ESCAPES.sub(lambda m: bytes.fromhex(m[1]).decode("ascii"), path)
        if decoded == path:
            break
        path = decoded
    segments = path.replace("\\", "/").split("/")
    out: list[str] = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def path_within(path: str, base_path: str) -> bool:
    """Whether `path`, normalised, is `base_path` or lies below it."""
    prefix = normalised_path(base_path).rstrip("/")
    path = normalised_path(path)
    return path == prefix or path.startswith(prefix + "/")
