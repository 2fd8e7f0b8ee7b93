"""`python -m devstore`: run devstore on its own, for an Advocate started separately."""
from __future__ import annotations

import argparse
import signal
import threading

from devstore.server import start


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstore", description="A local Shopify for Advocate.")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--app-url", default="http://127.0.0.1:8000", help="where Advocate runs")
    parser.add_argument("--api-key", default="advocate-dev-client-id")
    parser.add_argument("--api-secret", default="advocate-dev-client-secret-not-for-production")
    parser.add_argument("--data-dir", default="var/devstore", help="where devstore keeps its shops")
    parser.add_argument("--smtp-port", type=int, default=8025)
    args = parser.parse_args()
    store = start(port=args.port, app_url=args.app_url, api_key=args.api_key, api_secret=args.api_secret,
                  data_dir=args.data_dir, smtp_port=args.smtp_port)
    store.seed()
    print(f"devstore on {store.url} (SMTP 127.0.0.1:{store.smtp_port}); Advocate expected at {args.app_url}")
    print(f"Point Advocate at it: SHOPIFY_UPSTREAM_URL={store.url} APP_BRIDGE_URL={store.url}/app-bridge.js "
          f"EMAIL_HOST=127.0.0.1 EMAIL_PORT={store.smtp_port}")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    store.stop()


if __name__ == "__main__":
    main()
