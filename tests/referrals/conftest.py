from __future__ import annotations

import pytest

from tests.referrals.helpers import Segments


@pytest.fixture
def segments(fake_shopify) -> Segments:
    """The shop's customer segments in the fake Shopify (friend codes are limited to one by default)."""
    return Segments().install(fake_shopify)


@pytest.fixture(autouse=True)
def _fake_shopify_knows_segments(request):
    # Only when the test uses the fake: the devstore tests speak to the simulator instead.
    if "fake_shopify" in request.fixturenames:
        request.getfixturevalue("segments")
