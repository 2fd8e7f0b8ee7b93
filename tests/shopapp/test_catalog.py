"""Products beside Advocate's emails and pages: read from Shopify once a day, never waited on by a
shopper's page, and only what a shopper can open (published, with a picture)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from shopapp import catalog
from shopapp.catalog import featured_products, featured_products_refresh, product_cards
from shopapp.models import ProductCard, Shop
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(devstore):  # noqa: F811
    catalog._asked.forget()
    return connected_shop(devstore)


def _product(devstore, title):  # noqa: F811
    return devstore.store.product(DEMO, title.lower().replace(" ", "-"))


def test_cards_are_read_once_and_kept_a_day(shop, devstore, monkeypatch):  # noqa: F811
    mug = _product(devstore, "Trail Mug")
    [card] = product_cards(shop, [mug["id"]]).values()
    assert (card.title, card.handle, str(card.price)) == ("Trail Mug", "trail-mug", "18.00")
    assert card.image_url.endswith(f"/shops/{DEMO}/images/trail-mug.jpg") and card.url.endswith("/products/trail-mug")
    asked = []
    monkeypatch.setattr(catalog.AdminClient, "query", lambda *a, **k: asked.append(a) or {})
    assert product_cards(shop, [mug["id"]])[mug["id"]].pk == card.pk and asked == []  # fresh: nothing asked
    ProductCard.objects.filter(pk=card.pk).update(refreshed_at=timezone.now() - timedelta(days=2))
    product_cards(shop, [mug["id"]])
    assert len(asked) == 1  # a day old: read again


def test_a_failed_read_gives_no_pictures_and_no_error(shop, devstore):  # noqa: F811
    devstore.fault(DEMO, "nodes", "fail_before", times=5)
    assert product_cards(shop, [_product(devstore, "Trail Mug")["id"]]) == {}


def test_best_sellers_are_refreshed_behind_the_page_and_shown_in_their_order(shop, devstore, settings,  # noqa: F811
                                                                             django_capture_on_commit_callbacks):
    beanie, pins = _product(devstore, "Merino Beanie"), _product(devstore, "Enamel Pin Set")
    devstore.place_order(DEMO, lines=[(beanie["id"], 5)])
    devstore.place_order(DEMO, lines=[(pins["id"], 3)])
    settings.JOBS_INLINE = True
    with django_capture_on_commit_callbacks(execute=True):
        assert featured_products(shop) == []  # never read: the page shows none and asks for them
    titles = [c.title for c in featured_products(shop, n=3)]
    assert titles[:2] == ["Merino Beanie", "Enamel Pin Set"] and len(titles) == 3
    assert "Gift Card" not in [c.title for c in ProductCard.objects.for_shop(shop)]


def test_an_unpublished_product_is_not_offered_to_a_friend(shop, devstore):  # noqa: F811
    _product(devstore, "Trail Mug")["status"] = "DRAFT"
    featured_products_refresh(shop.pk)
    assert "Trail Mug" not in [c.title for c in featured_products(shop, n=8)]


def test_the_page_asks_once_however_often_it_is_opened(shop, monkeypatch):
    queued = []
    monkeypatch.setattr(catalog, "enqueue", lambda func, *args: queued.append(args))
    for _ in range(5):
        featured_products(shop)
    assert queued == [(shop.pk,)]


def test_an_uninstalled_shop_is_not_asked(shop):
    Shop.objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())
    assert featured_products_refresh(shop.pk) == 0
