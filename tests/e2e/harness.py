"""Start devstore and Advocate as real processes on free loopback ports, for journeys over HTTP.

devstore runs in this process (a thread); Advocate runs as `manage.py serve` in a child
process with its own SQLite database and in-process jobs, configured only through its
environment (SHOPIFY_UPSTREAM_URL points it at devstore), exactly as the demo runs it.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "advocate-e2e-client-id"
API_SECRET = "advocate-e2e-client-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, *, timeout: float = 20.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # keep trying until the deadline
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@dataclass
class Stack:
    store: object  # devstore.server.DevStore
    app_url: str
    process: subprocess.Popen | None
    workdir: Path
    env: dict = field(default_factory=dict)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.app_url, timeout=10, follow_redirects=False)

    def stop(self) -> None:
        self.stop_app()
        self.store.stop()
        if not os.environ.get("ADVOCATE_KEEP_E2E"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self) -> str:
        return (self.workdir / "advocate.log").read_text(errors="replace")

    def db(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read Advocate's SQLite database (read-only) to check what it stored."""
        path = self.workdir / "advocate" / "advocate.sqlite3"
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def manage(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a management command against this Advocate (same database and settings)."""
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def start_app(self) -> None:
        """(Re)start Advocate on the same port and database."""
        log = open(self.workdir / "advocate.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", self.app_url.rsplit("/", 1)[-1], "--migrate"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: httpx.get(f"{self.app_url}/healthz", timeout=1).status_code == 200, timeout=60,
                       what="Advocate to start")
        except AssertionError:
            self.stop()
            raise AssertionError("Advocate did not start:\n" + self.log()[-3000:])

    def stop_app(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def advocate_env(*, app_url: str, store_url: str, smtp_port: int | None, var_dir: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "JOBS_INLINE")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "shopapp.settings",
        "ADVOCATE_VAR_DIR": str(var_dir),
        "APP_URL": app_url,
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_UPSTREAM_URL": store_url,
        "APP_BRIDGE_URL": f"{store_url}/app-bridge.js",
        "PRODUCTION": "0",
        "ADVOCATE_DAY_SECONDS": "1",
        "SWEEP_INTERVAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        # The journeys start from an empty Advocate; tests/e2e/test_history_journey.py switches the import on.
        "HISTORY_IMPORT_ON_INSTALL": "0",
    })
    if smtp_port:
        env.update({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_port)})
    env.update(extra or {})
    return env


def start_stack(*, token_ttl: int | None = None, extra_env: dict | None = None) -> Stack:
    from devstore.server import start

    workdir = Path(tempfile.mkdtemp(prefix="advocate-e2e-"))
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    options = {"token_ttl": token_ttl} if token_ttl else {}
    store = start(port=0, app_url=app_url, api_key=API_KEY, api_secret=API_SECRET,
                  data_dir=str(workdir / "devstore"), smtp_port=0, retry_base=0.5, **options)
    store.seed()
    env = advocate_env(app_url=app_url, store_url=store.url, smtp_port=store.smtp_port, var_dir=workdir / "advocate",
                       extra=extra_env)
    stack = Stack(store=store, app_url=app_url, process=None, workdir=workdir, env=env)
    stack.start_app()
    return stack
