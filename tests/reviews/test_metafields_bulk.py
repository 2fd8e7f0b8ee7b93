"""A resync of a large catalogue goes through one bulk mutation (stagedUploadsCreate +
bulkOperationRunMutation), settled by the bulk_operations/finish webhook or the sweep, with
Shopify's copy checked in devstore under each way that can go wrong."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews import metafields
from reviews.metafields import metafields_resync, product_metafields_sync
from reviews.models import ProductRating
from shopapp.bulk import bulk_mutation_start, bulk_settle, bulk_sweep
from shopapp.models import BulkOperation
from tests.money.conftest import DEMO, devstore  # noqa: F401  (the devstore fixture)
from tests.reviews.test_metafields import _in_shopify, _review, direct_writes, shop  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(shop, devstore, settings):  # noqa: F811
    """20 reviewed products, first synced once (definitions enabled); bulk from 10 products due."""
    settings.METAFIELDS_BULK_AT = 100
    ids = [devstore.store.product_create(DEMO, title=f"Mug {n}", price="10.00")["id"] for n in range(20)]
    for product_id in ids:
        _review(shop, product_id)
    metafields.definitions_ensure(shop, metafields.AdminClient(shop))
    settings.METAFIELDS_BULK_AT = 10
    return ids


def _bulk(devstore):  # noqa: F811
    from devstore.bulk import bulk_of

    return bulk_of(devstore.store)


def _all_synced(shop) -> bool:  # noqa: F811
    return all(r.synced_version == r.version for r in ProductRating.objects.filter(shop=shop))


def test_a_resync_of_many_products_is_one_bulk_mutation(shop, devstore, catalogue, direct_writes,  # noqa: F811
                                                        django_capture_on_commit_callbacks):
    assert metafields_resync(shop) == 20
    assert product_metafields_sync(shop.pk) == 0
    operation = BulkOperation.objects.get(shop=shop)
    assert operation.status == BulkOperation.Status.RUNNING and operation.lines == 3  # 8 + 8 + 4 products
    assert direct_writes == []
    _bulk(devstore).wait()
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_settle(operation.pk) == BulkOperation.Status.DONE
    assert _all_synced(shop) and direct_writes == []  # nothing was left for the ordinary sync
    assert all(_in_shopify(devstore, p, "reviews", "rating_count") == "1" for p in catalogue)
    assert bulk_settle(operation.pk) == BulkOperation.Status.DONE  # the webhook and the sweep both came: no harm


def test_reviews_changed_while_shopify_runs_it_are_written_after_it(shop, devstore, catalogue, direct_writes,  # noqa: F811
                                                                    django_capture_on_commit_callbacks, panel_get):
    hold = threading.Event()
    _bulk(devstore).switches[DEMO] = {"hold": hold}
    metafields_resync(shop)
    product_metafields_sync(shop.pk)
    first = catalogue[0]
    _review(shop, first, rating=2, display_name="Sam K.")  # after the file was uploaded
    assert product_metafields_sync(shop.pk) == 0 and direct_writes == []  # nothing beside a running bulk
    page = " ".join(panel_get("/app/reviews/settings/", shop).content.decode().split())
    assert "Shopify is writing 20 products in one bulk operation" in page
    hold.set()
    _bulk(devstore).wait()
    with django_capture_on_commit_callbacks(execute=True):
        bulk_settle(BulkOperation.objects.get(shop=shop).pk)
    # The bulk wrote the old first page of `first`; its newer version stayed due and went next.
    assert direct_writes == [3]
    assert _in_shopify(devstore, first, "reviews", "rating_count") == "2" and _all_synced(shop)


def test_an_unconfirmed_start_is_adopted_not_started_twice(shop, devstore, catalogue,  # noqa: F811
                                                          django_capture_on_commit_callbacks):
    metafields_resync(shop)
    devstore.fault(DEMO, "bulkOperationRunMutation", "fail_after")  # Shopify started it, then 504
    assert product_metafields_sync(shop.pk) == 0
    operation = BulkOperation.objects.get(shop=shop)
    assert operation.status == BulkOperation.Status.UNKNOWN and not operation.operation_id
    assert product_metafields_sync(shop.pk) == 0  # still open: nothing sent, nothing started again
    _bulk(devstore).wait()
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_settle(operation.pk) == BulkOperation.Status.DONE
    assert len(_bulk(devstore).operations(DEMO)) == 1 and _all_synced(shop)


def test_a_start_shopify_never_received_is_given_up_then_made_again(shop, devstore, catalogue,  # noqa: F811
                                                                    django_capture_on_commit_callbacks):
    metafields_resync(shop)
    devstore.fault(DEMO, "bulkOperationRunMutation", "fail_before")  # 503: nothing started
    product_metafields_sync(shop.pk)
    lost = BulkOperation.objects.get(shop=shop)
    assert bulk_settle(lost.pk) == BulkOperation.Status.UNKNOWN  # Shopify lists nothing yet: wait
    BulkOperation.objects.filter(pk=lost.pk).update(started_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_settle(lost.pk) == BulkOperation.Status.FAILED  # ...and its end starts the next
    again = BulkOperation.objects.exclude(pk=lost.pk).get(shop=shop)
    _bulk(devstore).wait()
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_settle(again.pk) == BulkOperation.Status.DONE
    assert _all_synced(shop)


def test_a_failed_operation_keeps_what_it_applied_and_the_rest_goes_the_ordinary_way(  # noqa: F811
        shop, devstore, catalogue, direct_writes, settings, django_capture_on_commit_callbacks):
    _bulk(devstore).switches[DEMO] = {"fail": True}  # one of the three lines runs
    metafields_resync(shop)
    product_metafields_sync(shop.pk)
    _bulk(devstore).wait()
    settings.METAFIELDS_BULK_AT = 50  # the 12 left go by metafieldsSet
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_settle(BulkOperation.objects.get(shop=shop).pk) == BulkOperation.Status.FAILED
    assert direct_writes == [24, 12] and _all_synced(shop)
    assert BulkOperation.objects.get(shop=shop).error.startswith("Shopify ended it FAILED")


def test_the_finish_webhook_settles_it_and_a_lost_one_is_made_up_by_the_sweep(  # noqa: F811
        shop, devstore, catalogue, post_webhook, django_capture_on_commit_callbacks):
    metafields_resync(shop)
    product_metafields_sync(shop.pk)
    operation = BulkOperation.objects.get(shop=shop)
    _bulk(devstore).wait()
    assert bulk_sweep() == 0  # too soon to ask: the webhook is expected
    response = post_webhook("bulk_operations/finish", {
        "admin_graphql_api_id": operation.operation_id, "status": "completed", "type": "mutation",
        "error_code": None, "created_at": "2026-12-03T10:00:00Z", "completed_at": "2026-12-03T10:00:05Z"}, shop)
    assert response.status_code == 200
    operation.refresh_from_db()
    assert operation.status == BulkOperation.Status.DONE and _all_synced(shop)

    # Another resync whose webhook never comes: the sweep asks after a while.
    metafields_resync(shop)
    product_metafields_sync(shop.pk)
    second = BulkOperation.objects.get(shop=shop, status=BulkOperation.Status.RUNNING)
    _bulk(devstore).wait()
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk_sweep(now=timezone.now() + timedelta(minutes=3)) == 1
    second.refresh_from_db()
    assert second.status == BulkOperation.Status.DONE and _all_synced(shop)


def test_one_bulk_mutation_per_shop_and_none_survives_an_uninstall(shop, devstore, catalogue):  # noqa: F811
    hold = threading.Event()
    _bulk(devstore).switches[DEMO] = {"hold": hold}
    metafields_resync(shop)
    product_metafields_sync(shop.pk)
    assert bulk_mutation_start(shop, purpose="other", mutation=metafields.METAFIELDS_SET, lines=[{}],
                               context={}) is None
    shop.uninstalled_at = timezone.now()
    shop.save(update_fields=["uninstalled_at"])
    hold.set()
    _bulk(devstore).wait()
    operation = BulkOperation.objects.get(shop=shop)
    assert bulk_settle(operation.pk) == BulkOperation.Status.FAILED and "uninstalled" in operation.__class__.objects.get(
        pk=operation.pk).error


def test_another_shops_finish_webhook_settles_nothing_here(shop, devstore, catalogue, other_shop,  # noqa: F811
                                                           post_webhook):
    metafields_resync(shop)
    product_metafields_sync(shop.pk)
    operation = BulkOperation.objects.get(shop=shop)
    _bulk(devstore).wait()
    response = post_webhook("bulk_operations/finish", {
        "admin_graphql_api_id": operation.operation_id, "status": "completed", "type": "mutation"}, other_shop)
    assert response.status_code == 200
    operation.refresh_from_db()
    assert operation.status == BulkOperation.Status.RUNNING and not _all_synced(shop)
