from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection

from shopapp.models import WebhookEvent
from shopapp.registry import register_webhook_handler
from shopapp.webhooks import webhook_events_redrive
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db

calls: list[tuple] = []


def _record(shop, payload, event):
    if payload.get("explode"):
        raise RuntimeError("handler blew up")
    calls.append((shop.domain if shop else None, payload["n"], event.topic))


@pytest.fixture(autouse=True)
def _reset_calls():
    # Registered for this test only: the conftest restores the registry afterwards.
    register_webhook_handler("test/recorded", _record, order=0)
    calls.clear()


def test_signed_webhook_is_stored_and_processed(post_webhook, shop):
    response = post_webhook("test/recorded", {"n": 1}, shop)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.DONE
    assert event.attempts == 1
    assert calls == [(shop.domain, 1, "test/recorded")]


def test_bad_hmac_is_refused_and_nothing_stored(post_webhook, shop):
    response = post_webhook("test/recorded", {"n": 1}, shop, hmac_header="bm90LXRoZS1yaWdodC1zaWduYXR1cmU=")
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert calls == []


def test_missing_hmac_is_refused_and_nothing_stored(post_webhook, shop):
    response = post_webhook("test/recorded", {"n": 1}, shop, hmac_header=None)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_webhook_signed_with_another_secret_is_refused(post_webhook, shop):
    response = post_webhook("test/recorded", {"n": 1}, shop, secret="someone-elses-secret")
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_old_secret_still_verifies_during_rotation(post_webhook, shop, settings):
    from shopapp.shopify import shopify_app

    settings.SHOPIFY_API_SECRET_OLD = "the-previous-secret"
    shopify_app.cache_clear()
    try:
        response = post_webhook("test/recorded", {"n": 5}, shop, secret="the-previous-secret")
    finally:
        settings.SHOPIFY_API_SECRET_OLD = None
        shopify_app.cache_clear()
    assert response.status_code == 200
    assert calls == [(shop.domain, 5, "test/recorded")]


def test_duplicate_webhook_is_acknowledged_and_processed_once(post_webhook, shop):
    first = post_webhook("test/recorded", {"n": 1}, shop, event_id="evt-1", webhook_id="wh-1")
    again = post_webhook("test/recorded", {"n": 1}, shop, event_id="evt-1", webhook_id="wh-2")
    assert (first.status_code, again.status_code) == (200, 200)
    assert WebhookEvent.objects.count() == 1
    assert calls == [(shop.domain, 1, "test/recorded")]


def test_one_event_id_on_two_topics_is_two_events(post_webhook, shop):
    post_webhook("test/recorded", {"n": 1}, shop, event_id="evt-shared")
    post_webhook("app/uninstalled", load_fixture("webhooks/app_uninstalled.json"), shop, event_id="evt-shared")
    assert WebhookEvent.objects.count() == 2


def test_same_event_id_for_another_shop_is_not_a_duplicate(post_webhook, shop, other_shop):
    post_webhook("test/recorded", {"n": 1}, shop, event_id="evt-1")
    post_webhook("test/recorded", {"n": 2}, other_shop, event_id="evt-1")
    assert sorted(calls) == sorted([(shop.domain, 1, "test/recorded"), (other_shop.domain, 2, "test/recorded")])


def test_unknown_topic_is_acknowledged_and_stored_as_ignored(post_webhook, shop):
    response = post_webhook("products/update", {"id": 1}, shop)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.IGNORED


def test_body_over_one_megabyte_is_refused(post_webhook, shop):
    response = post_webhook("test/recorded", None, shop, raw=b'{"n": "' + b"x" * (1024 * 1024) + b'"}')
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_signed_but_malformed_json_is_stored_as_failed(post_webhook, shop):
    response = post_webhook("test/recorded", None, shop, raw=b'{"n": 1,,}')
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert "not valid JSON" in event.last_error
    assert event.raw_body == '{"n": 1,,}'
    assert calls == []


@pytest.mark.parametrize("raw", [b'{"total": NaN}', b'{"n": 1}\x00', b'{"note": "a\x00b"}'])
def test_body_no_database_holds_as_json_is_kept_as_failed_text(post_webhook, shop, raw):
    response = post_webhook("test/recorded", None, shop, raw=raw)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.payload) == (WebhookEvent.Status.FAILED, None)
    assert "not valid JSON" in event.last_error
    assert event.raw_body == raw.decode().replace("\x00", "\ufffd")
    assert calls == []


def test_nul_escape_is_acknowledged_and_kept_whatever_the_database(post_webhook, shop):
    # Valid JSON that PostgreSQL's jsonb refuses (SQLite stores it): never a 500, never lost.
    raw = b'{"n": 3, "note": "a\\u0000b"}'
    response = post_webhook("test/recorded", None, shop, raw=raw)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    if connection.vendor == "postgresql":
        assert (event.status, event.raw_body) == (WebhookEvent.Status.FAILED, raw.decode())
        assert "Unicode escape" in event.last_error
    else:
        assert event.status == WebhookEvent.Status.DONE
        assert calls == [(shop.domain, 3, "test/recorded")]


def test_payload_keeps_ids_beyond_two_to_the_53_exact(post_webhook, shop):
    post_webhook("test/recorded", None, shop, raw=b'{"n": 9007199254740993, "total": "10.10"}')
    event = WebhookEvent.objects.get()
    assert event.payload == {"n": 9007199254740993, "total": "10.10"}
    assert calls == [(shop.domain, 9007199254740993, "test/recorded")]


def test_failing_handler_is_recorded_and_retried_by_the_sweep(post_webhook, shop, django_capture_on_commit_callbacks):
    post_webhook("test/recorded", {"n": 7, "explode": True}, shop)
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert "handler blew up" in event.last_error
    assert event.next_attempt_at is not None

    # Not due yet: the sweep leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_redrive() == 0

    # Due, and the cause is gone: the sweep retries it and it succeeds.
    event.payload = {"n": 7}
    event.next_attempt_at = event.received_at
    event.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_redrive() == 1
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DONE
    assert event.attempts == 2
    assert calls == [(shop.domain, 7, "test/recorded")]


def test_gives_up_retrying_after_the_maximum_attempts(post_webhook, shop, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    post_webhook("test/recorded", {"n": 7, "explode": True}, shop)
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert event.next_attempt_at is None


def test_sweep_redrives_an_event_whose_job_was_lost(shop, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    event = WebhookEvent.objects.create(
        shop_domain=shop.domain, topic="test/recorded", event_key="lost", payload={"n": 3},
        received_at=timezone.now() - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        webhook_events_redrive()
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.DONE
    assert calls == [(shop.domain, 3, "test/recorded")]


def test_processing_an_event_twice_runs_its_handler_once(post_webhook, shop):
    from shopapp.webhooks import webhook_event_process

    post_webhook("test/recorded", {"n": 1}, shop)
    webhook_event_process(WebhookEvent.objects.get().pk)
    assert len(calls) == 1


def test_webhook_for_unknown_shop_fails_visibly(post_webhook, db):
    post_webhook("test/recorded", {"n": 1}, "stranger.myshopify.com")
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert "stranger.myshopify.com" in event.last_error


def test_get_is_not_allowed(client):
    assert client.get("/webhooks").status_code == 405


def test_64_bit_ids_survive_intake(post_webhook, shop):
    post_webhook("orders/create", load_fixture("webhooks/orders_create_guest.json"), shop)
    payload = WebhookEvent.objects.get().payload
    assert payload["id"] == 9007199254740995
    assert payload["line_items"][0]["product_id"] == 9007199254740999
    assert json.dumps(payload["id"]) == "9007199254740995"


def test_with_redis_stored_events_reach_the_queue_in_one_batch(post_webhook, shop, settings, monkeypatch):
    """Two Redis transactions per webhook are the intake's largest cost: a worker hands over its events in batches."""
    import os

    from shopapp import webhooks

    settings.REDIS_URL, settings.JOBS_INLINE, settings.WEBHOOK_BATCH_MAX_WAIT_MS = "redis://queue", False, 60_000
    dispatch = webhooks._Dispatch("test-dispatch")
    dispatch._owner_pid = os.getpid()  # as if its thread ran already: the test flushes by hand
    monkeypatch.setattr(webhooks, "_dispatch", dispatch)
    queued = []
    monkeypatch.setattr(webhooks, "enqueue", lambda func, *args: queued.append((func, args)))

    for n in range(3):
        assert post_webhook("test/recorded", {"n": n}, shop).status_code == 200
    assert queued == [] and WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).count() == 3
    dispatch.flush()
    [(func, (event_ids,))] = queued
    assert func is webhooks.webhook_events_process and len(event_ids) == 3

    webhooks.webhook_events_process(event_ids)
    assert sorted(n for _, n, _ in calls) == [0, 1, 2]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.DONE}


def test_a_batch_a_killed_worker_never_handed_over_is_redriven(post_webhook, shop, settings, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    import os
    from datetime import timedelta

    from django.utils import timezone

    from shopapp import webhooks

    settings.REDIS_URL, settings.JOBS_INLINE, settings.WEBHOOK_BATCH_MAX_WAIT_MS = "redis://queue", False, 60_000
    dispatch = webhooks._Dispatch("test-dispatch")
    dispatch._owner_pid = os.getpid()
    monkeypatch.setattr(webhooks, "_dispatch", dispatch)
    post_webhook("test/recorded", {"n": 7}, shop)  # stored; the worker dies before its batch is handed over
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=1))

    settings.REDIS_URL, settings.JOBS_INLINE = "", True  # the sweep's jobs run here
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_redrive() == 1
    assert calls == [(shop.domain, 7, "test/recorded")]


# --- out-of-order events wait for their order (#15.6) ---------------------------------

def _fulfilment(order_id: int) -> dict:
    return {"id": 5550001, "order_id": order_id, "status": "success", "created_at": "2026-11-23T09:00:00Z",
            "shipment_status": None, "line_items": []}


def test_fulfilment_before_its_order_waits_and_runs_when_the_order_arrives(post_webhook, shop):
    from shopapp.models import Order

    order = load_fixture("webhooks/orders_create.json")
    post_webhook("fulfillments/create", _fulfilment(order["id"]), shop)
    waiting = WebhookEvent.objects.get(topic="fulfillments/create")
    assert (waiting.status, waiting.attempts, waiting.awaits_order_id) == (WebhookEvent.Status.WAITING, 0, order["id"])

    post_webhook("orders/create", order, shop)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (WebhookEvent.Status.DONE, 1)
    assert Order.objects.get(shop=shop).fulfilled_at is not None


def test_a_waiting_event_spends_no_attempts_however_often_the_sweep_runs(post_webhook, shop, settings,
                                                                         django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    post_webhook("fulfillments/create", _fulfilment(42), shop)
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(hours=3))
    for _ in range(settings.WEBHOOK_MAX_ATTEMPTS + 2):
        with django_capture_on_commit_callbacks(execute=True):
            webhook_events_redrive()
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEvent.Status.WAITING, 0)


def test_an_order_of_another_shop_with_the_same_id_wakes_nothing(post_webhook, shop, other_shop):
    order = load_fixture("webhooks/orders_create.json")
    post_webhook("fulfillments/create", _fulfilment(order["id"]), shop)
    post_webhook("orders/create", order, other_shop)
    assert WebhookEvent.objects.get(topic="fulfillments/create").status == WebhookEvent.Status.WAITING


def _shopify_order(order_id: int) -> dict:
    return {
        "legacyResourceId": str(order_id), "name": "#1042", "createdAt": "2026-11-20T08:00:00Z", "cancelledAt": None,
        "email": "maya.r@example.com", "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "UNFULFILLED",
        "discountCodes": [],
        "totalPriceSet": {"shopMoney": {"amount": "42.00", "currencyCode": "USD"},
                          "presentmentMoney": {"amount": "39.00", "currencyCode": "EUR"}},
        "customer": {"legacyResourceId": "9007199254740993", "email": "maya.r@example.com", "firstName": "Maya",
                     "lastName": "R."},
        "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/9007199254741001", "title": "Trail Mug", "quantity": 2,
                                 "product": {"legacyResourceId": "9007199254740999"}}]},
    }


def test_an_order_still_missing_after_a_while_is_fetched_from_shopify_and_the_event_runs(
        post_webhook, shop, fake_shopify, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from shopapp.models import Order
    from shopapp.order_fetch import awaited_orders_fetch

    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["order"] = lambda v: _shopify_order(int(v["id"].rsplit("/", 1)[-1]))
    post_webhook("fulfillments/create", _fulfilment(9007199254741777), shop)

    assert awaited_orders_fetch() == 0 and fake_shopify.calls_to("order") == []  # not waited long enough yet
    WebhookEvent.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert awaited_orders_fetch() == 1
    [call] = fake_shopify.calls_to("order")
    assert call["variables"] == {"id": "gid://shopify/Order/9007199254741777"}
    order = Order.objects.get(shop=shop, shopify_id=9007199254741777)
    assert (order.total, order.customer.email, order.lines.get().quantity) == (Decimal("42.00"), "maya.r@example.com", 2)
    assert order.fulfilled_at is not None  # the fulfilment that waited has run
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.DONE


def test_an_order_shopify_does_not_have_fails_the_event_visibly_after_the_longest_wait(
        post_webhook, shop, fake_shopify, settings):
    from datetime import timedelta

    from django.utils import timezone

    from shopapp.order_fetch import awaited_orders_fetch

    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["order"] = lambda v: None
    post_webhook("fulfillments/create", _fulfilment(77), shop)
    WebhookEvent.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    awaited_orders_fetch()
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.WAITING  # Shopify may still be catching up

    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(seconds=settings.WEBHOOK_AWAIT_GIVE_UP_SECONDS + 1))
    awaited_orders_fetch()
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED and "never arrived" in event.last_error


# --- the sweep queues each event at most once (#15.8) -----------------------------------

def test_the_sweep_queues_an_event_at_most_once_until_the_hold_ends(shop, monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    from shopapp import jobs

    queued = []
    monkeypatch.setattr(jobs, "_dispatch", lambda func, args: queued.append(args))
    event = WebhookEvent.objects.create(shop_domain=shop.domain, topic="test/recorded", event_key="slow",
                                        payload={"n": 1}, received_at=timezone.now() - timedelta(minutes=5))
    for _ in range(5):  # a backlog: the job waits in the queue while the sweep keeps running
        webhook_events_redrive()
    assert queued == [(event.pk,)]

    WebhookEvent.objects.update(queued_at=timezone.now() - timedelta(seconds=settings.JOB_QUEUED_HOLD_SECONDS + 1))
    webhook_events_redrive()  # the job was lost (Redis flushed): queued again once the hold is over
    assert queued == [(event.pk,), (event.pk,)]


def test_an_event_the_intake_handed_to_the_queue_is_not_queued_again_by_the_sweep(post_webhook, shop, settings,
                                                                                   monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from shopapp import jobs, webhooks

    monkeypatch.setattr(webhooks, "enqueue", lambda func, *args: None)  # handed over; the worker is busy
    post_webhook("test/recorded", {"n": 1}, shop)
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    queued = []
    monkeypatch.setattr(jobs, "_dispatch", lambda func, args: queued.append(args))
    assert webhook_events_redrive() == 0 and queued == []


def test_when_redis_refuses_the_jobs_the_next_sweep_queues_them_again(shop, monkeypatch):
    from datetime import timedelta

    import redis
    from django.utils import timezone

    from shopapp import jobs

    WebhookEvent.objects.create(shop_domain=shop.domain, topic="test/recorded", event_key="down",
                                payload={"n": 1}, received_at=timezone.now() - timedelta(minutes=5))

    def refuse(func, args):
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(jobs, "_dispatch", refuse)
    with pytest.raises(redis.exceptions.ConnectionError):
        webhook_events_redrive()
    assert WebhookEvent.objects.get().queued_at is None  # no mark: not left waiting out the hold
    queued = []
    monkeypatch.setattr(jobs, "_dispatch", lambda func, args: queued.append(args))
    assert webhook_events_redrive() == 1


# --- a killed worker holds an event only for a short lease (#15.9) ----------------------

def test_a_killed_workers_event_is_taken_back_after_the_short_lease(shop, settings, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    event = WebhookEvent.objects.create(  # claimed by a worker that was then killed
        shop_domain=shop.domain, topic="test/recorded", event_key="orphan", payload={"n": 5}, attempts=1,
        status=WebhookEvent.Status.PROCESSING, started_at=now, received_at=now,
        lease_until=now + timedelta(seconds=settings.JOB_LEASE_SECONDS))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_redrive() == 0  # its lease still runs
    WebhookEvent.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # a minute later, not ten
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_redrive() == 1
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEvent.Status.DONE, 2)
    assert calls == [(shop.domain, 5, "test/recorded")]


def test_a_second_claimer_cannot_take_an_event_whose_lease_runs(shop):
    from datetime import timedelta

    from django.utils import timezone

    from shopapp.webhooks import webhook_event_process

    now = timezone.now()
    WebhookEvent.objects.create(
        shop_domain=shop.domain, topic="test/recorded", event_key="held", payload={"n": 5}, attempts=1,
        status=WebhookEvent.Status.PROCESSING, started_at=now, received_at=now, lease_until=now + timedelta(seconds=60))
    webhook_event_process(WebhookEvent.objects.get().pk)
    assert calls == [] and WebhookEvent.objects.get().attempts == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_one_event_at_once_even_past_its_lease(settings):
    """A live worker's job outlasts its lease; a second worker (the sweep re-drove it) must not run it too."""
    import threading

    from django.utils import timezone

    from shopapp.registry import register_webhook_handler
    from shopapp.webhooks import webhook_event_process
    from tests.conftest import _make_shop

    if connection.vendor != "postgresql":
        pytest.skip("row locks between two connections need PostgreSQL (SQLite serialises writers)")
    settings.JOB_LEASE_SECONDS = 0  # the lease has run out by the time the handler is running
    shop = _make_shop("owner-shop.myshopify.com")
    inside, release, runs = threading.Event(), threading.Event(), []

    def slow(shop, payload, event):
        runs.append(event.pk)
        inside.set()
        assert release.wait(10)

    register_webhook_handler("test/slow", slow, order=0)
    event = WebhookEvent.objects.create(shop_domain=shop.domain, topic="test/slow", event_key="slow", payload={})

    def worker():
        try:
            webhook_event_process(event.pk)
        finally:
            connection.close()  # this thread's own connection

    first = threading.Thread(target=worker)
    first.start()
    assert inside.wait(10)
    assert WebhookEvent.objects.get(pk=event.pk).lease_until < timezone.now()
    assert webhook_events_redrive() == 0  # the sweep skips a row a live worker holds
    second = threading.Thread(target=worker)  # a duplicate job runs anyway
    second.start()
    second.join(0.5)
    release.set()
    first.join(10)
    second.join(10)
    event.refresh_from_db()
    assert runs == [event.pk]
    assert (event.status, event.attempts) == (WebhookEvent.Status.DONE, 1)


def test_an_event_whose_worker_died_on_every_attempt_fails_visibly(shop, settings, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from shopapp import jobs

    queued = []
    monkeypatch.setattr(jobs, "_dispatch", lambda func, args: queued.append(args))
    now = timezone.now()
    WebhookEvent.objects.create(
        shop_domain=shop.domain, topic="test/recorded", event_key="poison", payload={"n": 1},
        attempts=settings.WEBHOOK_MAX_ATTEMPTS, status=WebhookEvent.Status.PROCESSING, started_at=now,
        received_at=now, lease_until=now - timedelta(seconds=1))
    assert webhook_events_redrive() == 0 and queued == []
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED and "stopped during each" in event.last_error
