"""devstore's web server and its scripting API.

Everything of one shop lives under /shops/{domain}/..., which is where Advocate's
UpstreamTransport sends what it would send to https://{domain}/...
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import logging
import re
import secrets
import shutil
import threading
import time
import tomllib
import uuid
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import httpx
import jwt

from devstore import brand, checkout_blocks, flow, graphql_api, metafields, pages, theme
from devstore.bulk import bulk_of
from devstore.history import seed_history
from devstore.mailbox import start_smtp
from devstore.state import Store, StoreError, seed
from devstore.webhooks import Deliverer

STATIC = Path(__file__).parent / "static"
APP_HANDLE = "advocate"
PROXY_PREFIX = "/apps/advocate"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
STAFF = [("Store owner", 0), ("Support agent", 1)]

log = logging.getLogger("devstore")


COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/jsonl", "image/svg+xml")


class _Reply(Exception):
    def __init__(self, status: int, body: bytes | str = b"", content_type: str = "text/html; charset=utf-8",
                 headers: dict | None = None):
        super().__init__(status)  # not the body: a traceback through a reply must not print the page
        self.status, self.content_type, self.headers = status, content_type, headers or {}
        self.body = body.encode() if isinstance(body, str) else body


class _Dropped(Exception):
    """Close the connection without an answer (a reset after Shopify applied the call)."""


def _json_reply(status: int, data) -> _Reply:
    return _Reply(status, json.dumps(data), "application/json")


def _redirect(location: str, extra: dict | None = None) -> _Reply:
    return _Reply(303, b"", headers={"Location": location, **(extra or {})})


class DevStore:
    """A running devstore: its URL, SMTP port, and methods that act as a merchant or shopper would."""

    def __init__(self, store: Store, httpd: ThreadingHTTPServer, deliverer: Deliverer, smtp) -> None:
        self.store, self._httpd, self.deliverer, self._smtp = store, httpd, deliverer, smtp
        host, port = httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.smtp_port = smtp.port if smtp else None
        store.base_url = self.url

    # --- life
    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self.deliverer.stop()
        if self._smtp:
            self._smtp.stop()
        bulk_of(self.store).close()
        self.store.save()

    def seed(self) -> None:
        seed(self.store)

    # --- the merchant
    def session_token(self, domain: str, *, staff: int = 0, ttl: int = 60) -> str:
        return session_token(self.store, domain, staff=staff, ttl=ttl)

    def app_url(self, domain: str, path: str = "/", **extra) -> str:
        """The URL the admin frames: Advocate's page with embedded=1, shop, host and a fresh id_token."""
        return app_frame_url(self.store, domain, path, **extra)

    def install(self, domain: str) -> httpx.Response:
        """Managed install: the merchant approves, then the admin opens the app (which exchanges the token)."""
        self.store.app_install(domain)
        return self.open_app(domain)

    def open_app(self, domain: str, path: str = "/") -> httpx.Response:
        return httpx.get(self.app_url(domain, path), timeout=30)

    def uninstall(self, domain: str) -> None:
        self.store.app_uninstall(domain)

    def seed_history(self, domain: str, orders: int = 30_000, years: float = 2) -> dict:
        """Give the shop years of past orders (devstore/history.py); no webhook is sent for them."""
        return seed_history(self.store, domain, orders=orders, years=years)

    def grant_scopes(self, domain: str, scopes: list[str]) -> str:
        """The merchant grants optional scopes (App Bridge's `scopes.request`); the app's scopes after."""
        return self.store.app_scopes_grant(domain, scopes)

    def flow_runs(self, domain: str) -> list[dict]:
        """The Flow triggers Advocate sent this shop, oldest first."""
        return list(self.store.shop(domain).get("flow_runs", []))

    def flow_pause(self, domain: str, customer_id: int, days: int = 30) -> dict:
        """Run Advocate's "Pause Advocate emails" Flow action for a customer, signed as Flow signs it."""
        response = flow.run_pause_action(self.store, domain, customer_id, days)
        return {"status": response.status_code, "body": response.json()}

    def checkout_block(self, domain: str, page: str, on: bool = True) -> list[str]:
        """Place (or remove) Advocate's block on a checkout or account page, as the merchant does in the editor."""
        checkout_blocks.place(self.store, domain, page, on=on)
        return self.store.shop(domain)["checkout_blocks"]

    # --- the shopper and the shop's operations
    def place_order(self, domain: str, **kwargs) -> dict:
        return self.store.order_place(domain, **kwargs)

    def fulfil(self, domain: str, order_id: int) -> dict:
        return self.store.order_fulfil(domain, order_id)

    def deliver(self, domain: str, order_id: int) -> dict:
        return self.store.order_deliver(domain, order_id)

    def refund(self, domain: str, order_id: int, **kwargs) -> dict:
        return self.store.order_refund(domain, order_id, **kwargs)

    def cancel(self, domain: str, order_id: int) -> dict:
        return self.store.order_cancel(domain, order_id)

    def customer(self, domain: str, email: str) -> dict:
        found = self.store.customer_by_email(domain, email)
        if found is None:
            raise StoreError(f"No customer {email} in {domain}.")
        return found

    def compliance(self, domain: str, topic: str, customer_id: int | None = None) -> str:
        return self.store.compliance(domain, topic, customer_id)

    # --- what tests look at
    def discount_codes(self, domain: str) -> list[dict]:
        return list(self.store.shop(domain)["discounts"].values())

    def store_credit(self, domain: str, customer_id: int) -> list[dict]:
        return self.store.credit_accounts(domain, customer_id)

    def mailbox(self) -> list[dict]:
        return list(self.store.mail)

    def webhook_deliveries(self, domain: str) -> list[dict]:
        return list(self.store.shop(domain)["deliveries"])

    def set_webhook_mode(self, mode: str) -> None:
        if mode not in ("normal", "duplicate", "out_of_order"):
            raise StoreError(f"Unknown webhook mode {mode!r}.")
        self.deliverer.mode = mode

    def set_bucket(self, domain: str, available: float) -> None:
        self.store.bucket_set(domain, available)

    def fault(self, domain: str, field: str, mode: str, times: int = 1, seconds: float = 2.0) -> None:
        """Misbehave on the next `times` GraphQL calls that select `field` (e.g. storeCreditAccountCredit):
        fail_before (503, nothing applied), fail_after (applied, then 504), reset_after (applied,
        then the connection drops), delay_after (applied, answered `seconds` late)."""
        self.store.fault_add(domain, field, mode, times=times, seconds=seconds)

    def wait_for_webhooks(self, timeout: float = 15.0) -> bool:
        return self.deliverer.wait_idle(timeout)

    def access_token_valid(self, domain: str, token: str) -> bool:
        return self.store.access_token_valid(domain, token)


# --- tokens and signatures --------------------------------------------------------
def session_token(store: Store, domain: str, *, staff: int = 0, ttl: int = 60) -> str:
    """An App Bridge session token: HS256 with the app's secret and Shopify's claims."""
    shop = store.shop(domain)
    moment = int(time.time())
    claims = {
        "iss": f"https://{domain}/admin", "dest": f"https://{domain}", "aud": store.api_key,
        "sub": str(shop["id"] + 100 + staff), "exp": moment + ttl, "nbf": moment, "iat": moment,
        "jti": str(uuid.uuid4()), "sid": hashlib.sha256(f"{domain}:{staff}".encode()).hexdigest()[:32],
    }
    return jwt.encode(claims, store.api_secret, algorithm="HS256")


def host_param(domain: str) -> str:
    handle = domain.removesuffix(".myshopify.com")
    return base64.urlsafe_b64encode(f"admin.shopify.com/store/{handle}".encode()).decode().rstrip("=")


def hex_hmac_query(params: dict, secret: str, *, joiner: str = "&") -> str:
    message = joiner.join(f"{k}={v}" for k, v in sorted(params.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def app_frame_url(store: Store, domain: str, path: str = "/", *, staff: int = 0, **extra) -> str:
    params = {"embedded": "1", "host": host_param(domain), "id_token": session_token(store, domain, staff=staff),
              "locale": store.staff_locale(domain, staff), "session": secrets.token_hex(16), "shop": domain, "timestamp": str(int(time.time())), **extra}
    params["hmac"] = hex_hmac_query(params, store.api_secret)
    return f"{store.app_url}{path}?{urlencode(params)}"


def proxy_signature(params: dict, secret: str) -> str:
    """App proxy: hex HMAC-SHA256 of sorted key=value pairs, concatenated with no separator."""
    return hex_hmac_query(params, secret, joiner="")


# --- the HTTP handler --------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    server_version = "devstore"
    store: Store
    devstore: DevStore

    def log_message(self, format, *args) -> None:  # quiet: the demo prints what matters
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError as exc:
            # A browser that navigates away or a client that gives up closes the connection mid-request;
            # that is routine, so one line rather than socketserver's traceback.
            self.close_connection = True
            log.warning("devstore: %s from %s: the client closed the connection before the answer was sent (%s)",
                        getattr(self, "requestline", "") or "a request", self.client_address[0], type(exc).__name__)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # --- plumbing
    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        self.query = dict(parse_qsl(split.query, keep_blank_values=True))
        self.raw_query = split.query
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.cookies = cookies.SimpleCookie(self.headers.get("Cookie") or "")
        try:
            self._route(method, split.path)
            raise _Reply(404, pages.layout("Not found", "<div class=card><h1>Not found</h1></div>"))
        except _Reply as reply:
            self._send(reply)
        except _Dropped:
            self.close_connection = True
        except StoreError as exc:
            self._send(_Reply(400, pages.layout("Error", f"<div class=card><p class=error role=alert>{pages.escape(str(exc))}</p></div>")))

    def _send(self, reply: _Reply) -> None:
        body = reply.body
        # Shopify's CDN compresses text; so does devstore, or page weights would mislead.
        if (len(body) > 1024 and reply.content_type.startswith(COMPRESSIBLE)
                and "gzip" in (self.headers.get("Accept-Encoding") or "")
                and "Content-Encoding" not in reply.headers):
            body = gzip.compress(body, compresslevel=6)
            reply.headers = {**reply.headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            for item in value if isinstance(value, list) else [value]:
                self.send_header(name, item)
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, path: Path, content_type: str) -> None:
        with path.open("rb") as file:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()
            shutil.copyfileobj(file, self.wfile, 1 << 16)

    def form(self) -> dict:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def cookie(self, name: str) -> str:
        return self.cookies[name].value if name in self.cookies else ""

    def _route(self, method: str, path: str) -> None:
        if path == "/":
            raise _Reply(200, pages.index(self.store))
        if path == "/app-bridge.js":
            raise _Reply(200, (STATIC / "app-bridge.js").read_bytes(), "application/javascript",
                         {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})
        if path == "/mailbox":
            raise _Reply(200, pages.mailbox(self.store.mail))
        match = re.fullmatch(r"/mailbox/(\d+)(/html)?", path)
        if match:
            self._mail(int(match.group(1)), bool(match.group(2)))
        if path == "/staged-uploads" and method == "POST":  # the storage bucket behind stagedUploadsCreate
            status, text = bulk_of(self.store).upload(self.headers.get("Content-Type", ""), self.body)
            raise _Reply(status, text, "text/plain")
        match = re.fullmatch(r"/bulk-results/(\d+)\.jsonl", path)
        if match:
            data = bulk_of(self.store).results.get(int(match.group(1)))
            if data is None:
                raise _Reply(404, "No such result (it expired, or the operation has not finished).", "text/plain")
            if isinstance(data, Path):  # a bulk query's file: streamed, never read into memory
                self._send_file(data, "application/jsonl")
                raise _Dropped()
            raise _Reply(200, data, "application/jsonl")
        if path.startswith("/_devstore/"):
            self._control(method, path.removeprefix("/_devstore/"))
        match = re.fullmatch(r"/shops/([a-z0-9][a-z0-9-]*\.myshopify\.com)(/.*)?", path)
        if match:
            domain, rest = match.group(1), match.group(2) or "/"
            if domain not in self.store.shops:
                raise _Reply(404, pages.layout("Not found", "<div class=card><h1>There is no such shop</h1></div>"))
            self._shop(method, domain, rest)

    # --- mailbox
    def _mail(self, number: int, html_only: bool) -> None:
        if not 1 <= number <= len(self.store.mail):
            raise _Reply(404, "No such message")
        message = self.store.mail[number - 1]
        if html_only:
            raise _Reply(200, pages.mail_html(message["html"]), headers={"Content-Security-Policy": "script-src 'none'"})
        raise _Reply(200, pages.mail_message(message))

    # --- the control API: JSON in, JSON out, for scripts in other processes
    def _control(self, method: str, action: str) -> None:
        if action == "state" and method == "GET":
            raise _json_reply(200, {d: {"installed": s["app"]["installed"], "orders": len(s["orders"])}
                                    for d, s in self.store.shops.items()})
        allowed = {"place_order", "fulfil", "deliver", "refund", "cancel", "install", "uninstall", "compliance",
                   "set_webhook_mode", "set_bucket", "fault", "session_token", "app_url", "discount_codes", "mailbox",
                   "webhook_deliveries", "store_credit", "customer", "seed", "checkout_block", "flow_runs", "flow_pause",
                   "seed_history", "grant_scopes"}
        if method != "POST" or action not in allowed:
            raise _json_reply(404, {"error": f"Unknown action {action}."})
        try:
            kwargs = json.loads(self.body or b"{}")
            if "lines" in kwargs:
                kwargs["lines"] = [tuple(line) for line in kwargs["lines"]]
            result = getattr(self.devstore, action)(**kwargs)
        except (StoreError, TypeError, ValueError) as exc:
            raise _json_reply(400, {"error": str(exc)})
        if isinstance(result, httpx.Response):
            result = {"status": result.status_code}
        raise _json_reply(200, {"result": result})

    # --- one shop
    def _shop(self, method: str, domain: str, rest: str) -> None:
        if rest == "/admin/oauth/access_token" and method == "POST":
            self._access_token(domain)
        if rest == "/admin/oauth/authorize":
            self._authorize(method, domain)
        match = re.fullmatch(r"/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json", rest)
        if match and method == "POST":
            self._graphql(domain)
        match = re.fullmatch(r"/api/(\d{4}-\d{2}|unstable)/graphql\.json", rest)
        if match and method == "POST":
            self._storefront_api(domain)
        if rest == "/admin" or rest == "/admin/":
            raise _Reply(200, pages.admin(self.store, domain, self.query.get("message", ""), self.query.get("error", ""),
                                          staff=int(self.cookie("staff") or 0)))
        match = re.fullmatch(r"/admin/actions/([a-z-]+)", rest)
        if match and method == "POST":
            self._admin_action(domain, match.group(1))
        if rest == "/admin/scopes" and method == "POST":  # the merchant granted optional scopes in the admin
            scopes = json.loads(self.body or b"{}").get("scopes") or []
            raise _json_reply(200, {"scopes": self.store.app_scopes_grant(domain, [str(s) for s in scopes])})
        if rest == "/admin/session-token" and method == "POST":
            if not self.store.shop(domain)["app"]["installed"]:
                raise _json_reply(403, {"error": "Advocate is not installed on this shop."})
            raise _json_reply(200, {"token": session_token(self.store, domain, staff=int(self.cookie("staff") or 0))})
        if rest == "/admin/themes/current/editor":
            self._theme_editor(method, domain)
        if rest == "/admin/settings/checkout/editor":
            self._checkout_editor(method, domain)
        if rest.startswith(f"/admin/apps/{APP_HANDLE}"):
            self._app_page(domain, rest.removeprefix(f"/admin/apps/{APP_HANDLE}") or "/")
        rest = self._language_take(domain, rest)
        if rest.startswith(PROXY_PREFIX + "/") or rest == PROXY_PREFIX:
            self._proxy(method, domain, rest.removeprefix(PROXY_PREFIX) or "/")
        try:
            self._storefront(method, domain, rest)
        except _Reply as reply:
            raise self._in_language(domain, reply)

    # --- the storefront's languages, as Shopify serves them: the primary one at the root, each other
    # published one under its own prefix (/ko/products/...), with Liquid's request.locale set
    def _language_take(self, domain: str, rest: str) -> str:
        """Note the page's language (a published locale's prefix, else the primary one) and return the path without it."""
        locales = self.store.shop(domain).get("locales") or ["en"]
        match = re.fullmatch(r"/([a-z]{2}(?:-[A-Z]{2})?)(/.*)?", rest)
        self.language = match.group(1) if match and match.group(1) in locales[1:] else locales[0]
        rest = (match.group(2) or "/") if self.language != locales[0] else rest
        self.page_path = rest
        return rest

    def _root(self, domain: str) -> str:
        """Liquid's routes.root_url: where the storefront's pages start in the page's language."""
        primary = (self.store.shop(domain).get("locales") or ["en"])[0]
        return f"/shops/{domain}/" if self.language == primary else f"/shops/{domain}/{self.language}"

    def _keep_language(self, domain: str, path: str) -> str:
        """A storefront address devstore made, under the page's language prefix (admin, assets and images have none)."""
        base = self._root(domain).rstrip("/") + "/"
        shop_base = f"/shops/{domain}/"
        if base == shop_base or not path.startswith(shop_base):
            return path
        tail = path.removeprefix(shop_base)
        if re.match(rf"(?:admin|cdn|images|brand|{re.escape(self.language)})(?:[/?#]|$)", tail):
            return path
        return base + tail

    def _language_html(self, domain: str, html: str) -> str:
        """A page devstore made, in the page's language: <html lang>, the links it made kept under the
        language's prefix, and the header's language list (each link this page in that language)."""
        html = re.sub(r'((?:href|action)=")(/shops/[^"]*)"', lambda m: f'{m.group(1)}{self._keep_language(domain, m.group(2))}"', html)
        locales = self.store.shop(domain).get("locales") or ["en"]
        links = [(code, theme.ENDONYMS.get(code, code),
                  f"/shops/{domain}{'' if index == 0 else '/' + code}{self.page_path}") for index, code in enumerate(locales)]
        html = html.replace('<html lang="en">', f'<html lang="{pages.escape(self.language)}">', 1)
        return html.replace("<!--languages-->", pages.language_links(self.language, links), 1)

    def _in_language(self, domain: str, reply: _Reply) -> _Reply:
        if "Location" in reply.headers:
            reply.headers["Location"] = self._keep_language(domain, reply.headers["Location"])
        if reply.content_type.startswith("text/html") and reply.body:
            reply.body = self._language_html(domain, reply.body.decode()).encode()
        return reply

    def _access_token(self, domain: str) -> None:
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            body = json.loads(self.body or b"{}")
        else:
            body = self.form()
        if body.get("client_id") != self.store.api_key or body.get("client_secret") != self.store.api_secret:
            raise _json_reply(401, {"error": "invalid_client", "error_description": "Client credentials are invalid"})
        expiring = str(body.get("expiring", "0")) == "1"
        grant = body.get("grant_type")
        app = self.store.shop(domain)["app"]
        if grant == "refresh_token":
            try:
                raise _json_reply(200, self.store.token_refresh(domain, body.get("refresh_token") or ""))
            except StoreError:
                raise _json_reply(400, {"error": "invalid_grant",
                                        "error_description": "The provided refresh token is invalid, expired or revoked."})
        if grant == TOKEN_EXCHANGE:
            try:
                claims = jwt.decode(body.get("subject_token") or "", self.store.api_secret, algorithms=["HS256"],
                                    audience=self.store.api_key, leeway=5)
            except jwt.PyJWTError:
                raise _json_reply(400, {"error": "invalid_subject_token", "error_description": "The session token is invalid."})
            if claims.get("dest") != f"https://{domain}":
                raise _json_reply(400, {"error": "invalid_subject_token", "error_description": "The session token is for another shop."})
            if not app["installed"]:
                raise _json_reply(400, {"error": "invalid_subject_token", "error_description": "The app is not installed on this shop."})
            if body.get("requested_token_type", "").endswith("online-access-token"):
                # An online token names the staff member the session token was for (`associated_user`).
                raise _json_reply(200, self.store.online_token(domain, int(claims.get("sub") or 0)))
            raise _json_reply(200, self.store.tokens_issue(domain, expiring=expiring))
        code = body.get("code")
        if code:
            if code != app.get("auth_code") or not app["installed"]:
                raise _json_reply(400, {"error": "invalid_request", "error_description": "The authorization code was not found or was already used."})
            app["auth_code"] = None
            raise _json_reply(200, self.store.tokens_issue(domain, expiring=expiring))
        raise _json_reply(400, {"error": "unsupported_grant_type"})

    def _authorize(self, method: str, domain: str) -> None:
        if self.query.get("client_id") != self.store.api_key:
            raise _Reply(400, pages.layout("Error", "<div class=card><p class=error>Unknown client_id.</p></div>"))
        redirect_uri = self.query.get("redirect_uri", "")
        if not redirect_uri.startswith(self.store.app_url + "/"):
            raise _Reply(400, pages.layout("Error", "<div class=card><p class=error>The redirect_uri is not the app's.</p></div>"))
        if method == "GET":
            raise _Reply(200, pages.consent(domain, self.query.get("scope", ""), self.raw_query))
        self.store.app_install(domain, scopes=self.query.get("scope", self.store.scopes))
        code = secrets.token_hex(16)
        self.store.shop(domain)["app"]["auth_code"] = code
        params = {"code": code, "host": host_param(domain), "shop": domain, "state": self.query.get("state", ""),
                  "timestamp": str(int(time.time()))}
        params["hmac"] = hex_hmac_query(params, self.store.api_secret)
        raise _redirect(f"{redirect_uri}?{urlencode(params)}")

    def _graphql(self, domain: str) -> None:
        if not self.store.access_token_valid(domain, self.headers.get("X-Shopify-Access-Token")):
            raise _json_reply(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        try:
            body = json.loads(self.body or b"{}")
        except ValueError:
            raise _json_reply(400, {"errors": {"query": "Required parameter missing or invalid"}})
        fault = self.store.fault_take(domain, body.get("query") or "")
        if fault and fault["mode"] == "fail_before":
            raise _json_reply(503, {"errors": "Service Unavailable"})
        answer = graphql_api.execute(self.store, domain, body)
        if fault and fault["mode"] == "fail_after":
            raise _json_reply(504, {"errors": "Gateway Timeout"})
        if fault and fault["mode"] == "reset_after":
            raise _Dropped()
        if fault and fault["mode"] == "delay_after":
            time.sleep(fault["seconds"])
        raise _json_reply(200, answer)

    def _storefront_api(self, domain: str) -> None:
        try:
            body = json.loads(self.body or b"{}")
        except ValueError:
            raise _json_reply(400, {"errors": [{"message": "Invalid JSON"}]})
        fault = self.store.fault_take(domain, body.get("query") or "")
        if fault and fault["mode"] in ("fail_before", "fail_after"):
            raise _json_reply(503, {"errors": "Service Unavailable"})
        raise _json_reply(*brand.storefront(self.store, domain, self.headers.get("X-Shopify-Storefront-Access-Token"), body))

    def _admin_action(self, domain: str, action: str) -> None:
        form = self.form()
        back = f"/shops/{domain}/admin"
        order = int(form["order"]) if form.get("order", "").isdigit() else None
        customer = int(form["customer"]) if form.get("customer", "").isdigit() else None
        try:
            if action == "install":
                self.store.app_install(domain)
                raise _redirect(f"/shops/{domain}/admin/apps/{APP_HANDLE}")
            messages = {
                "uninstall": lambda: self.store.app_uninstall(domain),
                "admin-language": lambda: self.store.staff_locale_set(domain, int(self.cookie("staff") or 0),
                                                                      form.get("locale", "")),
                "fulfil": lambda: self.store.order_fulfil(domain, order),
                "deliver": lambda: self.store.order_deliver(domain, order),
                "refund": lambda: self.store.order_refund(domain, order, amount=form.get("amount") or None),
                "cancel": lambda: self.store.order_cancel(domain, order),
                "marketing": lambda: self.store.customer_set_marketing(domain, customer, form.get("state", "UNSUBSCRIBED")),
                "data-request": lambda: self.store.compliance(domain, "customers/data_request", customer),
                "redact": lambda: self.store.compliance(domain, "customers/redact", customer),
                "shop-redact": lambda: self.store.compliance(domain, "shop/redact"),
                "flow-pause": lambda: flow.run_pause_action(self.store, domain, customer, int(form.get("days") or 30)),
            }
            if action not in messages:
                raise StoreError(f"Unknown action {action}.")
            messages[action]()
        except StoreError as exc:
            raise _redirect(f"{back}?{urlencode({'error': str(exc)})}")
        done = action.replace("-", " ")
        raise _redirect(f"{back}?{urlencode({'message': f'Done: {done}.'})}")

    def _app_page(self, domain: str, subpath: str) -> None:
        if not self.store.shop(domain)["app"]["installed"]:
            raise _Reply(200, pages.not_installed(domain))
        staff = int(self.query.get("staff") or self.cookie("staff") or 0)
        frame = app_frame_url(self.store, domain, subpath, staff=staff)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.store.app_url))
        raise _Reply(200, pages.app_frame(domain, frame, origin),
                     headers={"Set-Cookie": f"staff={staff}; Path=/shops/{domain}/; SameSite=Lax"})

    # --- the theme editor, as far as app blocks go
    def _theme_editor(self, method: str, domain: str) -> None:
        requested = self.query.get("addAppBlockId") or self.query.get("activateAppId") or ""
        api_key, _, handle = requested.partition("/")
        if api_key != self.store.api_key or handle not in theme.blocks_available():
            raise _Reply(400, pages.layout("Theme editor", "<div class=card><p class=error role=alert>"
                                                           "That app block does not exist.</p></div>"))
        schema = theme.block_schema(handle)
        if method == "GET":
            raise _Reply(200, pages.theme_editor(domain, schema.get("name", handle), self.raw_query))
        template = self.query.get("template") or theme.block_template(handle)
        with self.store.lock:
            theme.add_block(self.store.shop(domain)["theme"], handle, template, self.query.get("target") or "mainSection")
            self.store.save()
        if template == "index":
            raise _redirect(f"/shops/{domain}/")
        first = next(iter(self.store.shop(domain)["products"].values()))
        raise _redirect(f"/shops/{domain}/products/{first['handle']}")

    def _theme_html(self, domain: str, html: str, product: dict | None = None, template: str | None = None) -> str:
        """Render Advocate's app blocks (product page, home page) and app embeds (every page) into a storefront page."""
        shop = self.store.shop(domain)
        root = self._root(domain)
        primary = (shop.get("locales") or ["en"])[0]
        context = {"routes": {"root_url": root}, "cart": {"currency": {"iso_code": shop["currency"]}},
                   "request": {"locale": theme.shop_locale(self.language, primary, root), "design_mode": False},
                   "asset_root": f"/shops/{domain}/cdn/advocate/",
                   "shop": {"name": shop["name"], "permanent_domain": domain, "url": self.store.base_url,
                            "currency": shop["currency"], "metafields": metafields.shop_liquid_metafields(self.store, domain)},
                   "all_products": {p["handle"]: theme.liquid_product(p, domain, self.store.base_url, {}, root)
                                    for p in shop["products"].values()}}
        customer = self._logged_in(domain)
        if customer:  # Liquid's `customer`: present only for a logged-in customer
            context["customer"] = {"id": customer["id"], "first_name": customer["first_name"], "email": customer["email"]}
        assets: dict[str, None] = {}
        blocks = []
        template = "product" if product else template
        placed = theme.app_blocks(shop["theme"], f"templates/{template}.json") if template else []
        for n, (handle, settings) in enumerate(placed):
            context_block = {**context, "block": {"id": f"{handle}-{n}", "settings": settings}}
            if product:
                context_block["product"] = theme.liquid_product(
                    product, domain, self.store.base_url, metafields.liquid_metafields(self.store, domain, product["id"]), root)
            rendered, schema = theme.render_block(handle, context_block)
            blocks.append(rendered)
            for key in ("stylesheet", "javascript"):
                if schema.get(key):
                    assets[schema[key]] = None
        embeds = []
        for handle, settings in theme.app_embeds(shop["theme"]):
            rendered, schema = theme.render_block(handle, {**context, "block": {"settings": settings}})
            embeds.append(rendered)
            if schema.get("stylesheet"):
                assets[schema["stylesheet"]] = None
        tags = "".join(
            f'<link rel="stylesheet" href="/shops/{domain}/cdn/advocate/{name}">' if name.endswith(".css")
            else f'<script src="/shops/{domain}/cdn/advocate/{name}" defer></script>' for name in assets)
        html = html.replace("<!--app-blocks-->", "".join(blocks))
        return html.replace("</head>", tags + "</head>").replace("</body>", "".join(embeds) + "</body>")

    # --- app proxy
    def _proxy(self, method: str, domain: str, subpath: str) -> None:
        customer = self._logged_in(domain)
        params = [(k, v) for k, v in parse_qsl(self.raw_query, keep_blank_values=True)
                  if k not in ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")]
        signed = {"shop": domain, "logged_in_customer_id": str(customer["id"]) if customer else "",
                  "path_prefix": PROXY_PREFIX, "timestamp": str(int(time.time()))}
        grouped: dict[str, list[str]] = {}
        for k, v in params + list(signed.items()):
            grouped.setdefault(k, []).append(v)
        signed_all = {k: ",".join(v) for k, v in grouped.items()}
        query = urlencode(params + list(signed.items()) + [("signature", proxy_signature(signed_all, self.store.api_secret))])
        url = f"{self.store.proxy_url}{subpath}?{query}"
        headers = {"User-Agent": self.headers.get("User-Agent", ""), "X-Forwarded-For": self.client_address[0]}
        if self.headers.get("Content-Type"):
            headers["Content-Type"] = self.headers["Content-Type"]
        try:
            response = httpx.request(method, url, content=self.body if method == "POST" else None, headers=headers, timeout=15)
        except httpx.HTTPError:
            raise _Reply(502, pages.layout("Error", "<div class=card><p class=error>The app did not answer.</p></div>"))
        out_headers = {}
        if "location" in response.headers:
            out_headers["Location"] = self._storefront_location(domain, response.headers["location"])
        content_type = response.headers.get("content-type", "text/plain")
        body = response.content
        if content_type.startswith("application/liquid"):
            shop = self.store.shop(domain)
            content = self._rebase(domain, response.text)
            content = content.replace("{{ shop.name }}", pages.escape(shop["name"]))
            # Shopify renders proxied Liquid inside the theme's layout, app embeds included; the layout is
            # in the page's language, the app's own content (its links too) as the app wrote it.
            layout = self._language_html(domain, pages.theme_wrap(shop, domain, "<!--proxied-->", len(self._cart(domain)), customer))
            body = self._theme_html(domain, layout.replace("<!--proxied-->", content, 1)).encode()
            content_type = "text/html; charset=utf-8"
        elif content_type.startswith("text/html"):
            body = self._rebase(domain, response.text).encode()
        raise _Reply(response.status_code, body, content_type, out_headers)

    def _storefront_location(self, domain: str, location: str) -> str:
        if location.startswith(self.store.proxy_url):
            return f"/shops/{domain}{PROXY_PREFIX}{location.removeprefix(self.store.proxy_url)}"
        if location.startswith("/") and not location.startswith("//"):
            return f"/shops/{domain}{location}"
        return location

    @staticmethod
    def _rebase(domain: str, html: str) -> str:
        """Root-relative links in proxied pages point at the shop's own domain: rebase them onto /shops/{domain}."""
        return re.sub(r'((?:href|action|src)=["\'])/(?!/|shops/)', rf"\1/shops/{domain}/", html)

    # --- storefront
    def _logged_in(self, domain: str) -> dict | None:
        value = self.cookie("customer")
        shop = self.store.shop(domain)
        return shop["customers"].get(value) if value else None

    def _cart(self, domain: str) -> list[list]:
        try:
            return json.loads(base64.urlsafe_b64decode(self.cookie("cart") or "W10=").decode())
        except ValueError:
            return []

    def _cart_cookie(self, domain: str, cart: list) -> str:
        value = base64.urlsafe_b64encode(json.dumps(cart).encode()).decode()
        return f"cart={value}; Path=/shops/{domain}/; SameSite=Lax"

    def _storefront(self, method: str, domain: str, rest: str) -> None:
        shop = self.store.shop(domain)
        customer = self._logged_in(domain)
        cart = self._cart(domain)
        set_cookies = []
        if method == "GET" and not self.cookie("landing"):
            # Shopify's landing_site: the first page of the visit, with its query string.
            landing = rest + (f"?{self.raw_query}" if self.raw_query else "")
            set_cookies.append(f"landing={quote(landing, safe='')}; Path=/shops/{domain}/; SameSite=Lax")
            if self.headers.get("Referer") and not self.headers["Referer"].startswith(self.store.base_url):
                set_cookies.append(f"referrer={quote(self.headers['Referer'], safe='')}; Path=/shops/{domain}/; SameSite=Lax")
        headers = {"Set-Cookie": set_cookies} if set_cookies else {}
        match = re.fullmatch(r"/cdn/advocate/([a-z0-9-]+\.(?:js|css))", rest)
        if match:
            kind = "application/javascript" if match.group(1).endswith(".js") else "text/css"
            raise _Reply(200, (theme.EXTENSION_DIR / "assets" / match.group(1)).read_bytes(), kind)
        match = re.fullmatch(r"/images/([a-z0-9-]+)\.jpg", rest)
        if match:
            product = self.store.product(domain, match.group(1))
            raise _Reply(200, pages.product_photo(product["handle"], product["image_color"]), "image/jpeg",
                         {"Cache-Control": "public, max-age=86400"})
        if rest == "/brand/logo.svg":
            raise _Reply(200, pages.brand_logo(shop), "image/svg+xml", {"Cache-Control": "public, max-age=86400"})
        match = re.fullmatch(r"/images/([a-z0-9-]+)\.svg", rest)
        if match:
            raise _Reply(200, pages.product_image(self.store.product(domain, match.group(1))), "image/svg+xml")
        if rest == "/":
            ratings = {p["id"]: pages.card_rating(metafields.liquid_metafields(self.store, domain, p["id"]))
                       for p in shop["products"].values()}
            raise _Reply(200, self._theme_html(domain, pages.storefront_home(shop, domain, len(cart), customer, ratings),
                                               template="index"),
                         headers=headers)
        match = re.fullmatch(r"/products/([a-z0-9-]+)", rest)
        if match:
            product = self.store.product(domain, match.group(1))
            markup = None
            if shop["theme"].get("product_markup", True):  # Dawn: {{ product | structured_data }}
                markup = theme.structured_data(theme.liquid_product(product, domain, self.store.base_url, {}, self._root(domain)),
                                               self.store.base_url, shop["currency"])
            page = pages.product_page(shop, domain, product, len(cart), customer, markup)
            raise _Reply(200, self._theme_html(domain, page, product), headers=headers)
        match = re.fullmatch(r"/discount/([^/]+)", rest)
        if match:
            target = self.query.get("redirect") or "/"
            if not target.startswith("/") or target.startswith("//"):
                target = "/"  # never an open redirect
            set_cookies.append(f"discount_code={quote(match.group(1))}; Path=/shops/{domain}/; SameSite=Lax")
            raise _redirect(f"/shops/{domain}{target}", {"Set-Cookie": set_cookies})
        if rest == "/cart":
            if method == "POST":
                form = self.form()
                product = self.store.product(domain, form.get("product", ""))
                cart.append([product["id"], max(1, int(form.get("quantity") or 1))])
                raise _redirect(f"/shops/{domain}/cart", {"Set-Cookie": self._cart_cookie(domain, cart)})
            raise _Reply(200, pages.cart_page(shop, domain, self._cart_items(domain, cart),
                                              self._discount_cookie(), len(cart), customer), headers=headers)
        if rest == "/checkout" and method == "POST":
            self._checkout(domain, shop, cart, customer)
        match = re.fullmatch(r"/orders/(\d+)", rest)
        if match:
            order = self.store.order(domain, match.group(1))
            extension = checkout_blocks.thank_you_block(self.store, shop, domain, order)
            raise _Reply(200, pages.thank_you(shop, domain, order, customer, extension))
        self._customer_account(method, domain, shop, rest, customer)
        if rest == "/account/login":
            if method == "POST":
                found = self.store.customer_by_email(domain, self.form().get("email", ""))
                if not found:
                    raise _Reply(200, pages.login_page(shop, domain, "No customer has that email in this shop."))
                back = self.query.get("return_url") or "/"
                if not back.startswith("/") or back.startswith("//"):
                    back = "/"  # Shopify's return_url is a path on the shop, never another site
                raise _redirect(f"/shops/{domain}{back}", {"Set-Cookie": f"customer={found['id']}; Path=/shops/{domain}/; SameSite=Lax"})
            raise _Reply(200, pages.login_page(shop, domain, return_url=self.query.get("return_url", "")))
        if rest == "/account/logout":
            raise _redirect(f"/shops/{domain}/", {"Set-Cookie": f"customer=; Path=/shops/{domain}/; Max-Age=0"})

    def _customer_account(self, method: str, domain: str, shop: dict, rest: str, customer: dict | None) -> None:
        """Customer accounts, and the files and token Advocate's UI extensions need on these pages."""
        if rest == "/cdn/extensions/advocate-view.js":
            if not checkout_blocks.VIEW_MODULE.exists():
                raise _Reply(404, "The extensions' view module is missing.", "text/plain")
            raise _Reply(200, checkout_blocks.VIEW_MODULE.read_bytes(), "application/javascript", {"Cache-Control": "no-cache"})
        if rest == "/cdn/extensions/host.js":
            raise _Reply(200, (STATIC / "extension-host.js").read_bytes(), "application/javascript", {"Cache-Control": "no-cache"})
        if rest == "/extensions/session-token" and method == "POST":
            token = checkout_blocks.buyer_session_token(self.store, domain, customer["id"] if customer else None)
            raise _json_reply(200, {"token": token})
        if not rest.startswith("/account") or rest.startswith(("/account/login", "/account/logout")):
            return
        if customer is None:
            raise _redirect(f"/shops/{domain}/account/login")
        if rest == "/account":
            raise _Reply(200, pages.store_layout(shop, domain, "Your account",
                                                 checkout_blocks.account_page(self.store, shop, domain, customer), 0, customer))
        if rest == "/account/pages/refer":
            raise _Reply(200, pages.store_layout(shop, domain, "Refer friends",
                                                 checkout_blocks.refer_page(self.store, domain), 0, customer))
        match = re.fullmatch(r"/account/orders/(\d+)", rest)
        if match:
            order = shop["orders"].get(match.group(1))
            if order is None or order.get("customer_id") != customer["id"]:
                raise _Reply(404, pages.store_layout(shop, domain, "Not found",
                                                     "<div class=card><h1>No such order in your account</h1></div>", 0, customer))
            raise _Reply(200, pages.store_layout(shop, domain, f"Order {order['name']}",
                                                 checkout_blocks.order_status_page(self.store, shop, domain, order), 0, customer))

    def _checkout_editor(self, method: str, domain: str) -> None:
        page = self.query.get("page", "thank-you")
        if page not in checkout_blocks.PLACEMENTS:
            raise _Reply(400, pages.layout("Checkout editor", "<div class=card><p class=error role=alert>"
                                                              "There is no such page in the editor.</p></div>"))
        if method == "POST":
            checkout_blocks.place(self.store, domain, page, on=self.form().get("on") == "1")
            raise _redirect(f"/shops/{domain}/admin/settings/checkout/editor?page={page}")
        raise _Reply(200, pages.layout("Checkout editor", checkout_blocks.editor_page(self.store.shop(domain), domain, page),
                                       nav=pages.shop_nav(domain)))

    def _discount_cookie(self) -> str:
        return unquote(self.cookie("discount_code"))

    def _cart_items(self, domain: str, cart: list) -> list[tuple[dict, int]]:
        items = []
        for product_id, quantity in cart:
            try:
                items.append((self.store.product(domain, product_id), int(quantity)))
            except StoreError:
                continue
        return items

    def _checkout(self, domain: str, shop: dict, cart: list, customer: dict | None) -> None:
        form = self.form()
        items = self._cart_items(domain, cart)
        error = ""
        if not items:
            error = "Your cart is empty."
        elif not form.get("email") or "@" not in form.get("email", ""):
            error = "Enter an email address so we can send your receipt."
        elif not form.get("first_name"):
            error = "Enter your first name."
        if not error:
            try:
                order = self.store.order_place(
                    domain, lines=[(p["id"], q) for p, q in items], customer_id=customer["id"] if customer else None,
                    email=form["email"], first_name=form["first_name"], last_name=form.get("last_name", ""),
                    discount_code=form.get("discount_code", "").strip() or None,
                    landing_site=unquote(self.cookie("landing")) or None, referring_site=unquote(self.cookie("referrer")) or None,
                    browser_ip=self.client_address[0], user_agent=self.headers.get("User-Agent", ""),
                    country=form.get("country", "US"), address1=form.get("address1", ""), city=form.get("city", ""),
                    zip_code=form.get("zip", ""))
            except StoreError as exc:
                error = str(exc)
        if error:
            raise _Reply(200, pages.cart_page(shop, domain, items, form.get("discount_code", ""), len(cart), customer,
                                              error=error, values=form))
        clear = [f"cart=; Path=/shops/{domain}/; Max-Age=0", f"discount_code=; Path=/shops/{domain}/; Max-Age=0",
                 f"landing=; Path=/shops/{domain}/; Max-Age=0"]
        raise _redirect(f"/shops/{domain}/orders/{order['id']}", {"Set-Cookie": clear})


def read_app_config(path: str | Path) -> dict:
    """Scopes, webhook subscriptions and the app proxy from shopify.app.toml, as Shopify CLI deploys them."""
    config = tomllib.loads(Path(path).read_text())
    return {
        "scopes": config.get("access_scopes", {}).get("scopes", ""),
        "optional_scopes": config.get("access_scopes", {}).get("optional_scopes", []),
        "api_version": config.get("webhooks", {}).get("api_version", "2026-10"),
        "subscriptions": config.get("webhooks", {}).get("subscriptions", []),
    }


def start(*, port: int = 0, host: str = "127.0.0.1", app_url: str, api_key: str, api_secret: str,
          data_dir: str | None = None, smtp_port: int | None = 0, token_ttl: int | None = None,
          app_config: str | Path | None = None, retry_base: float = 1.0) -> DevStore:
    """Start devstore in background threads; `smtp_port=None` runs no SMTP server."""
    config = read_app_config(app_config or Path(__file__).resolve().parent.parent / "shopify.app.toml")
    app_url = app_url.rstrip("/")
    # The toml names the production host; devstore delivers to the app it was started for.
    subscriptions = [{**s, "uri": "/" + s["uri"].split("://", 1)[-1].split("/", 1)[-1] if "://" in s["uri"] else s["uri"]}
                     for s in config["subscriptions"]]
    options = {"token_ttl": token_ttl} if token_ttl else {}
    store = Store(app_url=app_url, api_key=api_key, api_secret=api_secret, data_dir=data_dir, scopes=config["scopes"],
                  api_version=config["api_version"], subscriptions=subscriptions, **options)
    store.optional_scopes = list(config["optional_scopes"])
    deliverer = Deliverer(store, retry_base=retry_base)
    smtp = start_smtp(store, smtp_port) if smtp_port is not None else None
    handler = type("BoundHandler", (Handler,), {"store": store})
    httpd = ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True
    running = DevStore(store, httpd, deliverer, smtp)
    handler.devstore = running
    threading.Thread(target=httpd.serve_forever, name="devstore-http", daemon=True).start()
    return running

