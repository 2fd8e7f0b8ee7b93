"""What every benchmark shares: Django set up on the production database, Advocate under
gunicorn, and the load generator in a separate process."""
from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start within {timeout}s")


def django_env(*, require_redis: bool = True) -> dict:
    """Set up Django against DATABASE_URL (PostgreSQL); the figures mean nothing on SQLite."""
    if not os.environ.get("DATABASE_URL") or (require_redis and not os.environ.get("REDIS_URL")):
        needed = "DATABASE_URL (PostgreSQL) and REDIS_URL" if require_redis else "DATABASE_URL (PostgreSQL)"
        raise SystemExit(f"Set {needed}: benchmarks measure the production set-up.")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopapp.settings", "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


@contextmanager
def gunicorn(env: dict, *, workers: int | None = None, port: int | None = None):
    """Advocate under gunicorn (gthread, one worker per core); yields its base URL."""
    port = port or free_port()
    server = subprocess.Popen(
        [PY, "-m", "gunicorn", "shopapp.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers or os.cpu_count() or 2),
         "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        wait_http(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # a thread still busy on a loaded machine
            server.kill()
            server.wait()


def load(url: str, requests: list[bytes], concurrency: int, labels: list[str] | None = None) -> dict:
    """Fire `requests` (raw HTTP/1.1, from bench._load.build_request) from another process;
    with `labels` (one per request) the answer also has percentiles per label (`by_label`)."""
    spec = json.dumps({"url": url, "concurrency": concurrency, "requests": [r.hex() for r in requests],
                       "labels": labels})
    out = subprocess.run([PY, str(ROOT / "bench" / "_load.py")], input=spec, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def server_pids(base: str) -> list[int]:
    """The gunicorn master serving `base` and its workers (to read their CPU time)."""
    port = base.rsplit(":", 1)[1]
    found = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout.split()
    pids = [int(p) for p in found]
    for master in found:
        pids += [int(p) for p in subprocess.run(["pgrep", "-P", master], capture_output=True, text=True).stdout.split()]
    return sorted(set(pids))


def cpu_seconds(pids: list[int], *, children: bool = False) -> float:
    """User and system CPU time the processes have used so far (Linux /proc); with `children`,
    also that of the children they waited for (an rqworker's work horses)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += sum(int(f) for f in fields[11:15 if children else 13])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def database_pids() -> list[int]:
    """The local PostgreSQL's processes (its backends do the benchmark's SQL)."""
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def load_measured(url: str, requests: list[bytes], concurrency: int, pids: list[int]) -> dict:
    """load(), plus CPU milliseconds per request: the server's (`cpu_ms`), steadier than
    requests/s when the server shares its cores with the load generator, and PostgreSQL's
    (`db_cpu_ms`) and the load generator's (`client_cpu_ms`), to show where the cores went."""
    database = database_pids()
    before, db_before = cpu_seconds(pids), cpu_seconds(database)
    client_before = _children_cpu_seconds()
    result = load(url, requests, concurrency)
    per_request = 1000 / max(result["n"], 1)
    result["cpu_ms"] = (cpu_seconds(pids) - before) * per_request
    # Backends the server connected during the load started from nothing.
    result["db_cpu_ms"] = (cpu_seconds(sorted(set(database_pids()) | set(database))) - db_before) * per_request
    result["client_cpu_ms"] = (_children_cpu_seconds() - client_before) * per_request
    return result


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def describe(name: str, result: dict) -> str:
    cpu = ""
    if "cpu_ms" in result:
        cpu = (f"  CPU ms/req: server {result['cpu_ms']:.2f}, PostgreSQL {result['db_cpu_ms']:.2f}, "
               f"load generator {result['client_cpu_ms']:.2f}")
    return (f"{name:<10}: {result['rps']:.0f} req/s  p50 {result['p50_ms']:.1f} ms  p99 {result['p99_ms']:.1f} ms  "
            f"{result['statuses']}{cpu}")


def report(name: str, figures: dict, *, at_least: dict | None = None, at_most: dict | None = None) -> dict:
    """Print the benchmark's last line: one JSON object with the named figures, each target
    as `target_<figure>` and whether it was met (`met`, and `ok` for all of them), so a
    script can compare runs without parsing prose. Returns the object."""
    line: dict = {"benchmark": name}
    line.update({key: round(value, 3) if isinstance(value, float) else value for key, value in figures.items()})
    met = {}
    for bound, targets in (("min", at_least or {}), ("max", at_most or {})):
        for key, target in targets.items():
            line[f"target_{key}"] = target
            met[key] = figures[key] >= target if bound == "min" else figures[key] <= target
    line["met"] = met
    line["ok"] = all(met.values())
    print(json.dumps(line), flush=True)
    return line


def session_token(domain: str, *, lifetime: int = 600) -> str:
    """A session token as Shopify's admin mints it, for benchmarks that load panel pages."""
    import uuid

    import jwt
    from django.conf import settings

    now = int(time.time())
    claims = {"iss": f"https://{domain}/admin", "dest": f"https://{domain}", "aud": settings.SHOPIFY_API_KEY,
              "sub": "1", "exp": now + lifetime, "nbf": now - 5, "iat": now - 5, "jti": str(uuid.uuid4()), "sid": "bench"}
    return jwt.encode(claims, settings.SHOPIFY_API_SECRET, algorithm="HS256")
