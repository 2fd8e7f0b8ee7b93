"""The one-command demo: devstore, Advocate and its jobs, a shop with Advocate installed.

    python -m devstore.demo            # run until Ctrl-C, printing the URLs to open
    python -m devstore.demo --smoke    # run the scripted journeys and exit (non-zero on failure)
    python -m devstore.demo --fresh    # forget the previous demo's shops and database first

Advocate runs as its own process (`manage.py serve`), configured only through its
environment, exactly as in production but with devstore in Shopify's place.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx

from devstore.server import DevStore, start

ROOT = Path(__file__).resolve().parent.parent
SHOP = "demo-outfitters.myshopify.com"
API_KEY = "advocate-dev-client-id"
API_SECRET = "advocate-dev-client-secret-not-for-production"


def say(message: str) -> None:
    print(f"· {message}", flush=True)


def _port(preferred: int, what: str = "") -> int:
    """The preferred port when it is free, otherwise any free one (and say so, naming `what` uses it)."""
    for candidate in (preferred, 0):
        with socket.socket() as s:
            # As the servers themselves bind: a port whose last connections wait in TIME_WAIT after
            # a quick restart is free for them, and moving would break the links in stored emails.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port = s.getsockname()[1]
        if preferred and port != preferred:
            say(f"Port {preferred} is in use, so {what or 'this'} runs on port {port} instead: links in emails "
                f"from an earlier run still point at {preferred}.")
        return port
    raise RuntimeError("no free port on 127.0.0.1")


@dataclass
class Demo:
    store: DevStore
    app_url: str
    process: subprocess.Popen
    log_path: Path
    var_dir: Path

    def panel(self, path: str = "/") -> httpx.Response:
        """A page of Advocate's panel, as the admin frame loads it (fresh session token)."""
        return httpx.get(self.store.app_url(SHOP, path), timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.store.stop()


def launch(var_dir: Path, *, app_port: int, store_port: int, smtp_port: int, day_seconds: int) -> Demo:
    var_dir.mkdir(parents=True, exist_ok=True)
    app_url = f"http://127.0.0.1:{app_port}"
    say(f"Starting devstore, the local Shopify, on port {store_port}…")
    store = start(port=store_port, app_url=app_url, api_key=API_KEY, api_secret=API_SECRET,
                  data_dir=str(var_dir / "devstore"), smtp_port=smtp_port)
    store.seed()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SHOPIFY_API_SECRET_OLD")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "shopapp.settings", "ADVOCATE_VAR_DIR": str(var_dir / "advocate"),
        "APP_URL": app_url, "SHOPIFY_API_KEY": API_KEY, "SHOPIFY_API_SECRET": API_SECRET,
        "SHOPIFY_UPSTREAM_URL": store.url, "APP_BRIDGE_URL": f"{store.url}/app-bridge.js",
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(store.smtp_port), "PRODUCTION": "0",
        "ADVOCATE_DAY_SECONDS": str(day_seconds), "SWEEP_INTERVAL_SECONDS": "1", "PYTHONUNBUFFERED": "1",
        "REQUEST_LOG_LEVEL": "INFO",
    })
    log_path = var_dir / "advocate.log"
    say(f"Starting Advocate on {app_url} (SQLite in {var_dir / 'advocate'}, jobs in-process; log: {log_path})…")
    process = subprocess.Popen([sys.executable, "manage.py", "serve", f"127.0.0.1:{app_port}", "--migrate"],
                               cwd=ROOT, env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    demo = Demo(store=store, app_url=app_url, process=process, log_path=log_path, var_dir=var_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            demo.stop()
            raise SystemExit(f"Advocate stopped while starting. The end of its log:\n{demo.log_tail()}")
        try:
            if httpx.get(f"{app_url}/healthz", timeout=1).status_code == 200:
                return demo
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    demo.stop()
    raise SystemExit(f"Advocate did not answer within 2 minutes. The end of its log:\n{demo.log_tail()}")


def install(demo: Demo) -> None:
    if demo.store.store.shop(SHOP)["app"]["installed"]:
        say("Advocate is already installed on Demo Outfitters; opening it refreshes its session.")
        response = demo.store.open_app(SHOP)
    else:
        say("Installing Advocate on Demo Outfitters (managed install: the admin opens the app, which exchanges its token)…")
        response = demo.store.install(SHOP)
    if response.status_code != 200:
        raise StepFailed(f"the panel answered {response.status_code} on install")


def place_orders(demo: Demo) -> None:
    store = demo.store
    if any(o.get("demo") for o in store.store.shop(SHOP)["orders"].values()):
        say("The demo's orders exist already.")
        return
    say("Placing orders: Maya buys a mug and a beanie, Liam a backpack, 지민 (on the Korean storefront) a blanket; "
        "all are fulfilled…")
    for email, lines in (("maya@example.com", [("trail-mug", 1), ("merino-beanie", 1)]),
                         ("liam.chen@example.com", [("canvas-backpack", 1)]),
                         ("jimin@example.com", [("camp-blanket", 1)])):
        order = store.place_order(SHOP, lines=lines, customer_id=store.customer(SHOP, email)["id"])
        order["demo"] = True
        store.fulfil(SHOP, order["id"])
    store.store.save()


# --- smoke journeys: each raises StepFailed with a message saying what went wrong ---------
class StepFailed(Exception):
    pass


SMOKE_STEPS: list[tuple[str, Callable[[Demo], None]]] = []


def smoke_step(title: str):
    def register(func):
        SMOKE_STEPS.append((title, func))
        return func
    return register


def _wait(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise StepFailed(f"timed out after {timeout:.0f}s waiting for {what}")


@smoke_step("managed install and token exchange")
def _smoke_install(demo: Demo) -> None:
    install(demo)
    if not demo.store.store.shop(SHOP)["app"]["access_token"]:
        raise StepFailed("Advocate never exchanged its session token for an access token")
    page = demo.panel("/")
    if page.status_code != 200 or "Dashboard" not in page.text:
        raise StepFailed(f"the panel home answered {page.status_code} without its dashboard")


@smoke_step("orders reach Advocate through signed webhooks")
def _smoke_webhooks(demo: Demo) -> None:
    place_orders(demo)
    if not demo.store.wait_for_webhooks(30):
        raise StepFailed("devstore could not deliver every webhook to Advocate")
    failed = [d for d in demo.store.webhook_deliveries(SHOP) if d["status"] != "delivered"]
    if failed:
        raise StepFailed(f"webhooks not accepted: {[(d['topic'], d['responses']) for d in failed]}")
    _wait(lambda: "orders/fulfilled" in demo.panel("/app/activity/").text, "the activity page to list orders/fulfilled")


@smoke_step("a compliance request is answered")
def _smoke_compliance(demo: Demo) -> None:
    customer = demo.store.customer(SHOP, "liam.chen@example.com")
    demo.store.compliance(SHOP, "customers/data_request", customer["id"])
    _wait(lambda: "liam.chen@example.com" in demo.panel("/app/privacy/").text, "the data export on the privacy page")


@smoke_step("uninstall and reinstall")
def _smoke_reinstall(demo: Demo) -> None:
    demo.store.uninstall(SHOP)
    if not demo.store.wait_for_webhooks(20):
        raise StepFailed("app/uninstalled was not delivered")
    response = demo.store.install(SHOP)
    if response.status_code != 200:
        raise StepFailed(f"reinstalling answered {response.status_code}")


def _feature_journeys() -> None:
    """Each feature keeps its demo journeys in devstore/journeys/<feature>.py (registered with @smoke_step).

    They run after the platform journeys above, in this order, and before uninstall and reinstall.
    """
    for name in ("reviews", "referrals", "cases", "languages"):
        importlib.import_module(f"devstore.journeys.{name}")
    SMOKE_STEPS.sort(key=lambda step: step[0] == "uninstall and reinstall")


def smoke(demo: Demo) -> int:
    _feature_journeys()
    for number, (title, step) in enumerate(SMOKE_STEPS, 1):
        say(f"[{number}/{len(SMOKE_STEPS)}] {title}")
        try:
            step(demo)
        except StepFailed as exc:
            print(f"\nSMOKE FAILED at '{title}': {exc}\nThe end of Advocate's log ({demo.log_path}):\n{demo.log_tail()}",
                  file=sys.stderr)
            return 1
    say(f"All {len(SMOKE_STEPS)} journeys passed.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstore.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="run the scripted journeys and exit")
    parser.add_argument("--fresh", action="store_true", help="start from new shops and an empty database")
    parser.add_argument("--port", type=int, default=8000, help="Advocate's port (devstore takes the next one)")
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "demo", help="where the demo keeps its data")
    parser.add_argument("--day-seconds", type=int, default=int(os.environ.get("ADVOCATE_DAY_SECONDS", 2)),
                        help="how long a 'day' lasts in the demo (default 2 s: a 14-day delay takes 28 s)")
    parser.add_argument("--history", type=int, default=30_000, metavar="ORDERS",
                        help="past orders Demo Outfitters had before Advocate (two years; 0 for none)")
    args = parser.parse_args(argv)
    if args.smoke:
        var_dir = Path(tempfile.mkdtemp(prefix="advocate-smoke-"))
        ports = dict(app_port=_port(0), store_port=_port(0), smtp_port=_port(0))
        day = 1
    else:
        var_dir = args.var_dir
        if args.fresh and var_dir.exists():
            say(f"Removing the previous demo in {var_dir}…")
            shutil.rmtree(var_dir)
        ports = dict(app_port=_port(args.port, "Advocate"), store_port=_port(args.port + 1, "devstore"),
                     smtp_port=_port(args.port + 25, "devstore's mail server"))
        day = args.day_seconds
    demo = launch(var_dir, day_seconds=day, **ports)
    try:
        if args.smoke:
            return smoke(demo)
        if args.history:
            say(f"Giving Demo Outfitters two years of history ({args.history:,} past orders; no webhooks for them)…")
            demo.store.seed_history(SHOP, orders=args.history, years=2)
        install(demo)
        place_orders(demo)
        demo.store.wait_for_webhooks(20)
        store = demo.store.url
        print(f"""
Advocate is running. Open:
  Shopify admin with Advocate's panel  {store}/shops/{SHOP}/admin/apps/advocate
  The shop's admin (fulfil, refund…)   {store}/shops/{SHOP}/admin
  The storefront                       {store}/shops/{SHOP}/
  The mailbox (Advocate's emails)      {store}/mailbox
One demo day lasts {day:g} s, so review requests and rewards arrive in seconds.
Advocate imports the shop's past orders on install (Settings › Order history shows the progress): the
last 60 days at first; allow "read all orders" there to import the last 12 months.
Press Ctrl-C to stop.""", flush=True)
        stopped = threading.Event()
        # Set both explicitly: a shell that starts the demo in the background ignores SIGINT for it.
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        while not stopped.wait(1):
            if demo.process.poll() is not None:
                print(f"Advocate stopped unexpectedly. The end of its log:\n{demo.log_tail()}", file=sys.stderr)
                return 1
        say("Stopping Advocate and devstore…")
        return 0
    finally:
        demo.stop()
        if args.smoke:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    # Run the imported module, not __main__, so the journeys in devstore/journeys/ register with the same registry.
    from devstore import demo as _demo

    sys.exit(_demo.main())
