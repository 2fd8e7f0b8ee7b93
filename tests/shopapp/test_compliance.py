from __future__ import annotations

import pytest

from shopapp.models import CustomerDataExport, Shop, WebhookEvent
from shopapp.registry import register_customer_data, register_uninstall_hook
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db

# A stand-in app that stores customer data, plugged in the way reviews and referrals plug in.
_store: dict[tuple[str, str], dict] = {}
_stopped: list[str] = []


def _export(shop, customer):
    return [v for (domain, email), v in _store.items() if domain == shop.domain and email == customer.email]


def _stop(shop):
    _stopped.append(shop.domain)


def _redact(shop, customer):
    for key in list(_store):
        if key == (shop.domain, customer.email):
            _store[key] = {"author": "Deleted customer", "rating": _store[key]["rating"]}


@pytest.fixture(autouse=True)
def _seed(shop, other_shop):
    # Plugged in for each test only: the registry is snapshotted and restored around every test.
    register_customer_data("testapp", export=_export, redact=_redact)
    register_uninstall_hook(_stop)
    _store.clear()
    _stopped.clear()
    _store[(shop.domain, "maya@example.com")] = {"author": "Maya R.", "rating": 5}
    _store[(other_shop.domain, "maya@example.com")] = {"author": "Maya at the other shop", "rating": 1}


def test_data_request_keeps_an_export_of_everything_stored_for_the_merchant(post_webhook, shop):
    assert post_webhook("customers/data_request", load_fixture("webhooks/customers_data_request.json"), shop).status_code == 200
    export = CustomerDataExport.objects.get(shop=shop)
    assert export.customer_id == "9007199254740993"
    assert export.data["data"]["testapp"] == [{"author": "Maya R.", "rating": 5}]
    assert export.data["orders_requested"] == ["299938", "280263", "220458"]
    # Nothing of the other shop's customer data leaks into this shop's export.
    assert "other shop" not in str(export.data)


def test_repeated_data_request_keeps_one_export(post_webhook, shop):
    payload = load_fixture("webhooks/customers_data_request.json")
    post_webhook("customers/data_request", payload, shop)
    post_webhook("customers/data_request", payload, shop)  # new event id, same request id
    assert CustomerDataExport.objects.filter(shop=shop).count() == 1


def test_customer_redact_erases_identity_but_keeps_aggregates(post_webhook, shop, other_shop):
    CustomerDataExport.objects.create(shop=shop, customer_id="9007199254740993", customer_email="maya@example.com")
    post_webhook("orders/create", {"id": 1, "email": "maya@example.com"}, shop)
    post_webhook("customers/redact", load_fixture("webhooks/customers_redact.json"), shop)
    assert _store[(shop.domain, "maya@example.com")] == {"author": "Deleted customer", "rating": 5}
    assert _store[(other_shop.domain, "maya@example.com")]["author"] == "Maya at the other shop"
    assert not CustomerDataExport.objects.filter(shop=shop).exists()
    order_event = WebhookEvent.objects.get(topic="orders/create")
    assert "maya@example.com" not in str(order_event.payload)


def test_shop_redact_deletes_everything_of_that_shop_only(post_webhook, shop, other_shop):
    CustomerDataExport.objects.create(shop=shop, customer_email="a@example.com")
    CustomerDataExport.objects.create(shop=other_shop, customer_email="b@example.com")
    post_webhook("orders/create", {"id": 1}, shop)
    post_webhook("shop/redact", load_fixture("webhooks/shop_redact.json"), shop)
    assert not Shop.objects.filter(domain=shop.domain).exists()
    assert not CustomerDataExport.objects.filter(customer_email="a@example.com").exists()
    assert CustomerDataExport.objects.filter(customer_email="b@example.com").exists()
    assert not WebhookEvent.objects.filter(shop_domain=shop.domain, topic="orders/create").exists()
    assert WebhookEvent.objects.get(topic="shop/redact").status == WebhookEvent.Status.DONE


def test_shop_redact_for_an_unknown_shop_is_acknowledged(post_webhook, db):
    response = post_webhook("shop/redact", {"shop_id": 1, "shop_domain": "gone.myshopify.com"}, "gone.myshopify.com")
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.DONE


def test_uninstall_drops_tokens_and_stops_pending_work_but_keeps_data(post_webhook, shop):
    CustomerDataExport.objects.create(shop=shop, customer_email="a@example.com")
    post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop)
    shop.refresh_from_db()
    assert not shop.is_installed and shop.uninstalled_at is not None
    assert shop.access_token == "" and shop.refresh_token == ""
    assert _stopped == [shop.domain]
    assert CustomerDataExport.objects.filter(shop=shop).exists()


def test_reinstall_brings_the_shop_back_with_its_data(post_webhook, shop, panel_get, fake_shopify):
    export = CustomerDataExport.objects.create(shop=shop, customer_email="kept@example.com")
    post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop)

    # The merchant installs again from the admin: the panel's first load exchanges a token.
    response = panel_get("/app/privacy/", shop)
    assert response.status_code == 200
    assert "kept@example.com" in response.content.decode()
    shop.refresh_from_db()
    assert shop.is_installed and shop.access_token == fake_shopify.valid_tokens[shop.domain]
    assert CustomerDataExport.objects.get(pk=export.pk).shop_id == shop.pk


def test_merchant_can_erase_a_customer_by_email_in_the_panel(panel_get, client, make_session_token, shop, other_shop):
    response = client.post(f"/app/privacy/?id_token={make_session_token(shop.domain)}",
                           {"email": "Maya@Example.com", "confirm": "on"})
    assert response.status_code == 200
    assert _store[(shop.domain, "maya@example.com")]["author"] == "Deleted customer"
    assert _store[(other_shop.domain, "maya@example.com")]["author"] == "Maya at the other shop"


def test_erase_without_confirmation_changes_nothing(client, make_session_token, shop):
    response = client.post(f"/app/privacy/?id_token={make_session_token(shop.domain)}", {"email": "maya@example.com"})
    assert response.status_code == 400
    assert b"Tick the box" in response.content
    assert _store[(shop.domain, "maya@example.com")]["author"] == "Maya R."


def test_full_shop_export_holds_only_that_shops_data(panel_get, shop, other_shop, post_webhook):
    post_webhook("orders/create", load_fixture("webhooks/orders_create.json"), shop)
    post_webhook("orders/create", {**load_fixture("webhooks/orders_create.json"), "email": "other@example.com",
                                   "customer": {"id": 1, "email": "other@example.com"}}, other_shop)
    data = panel_get("/app/privacy/shop-export.json", shop, fetch=True).json()
    assert data["shop"] == shop.domain
    assert [o["id"] for o in data["data"]["orders"]["orders"]] == [9007199254741123]
    assert "other@example.com" not in str(data)


def test_customer_redact_keeps_its_own_request_without_the_email_and_phone(post_webhook, shop):
    post_webhook("customers/redact", load_fixture("webhooks/customers_redact.json"), shop)
    event = WebhookEvent.objects.get(topic="customers/redact")
    assert event.status == WebhookEvent.Status.DONE
    assert event.payload["customer"] == {"id": 9007199254740993}
    assert event.payload["orders_to_redact"] == [299938, 280263, 220458]
    assert "maya@example.com" not in str(event.payload) and "555-625-1199" not in str(event.payload)


@pytest.mark.parametrize("topic, fixture", [
    ("customers/redact", "customers_redact.json"),
    ("customers/data_request", "customers_data_request.json"),
    ("shop/redact", "shop_redact.json"),
])
def test_compliance_body_naming_another_shop_is_refused_and_logged(post_webhook, shop, other_shop, caplog, topic, fixture):
    from shopapp.models import Customer

    Customer.objects.create(shop=shop, shopify_id=9007199254740993, email="maya@example.com")
    payload = {**load_fixture(f"webhooks/{fixture}"), "shop_domain": other_shop.domain}
    post_webhook(topic, payload, shop)

    event = WebhookEvent.objects.get(topic=topic)
    assert event.status == WebhookEvent.Status.FAILED and "shop_domain" in event.last_error
    assert any(other_shop.domain in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)
    assert Shop.objects.filter(domain=shop.domain).exists()
    assert Customer.objects.get(shop=shop).email == "maya@example.com"
    assert _store[(shop.domain, "maya@example.com")]["author"] == "Maya R."
    assert not CustomerDataExport.objects.exists()


def test_data_request_export_holds_everything_stored_about_the_customer(post_webhook, shop, other_shop):
    full = load_fixture("webhooks/orders_updated_full.json")
    post_webhook("orders/create", full, shop)
    post_webhook("orders/create", {**full, "email": "other@example.com",
                                   "customer": {"id": 9007199254740993, "email": "other@example.com"}}, other_shop)
    request = {**load_fixture("webhooks/customers_data_request.json"),
               "customer": {"id": 9007199254740993, "email": "maya.r@example.com", "phone": "+15555550100"}}
    post_webhook("customers/data_request", request, shop)

    data = CustomerDataExport.objects.get(shop=shop).data["data"]["orders"]
    assert [c["email"] for c in data["customers"]] == ["maya.r@example.com"]
    order = data["orders"][0]
    assert order["shipping_address"]["address1"] == "1 Main St"
    assert (order["browser_ip"], order["user_agent"]) == ("203.0.113.7", "Mozilla/5.0 (iPhone)")
    assert order["note_attributes"] == [{"name": "gate_code", "value": "4471"}]
    assert order["email"] == "maya.r@example.com" and order["lines"][0]["title"] == "Trail Mug"
    # Shopify's bodies as stored, with what the rows leave out (the note, the billing address).
    bodies = [w for w in data["webhooks"] if w["topic"] == "orders/create"]
    assert len(bodies) == 1 and bodies[0]["body"]["note"].startswith("Gate code")
    assert bodies[0]["body"]["billing_address"]["name"] == "Maya Rossi"
    assert "other@example.com" not in str(data)
    import json

    json.dumps(data)  # plain JSON the merchant can hand over as it is


def test_no_email_of_any_kind_goes_out_for_an_uninstalled_shop(post_webhook, shop, settings):
    from django.core import mail

    from shopapp.admin_api import ShopUninstalled
    from shopapp.mail import sender_test_send

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    loaded_before = Shop.objects.get(pk=shop.pk)
    post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop)
    with pytest.raises(ShopUninstalled):
        sender_test_send(shop=loaded_before, to="owner@example.com")
    assert mail.outbox == []
