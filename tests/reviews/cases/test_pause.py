"""The marketing pause in Shopify: the customer's tag and app metafield follow their cases, checked
in devstore's copy of the customer under faults, a rename, a redaction and a missing scope."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.cases import pause
from reviews.cases.models import Case, CaseSettings, CustomerPause
from reviews.cases.pause import pauses_sweep, pauses_sync
from reviews.cases.services import case_transition
from shopapp.models import Shop
from shopapp.registry import CustomerRef, customer_data_redact
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db
SCOPES = "read_orders,read_customers,write_customers,read_products,write_products"
TAG = "advocate-case-open"


@pytest.fixture
def shop(db, devstore):  # noqa: F811
    return connected_shop(devstore, SCOPES)


@pytest.fixture
def maya(devstore):  # noqa: F811
    return devstore.customer(DEMO, "maya@example.com")


@pytest.fixture
def unhappy(make_review, maya, run_jobs):
    """Maya's 1-star review and the case it opened (the pause sync ran after the commit)."""
    review = make_review(1, shopify_id=maya["id"], email="maya@example.com")
    return Case.objects.get(review=review)


def in_shopify(devstore, maya) -> tuple[list[str], dict | None]:  # noqa: F811
    from devstore.graphql_api import customer_tags
    from devstore.metafields import owner_metafield

    customer = devstore.store.shop(DEMO)["customers"][str(maya["id"])]
    found = owner_metafield(devstore.store, DEMO, f"gid://shopify/Customer/{maya['id']}", "$app:cases", "pause")
    return customer_tags(customer), (json.loads(found["value"]) if found else None)


def test_an_open_case_tags_the_customer_and_the_tag_comes_off_when_the_pause_ends(shop, devstore, maya, unhappy,  # noqa: F811
                                                                                  run_jobs):
    tags, value = in_shopify(devstore, maya)
    assert TAG in tags and value == {"case_open": True, "until": None}
    with run_jobs():
        case_transition(case=unhappy, to=Case.Status.RESOLVED, actor="owner")
    tags, value = in_shopify(devstore, maya)
    unhappy.refresh_from_db()
    assert TAG in tags and value["case_open"] is False
    assert value["until"] == (unhappy.ended_at + timedelta(days=14)).isoformat()  # the same 14 days Advocate keeps
    assert pauses_sync(shop.pk) == 0  # nothing due until then
    later = unhappy.ended_at + timedelta(days=15)
    assert pauses_sweep(now=later) == 1
    assert pauses_sync(shop.pk, now=later) == 1
    assert in_shopify(devstore, maya) == ([], None)
    assert CustomerPause.objects.get(shop=shop).tag_in_shopify == ""


@pytest.mark.parametrize("fault", ["fail_before", "fail_after", "reset_after"])
def test_a_write_without_a_definite_answer_is_sent_again_and_ends_with_one_tag(shop, devstore, maya, make_review,  # noqa: F811
                                                                               run_jobs, fault):
    devstore.fault(DEMO, "tagsAdd", fault, seconds=1.0)
    review = make_review(1, shopify_id=maya["id"], email="maya@example.com")
    row = CustomerPause.objects.get(shop=shop)
    assert row.error and row.next_at and row.synced_version < row.version
    assert pauses_sync(shop.pk) == 0  # not before its backoff
    assert pauses_sync(shop.pk, now=timezone.now() + timedelta(hours=1)) == 1
    tags, value = in_shopify(devstore, maya)
    assert tags.count(TAG) == 1 and value["case_open"] is True
    assert Case.objects.get(review=review).status in Case.ACTIVE


def test_a_case_that_moves_during_the_sync_stays_due_and_lands_next(shop, devstore, maya, unhappy,  # noqa: F811
                                                                    monkeypatch):
    real = pause.pause_of
    moved = []

    def resolve_meanwhile(*args, **kwargs):
        answer = real(*args, **kwargs)  # read while the case was open
        if not moved:
            moved.append(case_transition(case=unhappy, to=Case.Status.RESOLVED, actor="owner"))
        return answer

    CustomerPause.objects.filter(shop=shop).update(version=99)
    monkeypatch.setattr(pause, "pause_of", resolve_meanwhile)
    pauses_sync(shop.pk)
    row = CustomerPause.objects.get(shop=shop)
    assert row.synced_version < row.version  # the move bumped it after the read
    monkeypatch.setattr(pause, "pause_of", real)
    pauses_sync(shop.pk)
    assert in_shopify(devstore, maya)[1]["case_open"] is False


@pytest.fixture
def panel_post(client, make_session_token):
    return lambda path, shop, data: client.post(f"{path}?id_token={make_session_token(shop.domain)}", data)


def test_renaming_the_tag_moves_every_tagged_customer(shop, devstore, maya, unhappy, panel_post, run_jobs):  # noqa: F811
    with run_jobs():
        response = panel_post("/app/cases/settings/", shop, {
            "action": "settings", "rating_threshold": "2", "keywords": "", "alert_recipients": "",
            "alert_mode": "at_once", "first_response_hours": "24", "pause_tag": "  do-not-market  "})
    assert response.status_code == 200 and "1 customer will be retagged" in response.content.decode()
    tags, _ = in_shopify(devstore, maya)
    assert "do-not-market" in tags and TAG not in tags
    refused = panel_post("/app/cases/settings/", shop, {
        "action": "settings", "rating_threshold": "2", "keywords": "", "alert_recipients": "", "alert_mode": "at_once",
        "first_response_hours": "24", "pause_tag": "a, b"})
    assert refused.status_code == 400 and "cannot contain a comma" in refused.content.decode()
    assert CaseSettings.objects.get(shop=shop).pause_tag == "do-not-market"


def test_redaction_takes_the_tag_and_metafield_off_and_keeps_no_row(shop, devstore, maya, unhappy, run_jobs):  # noqa: F811
    with run_jobs():
        customer_data_redact(shop, CustomerRef(shopify_id=str(maya["id"]), email="maya@example.com", phone=""))
    assert in_shopify(devstore, maya) == ([], None)
    assert not CustomerPause.objects.filter(shop=shop).exists()


def test_without_write_customers_nothing_is_sent_and_the_settings_page_says_so(shop, devstore, maya, make_review,  # noqa: F811
                                                                               panel_get, monkeypatch):
    Shop.objects.filter(pk=shop.pk).update(scopes="read_orders,read_customers")
    sent = []
    monkeypatch.setattr(pause.AdminClient, "mutate", lambda *a, **k: sent.append(a))
    make_review(1, shopify_id=maya["id"], email="maya@example.com")
    assert pauses_sync(shop.pk) == 0
    assert [call for call in sent if "flowTriggerReceive" not in call[1]] == []  # Flow's events need no scope
    page = " ".join(panel_get("/app/cases/settings/", Shop.objects.get(pk=shop.pk)).content.decode().split())
    assert "needs permission to tag customers" in page and "customer_tags NOT CONTAINS 'advocate-case-open'" in page


def test_nothing_is_sent_for_an_uninstalled_shop(shop, devstore, maya, make_review, monkeypatch):  # noqa: F811
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    sent = []
    monkeypatch.setattr(pause.AdminClient, "mutate", lambda *a, **k: sent.append(a))
    make_review(1, shopify_id=maya["id"], email="maya@example.com")
    assert pauses_sync(shop.pk) == 0 and pauses_sweep() == 0 and sent == []
