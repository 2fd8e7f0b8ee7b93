"""Every page family names Advocate's icon, and the icon is there to serve."""
from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import get_template

BASES = ["shopapp/landing.html", "shopapp/panel_base.html", "shopapp/shopper_base.html"]


@pytest.mark.parametrize("template", BASES)
def test_each_base_template_links_the_icon(template):
    source = get_template(template).template.source
    assert '<link rel="icon" href="{% static \'shopapp/favicon.svg\' %}"' in source


def test_the_icon_exists_and_is_an_svg():
    path = finders.find("shopapp/favicon.svg")
    assert path is not None
    assert open(path, encoding="utf-8").read().startswith("<svg")


def test_the_install_page_serves_with_the_icon(client):
    assert 'rel="icon"' in client.get("/install").content.decode()
