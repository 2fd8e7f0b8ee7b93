"""Staff members by name: the panel's histories say who acted, as Shopify names them."""
from __future__ import annotations

import pytest
from django.test import Client

from reviews.cases.models import Case, CaseEvent
from shopapp.models import StaffMember
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(settings, devstore):  # noqa: F811
    settings.STAFF_NAMES_FROM_SHOPIFY = True
    return connected_shop(devstore)


def _case(shop):
    from reviews.services import review_create

    review = review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=1, body="Cracked on arrival.")
    return Case.objects.get_or_create(review=review, defaults={"shop": shop, "reason": "rating", "rating_at_open": 1})[0]


def test_a_staff_member_is_asked_about_once_and_shown_by_name(named, devstore):  # noqa: F811
    case = _case(named)
    client = Client()
    token = devstore.session_token(DEMO, staff=1)
    response = client.post(f"/app/cases/{case.pk}/?id_token={token}", {"action": "assign", "to": "me"})
    assert response.status_code in (200, 302)
    member = StaffMember.objects.get(shop=named)
    assert (member.name, member.email) == ("Sam Okafor", "sam@example.com")
    page = client.get(f"/app/cases/{case.pk}/?id_token={devstore.session_token(DEMO, staff=1)}").content.decode()
    assert "Sam Okafor" in page and f"staff {member.user_id}" not in page
    assert CaseEvent.objects.filter(case=case, actor=f"staff {member.user_id}").exists()  # histories keep the id
    asked = []
    from shopapp import staff

    real = staff.shopify_app
    staff.shopify_app = lambda: asked.append(1) or real()
    try:
        client.get(f"/app/cases/?id_token={devstore.session_token(DEMO, staff=1)}")
    finally:
        staff.shopify_app = real
    assert asked == []  # known: Shopify is not asked again


def test_when_shopify_cannot_say_the_panel_still_opens_and_shows_the_id(named, devstore, monkeypatch):  # noqa: F811
    from shopapp import staff

    monkeypatch.setattr(staff, "shopify_app", lambda: (_ for _ in ()).throw(OSError("connection reset")))
    case = _case(named)
    client = Client()
    response = client.post(f"/app/cases/{case.pk}/?id_token={devstore.session_token(DEMO, staff=2)}",
                           {"action": "assign", "to": "me"})
    assert response.status_code in (200, 302)
    member = StaffMember.objects.get(shop=named)
    assert member.name == ""
    page = client.get(f"/app/cases/{case.pk}/?id_token={devstore.session_token(DEMO, staff=2)}").content.decode()
    assert f"Staff member {member.user_id}" in page


def test_a_name_learned_in_one_shop_is_never_shown_in_another(named, other_shop):
    from shopapp.models import StaffMember
    from shopapp.staff import actor_label

    StaffMember.objects.create(shop=named, user_id="77", name="Sam Okafor")
    assert actor_label(named, "staff 77") == "Sam Okafor"
    assert actor_label(other_shop, "staff 77") == "Staff member 77"
