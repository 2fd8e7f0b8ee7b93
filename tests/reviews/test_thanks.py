"""The review thank-you page: a happy reviewer is offered their referral link, an unhappy one hears
the shop will be in touch; only the page's wording follows the rating."""
from __future__ import annotations

import pytest
from django.conf import settings

from referrals.models import Advocate, ProgramSettings
from reviews.models import Review
from reviews.requests import review_link
from shopapp.models import Customer
from tests.reviews.test_form import sent_request  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _post_and_thank(client, request, ratings: dict[str, int]) -> str:
    items = {i.title: i for i in request.items.all()}
    data = {}
    for title, rating in ratings.items():
        item = items[title]
        data.update({f"i{item.pk}-rating": str(rating), f"i{item.pk}-body": f"About the {title.lower()}, honestly.",
                     f"i{item.pk}-display_name": "Maya R."})
    path = review_link(request).removeprefix(settings.APP_URL)
    response = client.post(path, data)
    assert response.status_code == 302
    return " ".join(client.get(response["Location"]).content.decode().split())


@pytest.fixture
def advocate(shop):
    def make():
        customer = Customer.objects.get(shop=shop, shopify_id=9007199254740993)
        found, _ = Advocate.objects.update_or_create(shop=shop, customer=customer, defaults={
            "code": "MAYA-7K2Q", "code_state": Advocate.CodeState.CREATED})
        return found

    return make


def test_a_happy_reviewer_is_offered_their_link(client, sent_request, advocate):  # noqa: F811
    request = sent_request()
    advocate()
    page = _post_and_thank(client, request, {"Trail Mug": 5, "Camp Kettle": 4})
    assert "Know someone who'd like it too?" in page and "/apps/advocate/referrals/r/MAYA-7K2Q" in page
    assert "10% off their first order" in page and "will be in touch" not in page
    assert all(r.status == Review.Status.PUBLISHED for r in Review.objects.all())


def test_an_unhappy_reviewer_hears_from_the_shop_and_is_offered_nothing(client, sent_request, advocate):  # noqa: F811
    request = sent_request()
    advocate()
    page = _post_and_thank(client, request, {"Trail Mug": 5, "Camp Kettle": 1})
    assert "Someone from the shop will be in touch by email about your Camp Kettle" in page
    assert "MAYA-7K2Q" not in page  # one low rating here: no referral ask
    # ...and the review is published like any other: the rating changed only this page's words.
    assert Review.objects.get(product_title="Camp Kettle").status == Review.Status.PUBLISHED


@pytest.mark.parametrize("why", ["program off", "no code yet", "case open"])
def test_no_link_when_the_program_is_off_the_code_missing_or_marketing_paused(client, sent_request, advocate,  # noqa: F811
                                                                             shop, make_review_case, why):
    request = sent_request()
    found = advocate()
    if why == "program off":
        ProgramSettings.objects.update_or_create(shop=shop, defaults={"enabled": False})
    elif why == "no code yet":
        Advocate.objects.filter(pk=found.pk).update(code_state=Advocate.CodeState.PENDING)
    else:
        make_review_case(found.customer)
    page = _post_and_thank(client, request, {"Trail Mug": 5})
    assert "Know someone" not in page and "MAYA-7K2Q" not in page and "Thank you for your review" in page


@pytest.fixture
def make_review_case(shop):
    """An open case of an earlier review by the customer: marketing to them is paused."""
    from reviews.cases.models import Case
    from reviews.services import review_create

    def make(customer):
        earlier = review_create(shop=shop, product_id=77, product_title="Camp Stove", rating=1,
                                body="Stopped working on day two.", customer=customer)
        Case.objects.get_or_create(review=earlier, defaults={"shop": shop, "customer": customer, "reason": "rating",
                                                             "rating_at_open": 1})

    return make


def test_the_review_request_never_mentions_a_referral_reward(mailoutbox, sent_request):  # noqa: F811
    sent_request()
    words = " ".join(m.body + "".join(a[0] for a in m.alternatives) for m in mailoutbox).lower()
    # (The footer's "unsubscribe from review and referral emails" names a kind of email, not an offer.)
    assert "review" in words and not any(w in words for w in ("store credit", "your friends", "earn", "reward",
                                                                "referral link", "refer a friend"))
