from __future__ import annotations

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from shopapp.ratelimit import client_network, rate_limited


@pytest.mark.parametrize("ip, network", [
    ("198.51.100.9", "198.51.100.9"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.9", "198.51.100.9"),
    ("fe80::1%eth0", "fe80::/64"),
    ("not an address", "not an address"),
    ("", ""),
])
def test_limits_count_ipv4_addresses_and_ipv6_64s(ip, network):
    assert client_network(ip) == network


def test_a_client_rotating_through_its_ipv6_64_shares_one_limit(settings):
    cache.clear()

    @rate_limited("rotate", limit=3, window=60)
    def view(request):
        return HttpResponse("ok")

    statuses = [view(RequestFactory().get("/", REMOTE_ADDR=f"2001:db8:a:b::{n:x}")).status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 429, 429]
    assert view(RequestFactory().get("/", REMOTE_ADDR="2001:db8:a:c::1")).status_code == 200
