"""A local, PxWeb-API-v2-shaped HTTP server over the synthetic SCB population.

Serves `GET /api/v2/config`, `GET /api/v2/tables/TAB638/metadata` and
`POST /api/v2/tables/TAB638/data?outputFormat=json-stat2`, and enforces SCB's limits the way
SCB does: more than `max_calls` calls in `time_window` seconds answers 429 (or 403, as older
PxWeb did: `refuse_status`), a selection of more than `max_data_cells` cells answers 403.
The same programmable faults as the sample Kolada (status, slow, truncated, empty, reset,
html, huge, endless, deep, repeat) apply, and
`dimension_order` reorders the answer's dimensions, as PxWeb may.

Run it for manual use:  python -m pipelines.sample.scb_server --day 2 --port 8766
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from collections.abc import Sequence
from math import prod
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from pipelines.sample.population import AGES, YEARS, PopulationWorld, population_world
from pipelines.sample.server import FaultPlan, JsonHandler, LocalServer, RequestLog
from pipelines.sources.scb.streams import POPULATION_CONTENT, POPULATION_TABLE

# TAB638's variables in the table's own order; Civilstand and Kon are eliminable.
TABLE_VARIABLES = ("Region", "Civilstand", "Alder", "Kon", "ContentsCode", "Tid")
ELIMINABLE = ("Region", "Civilstand", "Alder", "Kon")
CIVILSTAND = {"OG": "ogifta", "G": "gifta", "SK": "skilda", "ÄNKL": "änkor/änklingar"}
KON = {"1": "män", "2": "kvinnor"}


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SampleScbServer(LocalServer):
    name = "sample-scb"

    def __init__(
        self,
        day: int = 1,
        *,
        max_data_cells: int = 150_000,
        max_calls: int = 30,
        time_window: float = 10.0,
        refuse_status: int = 429,
        dimension_order: Sequence[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world: PopulationWorld = population_world(day)
        self.max_data_cells = max_data_cells
        self.max_calls = max_calls
        self.time_window = time_window
        self.refuse_status = refuse_status
        self.dimension_order = tuple(dimension_order or TABLE_VARIABLES)
        self.host = host
        self.port = port
        self.faults = FaultPlan()
        self.request_log = RequestLog()
        self.refused = 0  # calls answered 429/403 for the call window
        self._calls: deque[float] = deque()
        self._calls_lock = threading.Lock()
        self._httpd = None
        self._thread = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/v2"

    # -- limits -----------------------------------------------------------------------------
    def _count_call(self) -> bool:
        """Record a call; False when it exceeds the window (SCB counts refused calls too)."""
        now = time.monotonic()
        with self._calls_lock:
            while self._calls and now - self._calls[0] >= self.time_window:
                self._calls.popleft()
            self._calls.append(now)
            return len(self._calls) <= self.max_calls

    # -- documents --------------------------------------------------------------------------
    def config_doc(self) -> dict[str, Any]:
        return {
            "apiVersion": "2.0.0", "appVersion": "sample", "defaultLanguage": "sv",
            "languages": [{"id": "sv", "label": "Svenska"}],
            "maxDataCells": self.max_data_cells, "maxCallsPerTimeWindow": self.max_calls,
            "timeWindow": self.time_window, "license": "CC0 (synthetic sample)",
            "defaultDataFormat": "json-stat2", "dataFormats": ["json-stat2"],
        }

    def _categories(self) -> dict[str, dict[str, str]]:
        w = self.world
        return {
            "Region": {code: w.region_names[code] for code in w.regions},
            "Civilstand": CIVILSTAND,
            "Alder": {a: f"{a} år" for a in AGES},
            "Kon": KON,
            "ContentsCode": {POPULATION_CONTENT: "Folkmängd"},
            "Tid": {str(y): str(y) for y in YEARS},
        }

    def _dataset(self, chosen: dict[str, list[str]], values: list[float | None] | dict[str, Any]
                 ) -> dict[str, Any]:
        ids = [v for v in self.dimension_order if v in chosen]
        labels = self._categories()
        return {
            "version": "2.0", "class": "dataset",
            "label": "Folkmängden efter region, ålder och år (syntetiskt exempeldata)",
            "source": "SCB (syntetiskt exempeldata)", "updated": self.world.updated,
            "id": ids, "size": [len(chosen[v]) for v in ids],
            "role": {"time": ["Tid"], "geo": ["Region"], "metric": ["ContentsCode"]},
            "dimension": {
                v: {"label": v, "category": {
                    "index": {c: i for i, c in enumerate(chosen[v])},
                    "label": {c: labels[v][c] for c in chosen[v]},
                }} for v in ids
            },
            "value": values,
        }

    def metadata_doc(self) -> dict[str, Any]:
        chosen = {v: list(codes) for v, codes in self._categories().items()}
        doc = self._dataset(chosen, {})
        doc.pop("value")
        doc["extension"] = {"elimination": {v: v in ELIMINABLE for v in TABLE_VARIABLES}}
        return doc

    def data_doc(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("selection"), list):
            raise _Refused(400, "body must be {\"selection\": [...]}")
        categories = self._categories()
        chosen: dict[str, list[str]] = {}
        for item in body["selection"]:
            var = item.get("variableCode") if isinstance(item, dict) else None
            codes = item.get("valueCodes") if isinstance(item, dict) else None
            if var not in categories or not isinstance(codes, list) or not codes:
                raise _Refused(400, f"bad selection item {item!r}")
            unknown = [c for c in codes if c not in categories[var]]
            if unknown:
                raise _Refused(400, f"{var}: unknown value codes {unknown[:5]}")
            chosen[var] = [str(c) for c in codes]
        for var in TABLE_VARIABLES:
            if var not in chosen and var not in ELIMINABLE:
                raise _Refused(400, f"{var} cannot be eliminated: select it")
        if "Civilstand" in chosen:
            raise _Refused(400, "the sample table answers Civilstand eliminated only")
        cells = prod(len(c) for c in chosen.values())
        if cells > self.max_data_cells:
            raise _Refused(403, f"Too many cells selected: {cells} > {self.max_data_cells}")
        return self._dataset(chosen, self._values(chosen))

    def _values(self, chosen: dict[str, list[str]]) -> list[float | None]:
        w = self.world
        regions = chosen.get("Region", list(w.regions))
        ages = chosen.get("Alder", list(AGES))
        block = w.counts[np.ix_(w.index(regions, w.regions), [YEARS.index(int(y)) for y in
                                chosen["Tid"]], w.index(ages, AGES))]
        if "Region" not in chosen:
            block = block[:1]  # eliminated Region: Riket
        if "Alder" not in chosen:
            block = block.sum(axis=2, keepdims=True)
        # Axes now Region, Tid, Alder; add Kon (men = floor half) and ContentsCode.
        if "Kon" in chosen:
            men = block // 2
            by_sex = {"1": men, "2": block - men}
            block = np.stack([by_sex[k] for k in chosen["Kon"]], axis=-1)
        else:
            block = block[..., None]
        block = block[..., None]  # ContentsCode
        axes = ("Region", "Tid", "Alder", "Kon", "ContentsCode")
        eliminated = tuple(i for i, v in enumerate(axes) if v not in chosen)
        block = block.squeeze(axis=eliminated) if eliminated else block
        present = [v for v in axes if v in chosen]
        answer_order = [v for v in self.dimension_order if v in chosen]
        block = np.transpose(block, [present.index(v) for v in answer_order])
        return [float(x) for x in block.reshape(-1)]

    # -- lifecycle --------------------------------------------------------------------------
    def handler(self) -> type[JsonHandler]:
        return _ScbHandler


class _ScbHandler(JsonHandler):
    server_version = "SampleScb/1.0"
    owner: SampleScbServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _serve(self, owner: SampleScbServer, method: str) -> tuple[int, str | None]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path.rstrip("/")
        if not owner._count_call():
            owner.refused += 1
            self._json(owner.refuse_status, {"title": "Too many requests",
                                             "status": owner.refuse_status})
            return owner.refuse_status, None
        fault = owner.faults.take(self.path)
        code = self._status_fault(fault, "title")
        if code is not None:
            return code, "status"
        code = self._body_fault(fault)
        if code is not None:
            return code, fault.kind if fault else None
        table = f"/api/v2/tables/{POPULATION_TABLE}"
        try:
            if method == "GET" and path == "/api/v2/config":
                doc = owner.config_doc()
            elif method == "GET" and path == f"{table}/metadata":
                doc = owner.metadata_doc()
            elif method == "POST" and path == f"{table}/data":
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    raise _Refused(400, "body is not JSON") from None
                doc = owner.data_doc(body)
            else:
                raise _Refused(404, f"no such endpoint: {method} {path}")
        except _Refused as refused:
            self._json(refused.status, {"title": str(refused), "status": refused.status})
            return refused.status, None
        if fault is not None and fault.kind == "empty" and "value" in doc:
            doc["value"] = [None] * len(doc["value"])
        body_out = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        if fault is not None and fault.kind == "repeat" and isinstance(doc.get("value"), list):
            # sparse values giving position 0 twice: json.loads would keep the second silently
            sparse = {str(i): v for i, v in enumerate(doc["value"])}
            text = json.dumps({**doc, "value": sparse}, ensure_ascii=False)
            body_out = text.replace('"value": {"0": ', '"value": {"0": 999999, "0": ', 1
                                    ).encode("utf-8")
        if fault is not None and fault.kind == "truncated":
            body_out = body_out[: max(1, int(len(body_out) * float(fault.opts.get("fraction",
                                                                                   0.5))))]
        self._send(200, body_out)
        return 200, fault.kind if fault else None


def main(argv: list[str] | None = None) -> None:
    """Serve a sample day until Ctrl-C, for `SCB_BASE_URL=... kommunkvalitet ingest`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", type=int, default=1)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    with SampleScbServer(args.day, port=args.port) as server:
        print(f"Sample SCB (synthetic data), day {args.day}", flush=True)
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
