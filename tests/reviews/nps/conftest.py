"""NPS questions as shops switch them on, and the links customers click."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from reviews.nps.models import NpsSettings, NpsSurvey
from reviews.nps.services import nps_sweep

DAY = settings.ADVOCATE_DAY


@pytest.fixture(autouse=True)
def _rate_limits_counted_per_test():
    """The page's rate limit counts in the cache: each test starts from nothing."""
    cache.clear()
    yield
    cache.clear()


def nps_on(shop, mode=NpsSettings.Mode.IN_REQUEST, delay_days=7):
    config = NpsSettings.for_shop(shop)
    config.enabled, config.mode, config.delay_days = True, mode, delay_days
    config.save()
    return config


@pytest.fixture
def asked(fulfilled_order, shop):
    """An order whose own NPS email went out: returns its survey."""

    def make(target_shop=None, **kwargs):
        target_shop = target_shop or shop
        nps_on(target_shop, NpsSettings.Mode.OWN_EMAIL)
        order = fulfilled_order(target_shop, **kwargs)
        nps_sweep(now=order.fulfilled_at + 7 * DAY)
        survey = NpsSurvey.objects.get(order=order)
        assert survey.status == NpsSurvey.Status.SENT, survey.skip_reason
        return survey

    return make
