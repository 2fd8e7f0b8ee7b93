"""Every page family names Advocate's icon, and the icon is there to serve."""
from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import get_template

BASES = ["shopapp/landing.html", "shopapp/panel_base.html", "shopapp/shopper_base.html"]


@pytest.mark.parametrize("template", BASES)
def test_each_base_template_links_the_icon(template):
    source = get_template(template).template.source
    # Shopper pages use {% asset %}: through the app proxy it addresses Advocate, not the shop's domain.
    tag = "asset" if template == "shopapp/shopper_base.html" else "static"
    assert f'<link rel="icon" href="{{% {tag} \'shopapp/favicon.svg\' %}}"' in source


def test_the_icon_exists_and_is_an_svg():
    path = finders.find("shopapp/favicon.svg")
    assert path is not None
    assert open(path, encoding="utf-8").read().startswith("<svg")


def test_the_install_page_serves_with_the_icon(client):
    assert 'rel="icon"' in client.get("/install").content.decode()


def test_through_the_app_proxy_a_shopper_page_loads_its_files_from_advocate(client, shop, settings):
    """On the shop's domain a relative /static/ names the shop's files: they must come from Advocate."""
    from reviews.services import review_create
    from tests.shopapp.test_proxy import signed_proxy_query

    review = review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=4, body="Fine.")
    proxied = client.get(f"/proxy/reviews/report/{review.pk}?{signed_proxy_query(shop.domain)}").content.decode()
    assert f'href="{settings.APP_URL}/static/shopapp/shopper.css"' in proxied
    assert f'href="{settings.APP_URL}/static/reviews/form.css"' in proxied
    assert 'href="/static/' not in proxied
