"""devstore speaks Shopify's formats: Shopify's own libraries accept what it signs."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import shopify
from shopify_app import ShopifyApp

from devstore.server import start
from devstore.webhooks import headers_for

KEY, SECRET = "devstore-test-key", "devstore-test-secret-0123456789abcdef"
DEMO = "demo-outfitters.myshopify.com"
NORTH = "north-pole-goods.myshopify.com"


class _App(BaseHTTPRequestHandler):
    """A stand-in app: records what reaches it and answers the proxy with Liquid."""

    received: list = []

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).received.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                    "method": self.command})
        if self.path.startswith("/proxy/redirect"):
            self.send_response(302)
            self.send_header("Location", "/apps/advocate/thanks")
            self.end_headers()
            return
        payload = b'<p>Hello from {{ shop.name }}</p><a href="/apps/advocate/r/X">link</a>'
        self.send_response(200)
        self.send_header("Content-Type", "application/liquid" if self.path.startswith("/proxy") else "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer


@pytest.fixture(scope="module")
def app_server():
    _App.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def store(app_server, tmp_path):
    running = start(port=0, app_url=app_server, api_key=KEY, api_secret=SECRET, data_dir=str(tmp_path),
                    smtp_port=0, retry_base=0.1)
    running.seed()
    _App.received.clear()
    yield running
    running.stop()


@pytest.fixture
def shopify_lib():
    return ShopifyApp(client_id=KEY, client_secret=SECRET)


def _exchange(store, domain, **extra):
    return httpx.post(f"{store.url}/shops/{domain}/admin/oauth/access_token", json={
        "client_id": KEY, "client_secret": SECRET, "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": store.session_token(domain), "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token", "expiring": "1", **extra})


def _graphql(store, domain, token, query, variables=None):
    return httpx.post(f"{store.url}/shops/{domain}/admin/api/2026-10/graphql.json",
                      json={"query": query, "variables": variables or {}}, headers={"X-Shopify-Access-Token": token})


def test_session_tokens_in_the_admin_frame_verify_with_shopifys_library(store, shopify_lib):
    url = store.app_url(DEMO, "/")
    result = shopify_lib.verify_app_home_req({"method": "GET", "headers": {}, "url": url, "body": ""}, "/auth/patch-id-token")
    assert result.ok, result.log
    assert result.id_token.claims["dest"] == f"https://{DEMO}"
    assert result.id_token.claims["iss"] == f"https://{DEMO}/admin"


def test_token_exchange_needs_the_app_installed_and_a_token_for_this_shop(store):
    assert _exchange(store, DEMO).json()["error"] == "invalid_subject_token"  # not installed yet
    store.store.app_install(DEMO)
    wrong_shop = _exchange(store, DEMO, subject_token=store.session_token(NORTH))
    assert wrong_shop.status_code == 400
    answer = _exchange(store, DEMO).json()
    assert answer["expires_in"] == 3600 and answer["refresh_token"].startswith("shprt_")


def test_refresh_rotates_and_an_old_refresh_token_fails_like_shopifys(store):
    store.store.app_install(DEMO)
    first = _exchange(store, DEMO).json()
    body = {"client_id": KEY, "client_secret": SECRET, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    url = f"{store.url}/shops/{DEMO}/admin/oauth/access_token"
    second = httpx.post(url, data=body).json()
    assert second["access_token"] != first["access_token"]
    assert not store.access_token_valid(DEMO, first["access_token"])  # one valid token per app and shop
    assert store.access_token_valid(DEMO, second["access_token"])
    reused = httpx.post(url, data=body)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_authorization_code_callback_passes_shopifyapi_hmac_check(store, app_server):
    query = {"client_id": KEY, "scope": "read_orders", "redirect_uri": f"{app_server}/auth/callback", "state": "n0nce"}
    consent = httpx.get(f"{store.url}/shops/{DEMO}/admin/oauth/authorize", params=query)
    assert "Install Advocate" in consent.text
    approved = httpx.post(f"{store.url}/shops/{DEMO}/admin/oauth/authorize", params=query)
    callback = dict(parse_qsl(urlsplit(approved.headers["location"]).query))
    shopify.Session.setup(api_key=KEY, secret=SECRET)
    assert shopify.Session.validate_params(callback)
    assert callback["state"] == "n0nce"
    token = httpx.post(f"{store.url}/shops/{DEMO}/admin/oauth/access_token",
                       json={"client_id": KEY, "client_secret": SECRET, "code": callback["code"]}).json()
    assert token["access_token"] and "refresh_token" not in token  # no expiring=1: a non-expiring token
    again = httpx.post(f"{store.url}/shops/{DEMO}/admin/oauth/access_token",
                       json={"client_id": KEY, "client_secret": SECRET, "code": callback["code"]})
    assert again.status_code == 400  # codes are single-use


def test_graphql_refuses_a_bad_token_and_reports_cost(store):
    store.store.app_install(DEMO)
    assert _graphql(store, DEMO, "shpat_wrong", "{ shop { name } }").status_code == 401
    token = _exchange(store, DEMO).json()["access_token"]
    body = _graphql(store, DEMO, token, "{ shop { name plan { displayName shopifyPlus } } }").json()
    assert body["data"]["shop"] == {"name": "Demo Outfitters", "plan": {"displayName": "Basic", "shopifyPlus": False}}
    assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 100.0
    assert _graphql(store, NORTH, token, "{ shop { name } }").status_code == 401  # another shop's token


def test_plus_shops_restore_faster_and_an_empty_bucket_answers_throttled(store):
    for domain in (DEMO, NORTH):
        store.store.app_install(domain)
    north = _exchange(store, NORTH).json()["access_token"]
    # A Plus bucket refills 1,000 points a second: a costly query, sent as soon as the bucket is emptied,
    # and a few tries so a slow moment on a loaded machine cannot refill it first.
    for _ in range(3):
        store.set_bucket(NORTH, 0)
        body = _graphql(store, NORTH, north, "{ products(first: 250) { nodes { title } } }").json()
        if "errors" in body:
            break
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 1000.0


def test_discount_codes_validate_input_and_apply_only_when_valid_at_checkout(store):
    store.store.app_install(DEMO)
    token = _exchange(store, DEMO).json()["access_token"]
    mutation = """mutation($d: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $d) {
      codeDiscountNode { id } userErrors { field message code } } }"""
    good = {"title": "Friend offer", "code": "MAYA-7K2Q", "context": {"all": "ALL"}, "appliesOncePerCustomer": True,
            "customerGets": {"value": {"percentage": 0.15}, "items": {"all": True}},
            "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "30.00"}}}
    bad = _graphql(store, DEMO, token, mutation, {"d": {**good, "customerGets": {"value": {"percentage": 1.5}}}}).json()
    assert bad["data"]["discountCodeBasicCreate"]["userErrors"][0]["code"] == "VALUE_OUTSIDE_RANGE"
    created = _graphql(store, DEMO, token, mutation, {"d": good}).json()["data"]["discountCodeBasicCreate"]
    assert created["userErrors"] == [] and created["codeDiscountNode"]["id"].startswith("gid://shopify/DiscountCodeNode/")
    taken = _graphql(store, DEMO, token, mutation, {"d": good}).json()["data"]["discountCodeBasicCreate"]
    assert taken["userErrors"][0]["code"] == "TAKEN"

    from devstore.state import StoreError
    with pytest.raises(StoreError, match="at least 30.00"):
        store.place_order(DEMO, lines=[("trail-mug", 1)], email="new@example.com", first_name="New",
                          discount_code="MAYA-7K2Q")
    order = store.place_order(DEMO, lines=[("trail-mug", 2)], email="new@example.com", first_name="New",
                              discount_code="maya-7k2q")
    assert order["discount_codes"][0]["code"] == "MAYA-7K2Q" and order["total"] == "30.60"
    with pytest.raises(StoreError, match="once per customer"):
        store.place_order(DEMO, lines=[("trail-mug", 2)], email="new@example.com", first_name="New",
                          discount_code="MAYA-7K2Q")


def test_store_credit_accumulates_and_refuses_bad_amounts(store):
    store.store.app_install(DEMO)
    token = _exchange(store, DEMO).json()["access_token"]
    maya = store.customer(DEMO, "maya@example.com")
    mutation = """mutation($id: ID!, $c: StoreCreditAccountCreditInput!) { storeCreditAccountCredit(id: $id, creditInput: $c) {
      storeCreditAccountTransaction { balanceAfterTransaction { amount currencyCode } } userErrors { code } } }"""
    credit = lambda amount: _graphql(store, DEMO, token, mutation, {  # noqa: E731
        "id": f"gid://shopify/Customer/{maya['id']}", "c": {"creditAmount": {"amount": amount, "currencyCode": "USD"}}}
    ).json()["data"]["storeCreditAccountCredit"]
    assert credit("5.00")["storeCreditAccountTransaction"]["balanceAfterTransaction"] == {"amount": "5.00", "currencyCode": "USD"}
    assert credit("2.50")["storeCreditAccountTransaction"]["balanceAfterTransaction"]["amount"] == "7.50"
    assert credit("0")["userErrors"][0]["code"] == "NEGATIVE_OR_ZERO_AMOUNT"
    assert store.store_credit(DEMO, maya["id"])[0]["balance"] == "7.50"


def test_webhooks_are_signed_so_shopifys_library_verifies_them(store, shopify_lib):
    store.store.app_install(DEMO)
    maya = store.customer(DEMO, "maya@example.com")
    order = store.place_order(DEMO, lines=[("trail-mug", 1)], customer_id=maya["id"])
    assert store.wait_for_webhooks(10)
    webhooks = [r for r in _App.received if r["path"] == "/webhooks"]
    topics = [r["headers"]["X-Shopify-Topic"] for r in webhooks]
    assert topics == ["orders/create", "orders/paid"]
    for received in webhooks:
        result = shopify_lib.verify_webhook_req({"method": "POST", "headers": received["headers"],
                                                 "url": "http://app/webhooks", "body": received["body"].decode()})
        assert result.ok, result.log
        assert received["headers"]["X-Shopify-Shop-Domain"] == DEMO
        assert received["headers"]["X-Shopify-API-Version"] == "2026-10"
    payload = json.loads(webhooks[0]["body"])
    assert payload["id"] == order["id"] > 2**53  # 64-bit ids, exact in the JSON
    assert webhooks[0]["headers"]["X-Shopify-Event-Id"] == webhooks[1]["headers"]["X-Shopify-Event-Id"]


def test_a_tampered_webhook_fails_verification(store, shopify_lib):
    from devstore.state import Delivery
    delivery = Delivery(id="w1", shop=DEMO, topic="orders/create", event_id="e1", body=b'{"id": 1}',
                        triggered_at="2026-11-22T00:00:00Z", uri="/webhooks", api_version="2026-10")
    headers = headers_for(delivery, SECRET)
    result = shopify_lib.verify_webhook_req({"method": "POST", "headers": headers, "url": "http://app/webhooks",
                                             "body": '{"id": 2}'})
    assert not result.ok


def test_app_proxy_forwards_signed_requests_and_renders_liquid_in_the_theme(store, shopify_lib):
    store.store.app_install(DEMO)
    with httpx.Client(base_url=store.url) as browser:
        browser.post(f"/shops/{DEMO}/account/login", data={"email": "maya@example.com"})
        page = browser.get(f"/shops/{DEMO}/apps/advocate/reviews/1", params={"page": "2"})
    assert page.status_code == 200
    assert "Hello from Demo Outfitters" in page.text and "Cart (" in page.text  # inside the theme layout
    assert f'href="/shops/{DEMO}/apps/advocate/r/X"' in page.text  # links stay on the shop's domain
    forwarded = _App.received[-1]
    url = f"http://app{forwarded['path']}"
    result = shopify_lib.verify_app_proxy_req({"method": "GET", "headers": {}, "url": url, "body": ""})
    assert result.ok, result.log
    assert str(result.logged_in_customer_id) == str(store.customer(DEMO, "maya@example.com")["id"])
    query = dict(parse_qsl(urlsplit(forwarded["path"]).query))
    assert query["page"] == "2" and query["path_prefix"] == "/apps/advocate"
    redirect = httpx.get(f"{store.url}/shops/{DEMO}/apps/advocate/redirect")
    assert redirect.headers["location"] == f"/shops/{DEMO}/apps/advocate/thanks"


def test_discount_link_puts_the_code_on_the_cart_and_never_redirects_off_site(store):
    with httpx.Client(base_url=store.url) as browser:
        response = browser.get(f"/shops/{DEMO}/discount/MAYA-7K2Q", params={"redirect": "/products/trail-mug"})
        assert response.headers["location"] == f"/shops/{DEMO}/products/trail-mug"
        assert browser.cookies.get("discount_code") == "MAYA-7K2Q"
        outside = browser.get(f"/shops/{DEMO}/discount/X", params={"redirect": "https://evil.example/"})
        assert outside.headers["location"] == f"/shops/{DEMO}/"


def test_storefront_checkout_records_landing_site_and_keeps_input_on_error(store):
    with httpx.Client(base_url=store.url, follow_redirects=True) as browser:
        browser.get(f"/shops/{DEMO}/", params={"ref": "MAYA-7K2Q"})
        product = store.store.product(DEMO, "canvas-backpack")
        browser.post(f"/shops/{DEMO}/cart", data={"product": product["id"], "quantity": "1"})
        refused = browser.post(f"/shops/{DEMO}/checkout", data={"email": "friend@example.com", "first_name": "Sam",
                                                                  "discount_code": "NOPE"})
        assert "Discount code NOPE is not valid" in refused.text and 'value="friend@example.com"' in refused.text
        placed = browser.post(f"/shops/{DEMO}/checkout", data={"email": "friend@example.com", "first_name": "Sam"})
    assert "Thank you" in placed.text
    order = max(store.store.shop(DEMO)["orders"].values(), key=lambda o: o["id"])
    assert order["landing_site"] == "/?ref=MAYA-7K2Q" and order["email"] == "friend@example.com"


def _send_mail(store, *, subject: str, html: str) -> None:
    import smtplib
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@example.com", "maya@example.com", subject
    message.set_content("See the HTML part.")
    message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", store.smtp_port) as smtp:
        smtp.send_message(message)


def test_mailbox_keeps_what_advocate_sends(store):
    _send_mail(store, subject="How was your mug?", html="<p>Rate it: <a href='http://app/r/1'>5 stars</a></p>")
    assert store.mailbox()[-1]["subject"] == "How was your mug?"
    page = httpx.get(f"{store.url}/mailbox")
    assert "How was your mug?" in page.text
    html = httpx.get(f"{store.url}/mailbox/1/html")
    assert "5 stars" in html.text and "script-src 'none'" in html.headers["content-security-policy"]


@pytest.mark.browser
@pytest.mark.parametrize("head", ["", "<html><head><title>Stars</title></head>"])
def test_a_link_clicked_in_the_mailbox_opens_a_new_tab_where_its_form_can_be_submitted(store, browser, head):
    # A review link leads to a form; devstore's login form stands in for it (a POST that redirects).
    login = f"{store.url}/shops/{DEMO}/account/login"
    _send_mail(store, subject="Rate your mug", html=f'{head}<p><a href="{login}">5 stars</a></p>')
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{store.url}/mailbox/{len(store.mailbox())}")
        with page.expect_popup(timeout=5000) as opened:
            page.frame_locator("iframe[title=Message]").get_by_role("link", name="5 stars").click()
        tab = opened.value
        tab.wait_for_load_state()
        tab.get_by_label("Email").fill("maya@example.com")
        tab.get_by_role("button", name="Log in").click()
        tab.get_by_text("Hi Maya").wait_for(timeout=5000)
        assert page.url.endswith(f"/mailbox/{len(store.mailbox())}")  # the mailbox stays where it was
    finally:
        context.close()


def test_state_survives_a_restart(app_server, tmp_path):
    first = start(port=0, app_url=app_server, api_key=KEY, api_secret=SECRET, data_dir=str(tmp_path), smtp_port=None)
    first.seed()
    first.place_order(DEMO, lines=[("trail-mug", 1)], email="keep@example.com", first_name="Kee")
    first.stop()
    second = start(port=0, app_url=app_server, api_key=KEY, api_secret=SECRET, data_dir=str(tmp_path), smtp_port=None)
    try:
        assert second.customer(DEMO, "keep@example.com")["first_name"] == "Kee"
    finally:
        second.stop()


def test_a_client_that_hangs_up_before_the_answer_costs_one_log_line_not_a_traceback(store, capsys, caplog):
    import socket

    ours, shopper = socket.socketpair()
    shopper.sendall(f"GET /shops/{DEMO}/admin HTTP/1.1\r\nHost: devstore\r\n\r\n".encode())
    shopper.close()  # gone before devstore writes the page: the write fails with a broken pipe
    store._httpd.process_request_thread(ours, ("127.0.0.1", 50000))  # as the server's request thread runs it
    output = capsys.readouterr()
    assert "Traceback" not in output.err + output.out and "<html" not in output.err + output.out
    [line] = [r.getMessage() for r in caplog.records if r.name == "devstore"]
    assert f"GET /shops/{DEMO}/admin HTTP/1.1 from 127.0.0.1" in line and "BrokenPipeError" in line
    assert httpx.get(f"{store.url}/shops/{DEMO}/admin").status_code == 200  # and devstore carries on


def test_advocates_shop_query_reads_the_billing_address(store):
    from shopapp.services import SHOP_QUERY, postal_address

    store.store.app_install(DEMO)
    token = _exchange(store, DEMO).json()["access_token"]
    body = _graphql(store, DEMO, token, SHOP_QUERY).json()
    assert "errors" not in body
    assert postal_address(body["data"]["shop"]["billingAddress"]) == "150 Elgin Street\n8th Floor\nOttawa ON K2P 1L4\nCanada"
