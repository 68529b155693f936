"""What an HTTP source's client raises when every attempt failed, shared by the sources."""

from __future__ import annotations


class SourceUnavailable(Exception):
    """Every attempt failed; the message names the source, the URL, the last failure and the
    number of attempts, which is what an operator needs to decide whether to wait or act."""

    source = "the source"

    def __init__(self, url: str, last_failure: str, attempts: int) -> None:
        super().__init__(f"{self.source} unavailable: {url} failed {attempts} time(s); last "
                         f"failure: {last_failure}")
        self.url = url
        self.last_failure = last_failure
        self.attempts = attempts
