"""HTTP client for the Kolada API v3.

Built around the traps listed in docs (kolada-api.md): follow `next_url` to the end and never
trust `count`; at most 25 ids per path segment; throttle politely; retry what is transient
(429, 5xx, connection errors, truncated JSON) with exponential backoff and full jitter; and
treat an empty answer to a non-empty full-mode scope as an error, because a misspelled query
returns an empty list without complaint.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date
from email.utils import parsedate_to_datetime
from itertools import product
from typing import Any, Self, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import progress
from pipelines.base_url import check_base_url, path_within, redact
from pipelines.sources.bounded_body import (
    MIB,
    BodyTooLarge,
    BodyTooSlow,
    TooDeep,
    loads,
    read_body,
)
from pipelines.sources.http_errors import SourceUnavailable
from pipelines.sources.kolada.ou_values_arrow import incoming_from_ou_pages, read_ou_page
from pipelines.sources.kolada.records import (
    SourceRecord,
    metadata_records,
    ou_value_records,
    value_records,
)
from pipelines.sources.kolada.streams import KPI_VALUE, METADATA_STREAMS, OU_VALUE, KoladaStream
from pipelines.sources.kolada.throttle import TokenBucket
from pipelines.sources.kolada.values_arrow import (
    ArrowPage,
    distinct,
    incoming_from_pages,
    incoming_from_records,
    last_wins,
    read_page,
    within,
)
from pipelines.sources.tls import tls_context

PageReader = Callable[[bytes], "ArrowPage | None"]
MAX_IDS_PER_SEGMENT = 25
MAX_PAGES = 10_000  # guards against a next_url loop on a misbehaving server

T = TypeVar("T")


class KoladaError(Exception):
    """Kolada answered something the platform cannot use."""


class KoladaUnavailable(SourceUnavailable, KoladaError):
    """Every attempt failed; the message names the URL, the last failure and the attempts."""

    source = "Kolada"


class SuspiciousEmptyAnswer(KoladaError):
    """A non-empty scope returned no data at all: most likely a malformed query."""


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


@dataclass
class ValueChunk:
    """One request's values as the event log's incoming table (values_arrow), hashed."""

    kpis: tuple[str, ...]
    municipalities: tuple[str, ...]
    years: tuple[int, ...]
    url: str
    pages: int
    table: pa.Table
    in_scope: bool = True  # every value inside kpis x municipalities x years (see values_arrow)

    @property
    def rows(self) -> int:
        return self.table.num_rows

    @property
    def records(self) -> list[SourceRecord]:
        """The values as records, for callers that inspect a few (tests); the ingest itself
        never builds these."""
        return [SourceRecord(r["entity_key"], json.loads(r["payload"]), r["deleted"], r["source"])
                for r in self.table.to_pylist()]


@dataclass
class OuValueChunk:
    """One unit-data request's values as the incoming table (ou_values_arrow), hashed; `ous`
    None = every unit (no ou segment)."""

    kpis: tuple[str, ...]
    ous: tuple[str, ...] | None
    years: tuple[int, ...]
    url: str
    pages: int
    table: pa.Table

    @property
    def rows(self) -> int:
        return self.table.num_rows

    @property
    def records(self) -> list[SourceRecord]:
        """The values as records, for callers that inspect a few (tests)."""
        return [SourceRecord(r["entity_key"], json.loads(r["payload"]), r["deleted"], r["source"])
                for r in self.table.to_pylist()]


@dataclass
class MetadataResult:
    stream: KoladaStream
    url: str
    pages: int
    records: list[SourceRecord] = field(default_factory=list)


def chunked(items: Sequence[T], size: int = MAX_IDS_PER_SEGMENT) -> list[tuple[T, ...]]:
    """Split into tuples of at most `size` (Kolada rejects longer id lists)."""
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def _dedupe(items: Sequence[T]) -> list[T]:
    return list(dict.fromkeys(items))


def _retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP-date; None when neither."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def same_base(url: str, base: str) -> bool:
    """Whether `url` lies under `base`: same scheme, host and port, and inside its path once
    dot segments (also percent-encoded ones) are resolved."""
    u, b = urlsplit(url), urlsplit(base)
    default = {"http": 80, "https": 443}
    try:
        u_port, b_port = u.port or default.get(u.scheme), b.port or default.get(b.scheme)
    except ValueError:
        return False
    # by normalised paths: "/v3/../evil" starts with "/v3/" but httpx requests "/evil"
    return (u.scheme == b.scheme and u.hostname == b.hostname and u_port == b_port
            and path_within(u.path, b.path))


def _refuse_repeats(page_url: str, keys: pa.Array | list[str]) -> None:
    """An answer whose entries repeat a key is refused: a page of a million entries of one key
    used to be collapsed silently into one event (last wins), hiding whatever produced it."""
    if isinstance(keys, list):
        keys = pa.array(keys, pa.string())
    if distinct(keys):
        return
    counts = pc.value_counts(keys)
    top = max(counts.to_pylist(), key=lambda c: c["counts"])
    raise KoladaError(f"{redact(page_url)} gives the key {top['values']} {top['counts']:,} times "
                      f"({len(keys):,} entries, {len(counts):,} keys): an answer that repeats a "
                      "key is refused; nothing of it is ingested")


def _page_keys(values: pa.Table) -> pa.Array:
    """kpi|municipality|period|gender of a bulk page's values (the value stream's key)."""
    return pc.binary_join_element_wise(
        values["kpi"], values["municipality"], pc.cast(values["period"], pa.string()),
        values["gender"], "|").combine_chunks()


def _check_counts(first_url: str, counts: list[tuple[str, int, int]], total: int) -> None:
    """Paging follows next_url, never `count`; but a count that is neither the page's size nor
    the answer's total says values went missing (a cut-off answer that still parsed)."""
    for page_url, count, on_page in counts:
        if count not in (on_page, total):
            raise KoladaError(
                f"{redact(page_url)} says count {count} but holds {on_page} values ({total} in "
                f"all pages from {redact(first_url)}): an incomplete answer; nothing of it is "
                "ingested")


class KoladaClient:
    """Fetches metadata and values; thread-safe, one throttle for all its threads."""

    def __init__(
        self,
        base_url: str,
        *,
        max_rps: float = 5.0,
        timeout: float = 30.0,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_cap: float = 60.0,
        per_page: int = 5000,
        max_in_flight: int = 4,
        max_page_bytes: int = 64 * MIB,
        max_page_seconds: float = 300.0,
        progress: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        # before any request: a malformed URL is a configuration error, never retried
        self.base_url = check_base_url(base_url, "KOLADA_BASE_URL")
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = retry_after_cap
        self.per_page = per_page
        # A full page (5,000 values) is ~2 MB and arrives in seconds: these bounds only stop
        # an answer that is no Kolada page (bounded_body)
        self.max_page_bytes = max_page_bytes
        self.max_page_seconds = max_page_seconds
        self.max_in_flight = max(1, max_in_flight)
        self._progress = progress
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._throttle = TokenBucket(max_rps, capacity=1.0, sleep=sleep)
        self._http = httpx.Client(
            timeout=timeout,
            trust_env=True,  # honour HTTPS_PROXY / SSL_CERT_FILE etc. in corporate networks
            verify=tls_context(),
            headers={"Accept": "application/json", "User-Agent": "kommunkvalitet/0.1"},
            limits=httpx.Limits(max_connections=self.max_in_flight + 2),
            transport=transport,
        )
        self._count_lock = threading.Lock()
        self.requests = 0  # HTTP requests sent, retries included
        self._started = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- low level -------------------------------------------------------------------------
    def _say(self, line: str) -> None:
        if self._progress is not None:
            self._progress(line)

    def _rate(self) -> float:
        elapsed = time.monotonic() - self._started
        return self.requests / elapsed if elapsed > 0 else 0.0

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        with self._rng_lock:
            return self._rng.uniform(0, ceiling)  # full jitter

    def _try_once(self, url: str, bulk: bool | PageReader = False
                  ) -> dict[str, Any] | ArrowPage:
        self._throttle.acquire()
        with self._count_lock:
            self.requests += 1
        shown = redact(url)
        try:
            # streamed, so the body is read within bounds of size and time (bounded_body)
            with self._http.stream("GET", url) as resp:
                status = resp.status_code
                if status == 429:
                    raise _Retry("HTTP 429", _retry_after(resp.headers.get("Retry-After")))
                if status >= 500:
                    raise _Retry(f"HTTP {status}", _retry_after(resp.headers.get("Retry-After")))
                body = read_body(resp, shown, max_bytes=self.max_page_bytes,
                                 max_seconds=self.max_page_seconds)
        except httpx.TimeoutException as exc:
            raise _Retry(f"timeout ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        except BodyTooSlow as exc:
            raise _Retry(str(exc)) from exc
        except BodyTooLarge as exc:
            raise KoladaError(str(exc)) from None
        if status >= 400:
            raise KoladaError(f"HTTP {status} for {shown}: "
                              f"{body[:300].decode('utf-8', errors='replace')}")
        if bulk and (page := (read_page if bulk is True else bulk)(body)) is not None:
            return page  # anything the reader is unsure of takes the Python path below
        try:
            doc = loads(body, shown)
        except TooDeep as exc:
            raise KoladaError(str(exc)) from None
        except ValueError as exc:  # truncated or not JSON (e.g. a proxy's HTML page)
            raise _Retry(f"invalid JSON ({len(body)} bytes): {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("values"), list):
            raise _Retry(f"unexpected envelope: {str(doc)[:200]}")
        return doc

    def get_page(self, url: str, bulk: bool | PageReader = False
                 ) -> dict[str, Any] | ArrowPage:
        """GET one page with retries; raises KoladaUnavailable after the last attempt.

        `bulk` (data pages): an ArrowPage when values_arrow.read_page (or the reader given,
        e.g. ou_values_arrow.read_ou_page) can vouch for the page, else the parsed document as
        for any other page."""
        last = "no attempt"
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._try_once(url, bulk)
            except _Retry as retry:
                last = retry.reason
                if attempt == self.max_attempts:
                    break
                delay = retry.delay if retry.delay is not None else self._backoff(attempt)
                self._say(f"kolada: retry {attempt}/{self.max_attempts - 1} of {redact(url)} in "
                          f"{delay:.1f}s after {last}")
                if delay > self.retry_after_cap:
                    # one server must not stall a night: wait the cap, then try again
                    self._say(f"kolada: {redact(url)} asked to wait {delay:.0f} s; waiting "
                              f"{self.retry_after_cap:.0f} s (the cap)")
                    delay = self.retry_after_cap
                self._sleep(delay)
        raise KoladaUnavailable(redact(url), last, self.max_attempts)

    def fetch_all(
        self, url: str, bulk: bool | PageReader = False
    ) -> tuple[int, list[tuple[str, list[Any] | ArrowPage]]]:
        """Follow next_url to the end; returns (pages, [(page_url, values), ...]); with `bulk`
        a page's values may come as an ArrowPage (see get_page)."""
        pages: list[tuple[str, list[Any] | ArrowPage]] = []
        counts: list[tuple[str, int, int]] = []  # (page url, its count, values on it)
        total = 0
        seen: set[str] = set()
        next_url: str | None = url
        while next_url:
            if next_url in seen or len(pages) >= MAX_PAGES:
                raise KoladaError(f"paging loop at {redact(next_url)} (first page {redact(url)})")
            seen.add(next_url)
            doc = self.get_page(next_url, bulk)
            if isinstance(doc, ArrowPage):
                pages.append((next_url, doc))
                count, on_page, nxt = doc.count, doc.rows, doc.next_url
            else:
                pages.append((next_url, doc["values"]))
                count, on_page, nxt = doc.get("count"), len(doc["values"]), doc.get("next_url")
            if isinstance(count, int) and not isinstance(count, bool):
                counts.append((next_url, count, on_page))
            total += on_page
            next_url = urljoin(next_url, nxt.strip()) if isinstance(nxt, str) and nxt.strip() \
                else None
            if next_url is not None and not same_base(next_url, self.base_url):
                # a link off the configured API would feed a foreign host's values into the log
                raise KoladaError(f"next_url {redact(next_url)} leaves the configured base "
                                  f"{redact(self.base_url)} (on page {redact(pages[-1][0])}); "
                                  "not followed")
        _check_counts(url, counts, total)
        return len(pages), pages

    def _url(self, path: str, params: dict[str, str] | None = None) -> str:
        query = {"per_page": str(self.per_page), **(params or {})}
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.base_url}/{path}?{qs}"

    # -- metadata --------------------------------------------------------------------------
    def metadata(self, stream: KoladaStream, ids: Sequence[str] | None = None) -> MetadataResult:
        """All objects of one metadata stream, or only `ids` (chunked by 25)."""
        if stream not in METADATA_STREAMS:
            raise KoladaError(f"unknown metadata stream {stream!r}; expected one of "
                              f"{', '.join(s.name for s in METADATA_STREAMS)}")
        path = stream.endpoint
        if ids is None:
            urls = [self._url(path)]
        else:
            urls = [self._url(f"{path}/{','.join(c)}") for c in chunked(_dedupe(ids))]
        result = MetadataResult(stream=stream, url=urls[0] if urls else "", pages=0)
        for url in urls:
            pages, bodies = self.fetch_all(url)
            result.pages += pages
            for page_url, values in bodies:
                records = metadata_records(stream, values, page_url)
                _refuse_repeats(page_url, [r.entity_key for r in records])
                result.records.extend(records)
        return result

    # -- values ----------------------------------------------------------------------------
    def _fetch_chunk(
        self, kpis: tuple[str, ...], munis: tuple[str, ...], years: tuple[int, ...],
        from_date: date | None,
    ) -> ValueChunk:
        params = {"from_date": from_date.isoformat()} if from_date else None
        path = (f"data/kpi/{','.join(kpis)}/municipality/{','.join(munis)}"
                f"/year/{','.join(str(y) for y in years)}")
        url = self._url(path, params)
        pages, bodies = self.fetch_all(url, bulk=True)
        # Parts in page order, so that the last page's value of a key wins as it did on the
        # record path; runs of bulk pages are hashed together.
        parts: list[pa.Table] = []
        run: list[tuple[str, pa.Table]] = []
        in_scope = True
        for page_url, values in bodies:
            if isinstance(values, ArrowPage):
                _refuse_repeats(page_url, _page_keys(values.values))
                run.append((page_url, values.values))
                in_scope = in_scope and within(values.values, kpis, munis, years)
                continue
            if run:
                parts.append(incoming_from_pages(run))
                run = []
            # a page the bulk reader would not vouch for: checked value by value
            records = value_records(values, page_url)
            _refuse_repeats(page_url, [r.entity_key for r in records])
            in_scope = in_scope and all(
                r.payload["kpi"] in kpis and r.payload["municipality"] in munis
                and r.payload["period"] in years for r in records)
            parts.append(incoming_from_records(records))
        if run or not parts:
            parts.append(incoming_from_pages(run))
        table = last_wins(pa.concat_tables(parts) if len(parts) > 1 else parts[0])
        return ValueChunk(kpis, munis, years, url, pages, table, in_scope)

    def values(
        self,
        kpis: Sequence[str],
        municipalities: Sequence[str],
        years: Sequence[int],
        *,
        from_date: date | None = None,
    ) -> Iterator[ValueChunk]:
        """Yield value chunks as they complete (order not preserved).

        Raises SuspiciousEmptyAnswer at the end of a full-mode call (from_date None) when a
        non-empty scope produced no records at all.
        """
        kpi_chunks = chunked(_dedupe(kpis))
        muni_chunks = chunked(_dedupe(municipalities))
        year_chunks = chunked(sorted({int(y) for y in years}))
        plan = list(product(kpi_chunks, muni_chunks, year_chunks))
        if not plan:
            return
        total_pages = 0
        total_rows = 0
        urls: list[str] = []
        done = 0
        pool = ThreadPoolExecutor(max_workers=self.max_in_flight,
                                  thread_name_prefix="kolada")
        try:
            pending: set[Future[ValueChunk]] = {
                pool.submit(self._fetch_chunk, k, m, y, from_date) for k, m, y in plan
            }
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = fut.result()
                    done += 1
                    total_pages += chunk.pages
                    total_rows += chunk.rows
                    urls.append(chunk.url)
                    progress.advance(done, len(plan), "chunks",
                                     f"{total_pages} pages, {total_rows:,} rows")
                    # a line per quarter of the plan, not one per chunk: a full fetch of all
                    # KPIs has thousands of chunks (a live display shows every chunk)
                    if done * 4 // len(plan) > (done - 1) * 4 // len(plan):
                        self._say(f"{KPI_VALUE.name}: chunk {done}/{len(plan)}, {total_pages} "
                                  f"pages, {total_rows:,} rows, {self._rate():.1f} req/s")
                    yield chunk
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if from_date is None and total_rows == 0:
            shown = ", ".join(urls[:3]) + (f" (and {len(urls) - 3} more)" if len(urls) > 3
                                           else "")
            raise SuspiciousEmptyAnswer(
                f"{len(plan)} request(s) for {len(_dedupe(kpis))} KPIs x "
                f"{len(_dedupe(municipalities))} municipalities x {len(set(years))} years "
                f"returned no values at all: {shown}"
            )

    # -- unit values -----------------------------------------------------------------------
    def _fetch_ou_chunk(
        self, kpis: tuple[str, ...], ous: tuple[str, ...] | None, years: tuple[int, ...],
        from_date: date | None,
    ) -> OuValueChunk:
        params = {"from_date": from_date.isoformat()} if from_date else None
        ou_part = f"/ou/{','.join(ous)}" if ous is not None else ""
        path = f"oudata/kpi/{','.join(kpis)}{ou_part}/year/{','.join(str(y) for y in years)}"
        url = self._url(path, params)
        pages, bodies = self.fetch_all(url, bulk=read_ou_page)
        # as _fetch_chunk: parts in page order (the last page's value of a key wins), runs of
        # bulk pages hashed together, a page the bulk reader would not vouch for checked value
        # by value
        parts: list[pa.Table] = []
        run: list[tuple[str, pa.Table]] = []
        for page_url, values in bodies:
            if isinstance(values, ArrowPage):
                run.append((page_url, values.values))
                continue
            if run:
                parts.append(incoming_from_ou_pages(run))
                run = []
            parts.append(incoming_from_records(ou_value_records(values, page_url)))
        if run or not parts:
            parts.append(incoming_from_ou_pages(run))
        table = last_wins(pa.concat_tables(parts) if len(parts) > 1 else parts[0])
        return OuValueChunk(kpis, ous, years, url, pages, table)

    def ou_values(
        self,
        kpis: Sequence[str],
        ous: Sequence[str] | None,
        years: Sequence[int],
        *,
        from_date: date | None = None,
    ) -> Iterator[OuValueChunk]:
        """Unit values of `kpis` x `ous` x `years`, chunked by 25 ids per segment; `ous` None
        asks for every unit (`/oudata/kpi/../year/..`: one request per KPI and year chunk
        instead of one per 25 of ~35,000 units). Chunks are yielded as they complete.

        Raises SuspiciousEmptyAnswer at the end of a full-mode call that returned nothing."""
        kpi_chunks = chunked(_dedupe(kpis))
        ou_chunks: list[tuple[str, ...] | None] = (
            [None] if ous is None else list(chunked(_dedupe(ous))))
        year_chunks = chunked(sorted({int(y) for y in years}))
        plan = list(product(kpi_chunks, ou_chunks, year_chunks))
        if not plan:
            return
        total_rows = total_pages = done = 0
        urls: list[str] = []
        pool = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="kolada-ou")
        try:
            pending: set[Future[OuValueChunk]] = {
                pool.submit(self._fetch_ou_chunk, k, o, y, from_date) for k, o, y in plan}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = fut.result()
                    done += 1
                    total_rows += chunk.rows
                    total_pages += chunk.pages
                    urls.append(chunk.url)
                    progress.advance(done, len(plan), "chunks",
                                     f"{total_pages} pages, {total_rows:,} rows")
                    if done * 10 // len(plan) > (done - 1) * 10 // len(plan):
                        self._say(f"{OU_VALUE.name}: chunk {done}/{len(plan)}, {total_pages} "
                                  f"pages, {total_rows:,} rows, {self._rate():.1f} req/s")
                    yield chunk
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if from_date is None and total_rows == 0:
            shown = ", ".join(redact(u) for u in urls[:3])
            raise SuspiciousEmptyAnswer(
                f"{len(plan)} request(s) for {len(_dedupe(kpis))} KPIs x "
                f"{'all' if ous is None else len(_dedupe(ous))} units x {len(set(years))} years "
                f"returned no unit values at all: {shown}")
