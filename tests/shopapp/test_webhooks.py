from __future__ import annotations

import json

import pytest
from django.db import connection

from shopapp.models import WebhookEvent
from shopapp.webhooks import webhook_events_redrive, webhook_handler
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db

calls: list[tuple] = []


@webhook_handler("test/recorded")
def _record(shop, payload, event):
    if payload.get("explode"):
        raise RuntimeError("handler blew up")
    calls.append((shop.domain if shop else None, payload["n"], event.topic))


@pytest.fixture(autouse=True)
def _reset_calls():
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

    settings.REDIS_URL, settings.JOBS_INLINE, settings.WEBHOOK_DISPATCH_MS = "redis://queue", False, 60_000
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

    settings.REDIS_URL, settings.JOBS_INLINE, settings.WEBHOOK_DISPATCH_MS = "redis://queue", False, 60_000
    dispatch = webhooks._Dispatch("test-dispatch")
    dispatch._owner_pid = os.getpid()
    monkeypatch.setattr(webhooks, "_dispatch", dispatch)
    post_webhook("test/recorded", {"n": 7}, shop)  # stored; the worker dies before its batch is handed over
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=1))

    settings.REDIS_URL, settings.JOBS_INLINE = "", True  # the sweep's jobs run here
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_events_redrive() == 1
    assert calls == [(shop.domain, 7, "test/recorded")]
