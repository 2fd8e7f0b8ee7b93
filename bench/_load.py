"""A small load generator for the benchmarks: N keep-alive connections on asyncio.

Run from a separate process, so the server's CPU and the client's are not the same
Python interpreter. Prints JSON: requests/s, p50/p99 latency in ms, status counts.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


async def _worker(host, port, requests, results, statuses):
    reader, writer = await asyncio.open_connection(host, port)
    for label, raw in requests:
        start = time.perf_counter()
        writer.write(raw)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        results.append((label, time.perf_counter() - start))
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


def build_request(method: str, url: str, headers: dict | None = None, body: bytes = b"") -> bytes:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _percentiles(times: list[float]) -> dict:
    times = sorted(times)

    def pct(p):
        return times[min(len(times) - 1, int(len(times) * p))] * 1000 if times else 0.0

    return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "n": len(times)}


async def run(url: str, requests: list[bytes], concurrency: int, labels: list[str] | None = None) -> dict:
    """Latency percentiles over all requests, and per label when the requests carry labels."""
    parts = urlsplit(url)
    labelled = list(zip(labels or [""] * len(requests), requests))
    chunks = [labelled[i::concurrency] for i in range(concurrency)]
    results: list[tuple[str, float]] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    await asyncio.gather(*(_worker(parts.hostname, parts.port, c, results, statuses) for c in chunks if c))
    elapsed = time.perf_counter() - start
    answer = {"rps": len(results) / elapsed, **_percentiles([t for _, t in results]), "statuses": statuses}
    if labels:
        answer["by_label"] = {label: _percentiles([t for name, t in results if name == label]) for label in set(labels)}
    return answer


if __name__ == "__main__":
    spec = json.loads(sys.stdin.read())
    requests = [bytes.fromhex(r) for r in spec["requests"]]
    print(json.dumps(asyncio.run(run(spec["url"], requests, spec["concurrency"], spec.get("labels")))))
