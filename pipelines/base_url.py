"""A source's base URL, checked before the first request, and shown without credentials.

A malformed base URL (`api.kolada.se/v3` without a scheme, `https://:443`, a port out of
range, a space) used to be "retried" six times per stream as if the network were down; it is
a configuration error, so it is refused at once with the variable's name. A proxy or API URL
may carry `user:password@`: every message shows it with the credentials replaced.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit


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
