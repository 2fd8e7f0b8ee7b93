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
    for raw in requests:
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
        results.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


def build_request(method: str, url: str, headers: dict | None = None, body: bytes = b"") -> bytes:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def run(url: str, requests: list[bytes], concurrency: int) -> dict:
    parts = urlsplit(url)
    chunks = [requests[i::concurrency] for i in range(concurrency)]
    results: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    await asyncio.gather(*(_worker(parts.hostname, parts.port, c, results, statuses) for c in chunks if c))
    elapsed = time.perf_counter() - start
    results.sort()

    def pct(p):
        return results[min(len(results) - 1, int(len(results) * p))] * 1000 if results else 0.0

    return {"rps": len(results) / elapsed, "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "statuses": statuses, "n": len(results)}


if __name__ == "__main__":
    spec = json.loads(sys.stdin.read())
    requests = [bytes.fromhex(r) for r in spec["requests"]]
    print(json.dumps(asyncio.run(run(spec["url"], requests, spec["concurrency"]))))
