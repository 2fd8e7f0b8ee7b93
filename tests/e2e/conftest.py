from __future__ import annotations

import pytest

from tests.e2e.harness import start_stack


@pytest.fixture(scope="module")
def stack():
    """devstore and Advocate as real processes; one pair per test module."""
    running = start_stack()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def installed(stack):
    """demo-outfitters with Advocate installed through the admin (managed install)."""
    response = stack.store.install(DEMO)
    assert response.status_code == 200, response.text[:500]
    return stack


DEMO = "demo-outfitters.myshopify.com"
NORTH = "north-pole-goods.myshopify.com"
