"""HTTP client for SCB's PxWeb API v2, built around its published limits.

`GET /config` comes first: it says how many calls a time window allows (30 per 10 s) and how
many cells one answer may hold (150,000). The client keeps a sliding window of its own calls
and waits before it would exceed the first; it splits a selection that would exceed the
second (halving its longest value list until every part fits) so SCB never has to refuse it.
If SCB refuses anyway (429, or 403 as older PxWeb versions answer), it waits the window out
and tries again; 5xx, timeouts and cut-off JSON are retried with backoff. A 400 is a query the
platform got wrong: raised at once with SCB's message.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import httpx

from pipelines.sources.bounded_body import (
    MIB,
    BodyTooLarge,
    BodyTooSlow,
    RepeatedKey,
    TooDeep,
    loads,
    no_repeated_keys,
    read_body,
)
from pipelines.sources.http_errors import SourceUnavailable
from pipelines.sources.scb.jsonstat import Dataset, JsonStatError, decode, selection_cells
from pipelines.sources.scb.records import Provenance
from pipelines.sources.tls import tls_context

Selection = list[tuple[str, list[str]]]  # [(variableCode, valueCodes)], in query order


class ScbError(Exception):
    """SCB answered something the platform cannot use."""


class ScbUnavailable(SourceUnavailable, ScbError):
    """Every attempt failed; names the URL, the last failure and the attempts."""

    source = "SCB"


@dataclass(frozen=True)
class ScbConfig:
    max_data_cells: int
    max_calls: int
    time_window: float

    @classmethod
    def from_doc(cls, doc: Any, url: str) -> ScbConfig:
        try:
            cfg = cls(int(doc["maxDataCells"]), int(doc["maxCallsPerTimeWindow"]),
                      float(doc["timeWindow"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ScbError(f"{url}: expected maxDataCells, maxCallsPerTimeWindow and timeWindow "
                           f"in the config, got {str(doc)[:200]}") from exc
        if cfg.max_data_cells < 1 or cfg.max_calls < 1 or cfg.time_window <= 0:
            raise ScbError(f"{url}: unusable limits {cfg}")
        return cfg


@dataclass
class DataAnswer:
    dataset: Dataset
    provenance: Provenance
    cells: int


class CallWindow:
    """At most `max_calls` calls in any `window` seconds (sliding, by the client's own clock)."""

    def __init__(self, max_calls: int, window: float, *, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self.max_calls = max_calls
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self.waited = 0.0

    def acquire(self) -> None:
        while True:
            now = self._clock()
            while self._calls and now - self._calls[0] >= self.window:
                self._calls.popleft()
            if len(self._calls) < self.max_calls:
                self._calls.append(now)
                return
            wait = self.window - (now - self._calls[0]) + 0.01
            self.waited += wait
            self._sleep(wait)

    def finished(self) -> None:
        """Re-stamp the latest call with the time its answer arrived. SCB counts a call when
        it arrives, which is after the client sent it: counting from the answer keeps the
        client's window at least as full as SCB's, so a sliding window never overtakes it."""
        if self._calls:
            self._calls[-1] = self._clock()

    def carry(self, other: CallWindow) -> None:
        """Count the calls another window has made (the /config call, before the limits
        were known) in this one."""
        self._calls.extend(other._calls)
        self.waited += other.waited

    def exhaust(self) -> None:
        """SCB says the window is full (429/403): count the window as used from now on."""
        now = self._clock()
        self._calls = deque([now] * self.max_calls)


def split_selection(selection: Selection, max_cells: int,
                    keep_whole: Sequence[str] = ("ContentsCode",)) -> list[Selection]:
    """Parts of `selection` of at most `max_cells` cells each, together covering it exactly.

    Halves the longest splittable value list until a part fits; a part that cannot fit even
    with one value per splittable variable is an error (no query could answer it)."""
    if selection_cells(selection) <= max_cells:
        return [selection]
    candidates = [(len(codes), i) for i, (var, codes) in enumerate(selection)
                  if var not in keep_whole and len(codes) > 1]
    if not candidates:
        raise ScbError(f"a selection of {selection_cells(selection):,} cells cannot be split "
                       f"below the limit of {max_cells:,}")
    _, i = max(candidates)
    var, codes = selection[i]
    half = (len(codes) + 1) // 2
    parts: list[Selection] = []
    for chunk in (codes[:half], codes[half:]):
        part = list(selection)
        part[i] = (var, list(chunk))
        parts.extend(split_selection(part, max_cells, keep_whole))
    return parts


def body_of(selection: Selection) -> bytes:
    """The POST body, in one canonical form so its hash identifies the question asked."""
    doc = {"selection": [{"variableCode": var, "valueCodes": list(codes)}
                         for var, codes in selection]}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None, window_full: bool = False
                 ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
        self.window_full = window_full


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class ScbClient:
    """Sequential on purpose: 30 calls per 10 s leaves nothing to gain from threads."""

    def __init__(
        self,
        base_url: str,
        *,
        language: str = "sv",
        timeout: float = 60.0,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        progress: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
        max_answer_bytes: int = 64 * MIB,
        max_answer_seconds: float = 300.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        # 150,000 cells of json-stat2 are ~2 MB: these bounds only stop what is no answer
        self.max_answer_bytes = max_answer_bytes
        self.max_answer_seconds = max_answer_seconds
        self.language = language
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._progress = progress
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.Client(
            timeout=timeout, trust_env=True, transport=transport, verify=tls_context(),
            headers={"Accept": "application/json", "User-Agent": "kommunkvalitet/0.1"},
        )
        self._config: ScbConfig | None = None
        self._window: CallWindow | None = None
        self.requests = 0
        self.refusals = 0  # 429/403 answers: the window was full by SCB's count

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _say(self, line: str) -> None:
        if self._progress is not None:
            self._progress(line)

    # -- limits -----------------------------------------------------------------------------
    @property
    def config(self) -> ScbConfig:
        """SCB's limits, read once from `/config` before any other call."""
        if self._config is None:
            url = f"{self.base_url}/config"
            # Until the config is known, be as careful as the published defaults.
            self._window = CallWindow(1, 1.0, clock=self._clock, sleep=self._sleep)
            self._config = ScbConfig.from_doc(self._request("GET", url), url)
            first = self._window
            self._window = CallWindow(self._config.max_calls, self._config.time_window,
                                      clock=self._clock, sleep=self._sleep)
            self._window.carry(first)
            self._say(f"scb: {self._config.max_calls} calls per {self._config.time_window:g} s, "
                      f"at most {self._config.max_data_cells:,} cells per answer")
        return self._config

    @property
    def waited(self) -> float:
        """Seconds spent waiting for the call window."""
        return self._window.waited if self._window else 0.0

    # -- HTTP -------------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))

    def _try_once(self, method: str, url: str, body: bytes | None) -> Any:
        assert self._window is not None
        self._window.acquire()
        self.requests += 1
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            # streamed, so the body is read within bounds of size and time (bounded_body)
            with self._http.stream(method, url, content=body, headers=headers) as resp:
                status = resp.status_code
                text = read_body(resp, f"{method} {url}", max_bytes=self.max_answer_bytes,
                                 max_seconds=self.max_answer_seconds)
        except httpx.TimeoutException as exc:
            raise _Retry(f"timeout ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        except BodyTooSlow as exc:
            raise _Retry(str(exc)) from exc
        except BodyTooLarge as exc:
            raise ScbError(str(exc)) from None
        finally:
            self._window.finished()
        message = text[:300].decode("utf-8", errors="replace")
        if status == 403 and "cell" in message.lower():
            # PxWeb's answer to a selection over maxDataCells: waiting would not help.
            raise ScbError(f"HTTP 403 for {method} {url}: {message}")
        if status in (429, 403):
            self.refusals += 1
            raise _Retry(f"HTTP {status} (call window full)",
                         _retry_after(resp.headers.get("Retry-After")), window_full=True)
        if status >= 500:
            raise _Retry(f"HTTP {status}", _retry_after(resp.headers.get("Retry-After")))
        if status >= 400:
            raise ScbError(f"HTTP {status} for {method} {url}: {message}")
        try:
            # a key given twice in one object (a sparse `value`, an `index`) is refused, not
            # collapsed by json.loads into its last value
            return loads(text, f"{method} {url}", object_pairs_hook=no_repeated_keys(f"{method} {url}"))
        except (TooDeep, RepeatedKey) as exc:
            raise ScbError(str(exc)) from None
        except ValueError as exc:
            raise _Retry(f"invalid JSON ({len(text)} bytes): {exc}") from exc

    def _request(self, method: str, url: str, body: bytes | None = None) -> Any:
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._try_once(method, url, body)
            except _Retry as retry:
                last = retry.reason
                if attempt == self.max_attempts:
                    break
                if retry.window_full:
                    assert self._window is not None
                    self._window.exhaust()  # the next acquire waits the window out
                    delay = retry.delay or 0.0
                else:
                    delay = retry.delay if retry.delay is not None else self._backoff(attempt)
                self._say(f"scb: retry {attempt}/{self.max_attempts - 1} of {url} after {last}")
                if delay:
                    self._sleep(min(delay, 300.0))
        raise ScbUnavailable(url, last, self.max_attempts)

    # -- tables -----------------------------------------------------------------------------
    def _table_url(self, table: str, what: str) -> str:
        return (f"{self.base_url}/tables/{table}/{what}?lang={self.language}"
                "&outputFormat=json-stat2")

    def metadata(self, table: str) -> Dataset:
        """The table's variables and their codes (a json-stat2 dataset without values)."""
        _ = self.config
        url = self._table_url(table, "metadata")
        doc = self._request("GET", url)
        if isinstance(doc, dict) and "value" not in doc:
            doc = {**doc, "value": {}}
        try:
            return decode(doc)
        except JsonStatError as exc:
            raise ScbError(f"{url}: {exc}") from exc

    def data(self, table: str, selection: Selection,
             keep_whole: Sequence[str] = ("ContentsCode",)) -> list[DataAnswer]:
        """Answer `selection` (variables not named are eliminated), split to fit the limit;
        the variables in `keep_whole` are never split across queries."""
        limit = self.config.max_data_cells
        parts = split_selection(selection, limit, keep_whole)
        url = self._table_url(table, "data")
        answers: list[DataAnswer] = []
        for n, part in enumerate(parts, start=1):
            body = body_of(part)
            doc = self._request("POST", url, body)
            try:
                dataset = decode(doc)
            except JsonStatError as exc:
                raise ScbError(f"POST {url}: {exc}") from exc
            cells = selection_cells(part)
            if dataset.size != cells:
                raise ScbError(f"POST {url}: asked for {cells:,} cells, got a dataset of "
                               f"{dataset.size:,}")
            provenance = Provenance(url=url, table=table, updated=dataset.updated,
                                    body_sha256=hashlib.sha256(body).hexdigest())
            answers.append(DataAnswer(dataset, provenance, cells))
            self._say(f"scb {table}: query {n}/{len(parts)}, {cells:,} cells")
        return answers
