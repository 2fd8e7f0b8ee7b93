"""Review incentives: the same single-use code for any rating, created once, emailed once."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from reviews.incentives import review_incentive_issue, review_incentives_sweep
from reviews.models import Review, ReviewIncentive, ReviewSettings
from reviews.requests import review_link
from tests.reviews.test_form import sent_request  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
DAY = settings.ADVOCATE_DAY
CREATED = {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/91"}, "userErrors": []}


@pytest.fixture
def shopify(fake_shopify, shop):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicCreate"] = lambda v: CREATED
    fake_shopify.responders["codeDiscountNodeByCode"] = lambda v: None
    return fake_shopify


def _incentives(shop, on=True, percent=15):
    config = ReviewSettings.for_shop(shop)
    config.incentive_enabled, config.incentive_percent = on, percent
    config.incentive_text = f"{percent}% off your next order" if on else ""
    config.save()


@pytest.fixture
def sent(sent_request):
    """A sent request for one product."""
    return lambda **kwargs: sent_request(products=((1, "Trail Mug"),), **kwargs)


def _review(client, request, rating: int, capture):
    [item] = request.items.all()
    with capture(execute=True):
        response = client.post(review_link(request).removeprefix(settings.APP_URL), {
            f"i{item.pk}-rating": str(rating), f"i{item.pk}-body": "Honest words about it.",
            f"i{item.pk}-display_name": "Maya R."})
    assert response.status_code == 302
    return Review.objects.get(request=request)


def _creates(shopify):
    """Our discountCodeBasicCreate calls (referrals make their own for the same orders)."""
    return [c for c in shopify.calls_to("discountCodeBasicCreate")
            if c["variables"]["input"]["code"].startswith("REVIEW-")]


def _ours(gid):
    """Shopify's lookup finding the discount Advocate made for that code (the title it derives)."""
    return lambda v: {"id": gid, "codeDiscount": {"title": f"Thank you for your review ({v['code']})"}}


def _code_emails():
    return [m for m in mail.outbox if "% code from" in m.subject]


def test_one_star_and_five_star_reviews_get_the_same_discount_once_each(
        client, shop, shopify, sent, django_capture_on_commit_callbacks):
    _incentives(shop)
    low = _review(client, sent(customer_id=11, email="low@example.com"), 1, django_capture_on_commit_callbacks)
    high = _review(client, sent(customer_id=12, email="high@example.com"), 5, django_capture_on_commit_callbacks)
    assert low.incentivized and high.incentivized
    calls = _creates(shopify)
    assert len(calls) == 2
    inputs = [c["variables"]["input"] for c in calls]
    for data, review in zip(inputs, (low, high)):
        assert data["code"] == review.incentive.code
        assert data["usageLimit"] == 1
        assert data["context"] == {"customers": {"add": [review.customer.gid]}}
    strip = lambda d: {k: v for k, v in d.items() if k not in ("code", "title", "startsAt", "context")}  # noqa: E731
    assert strip(inputs[0]) == strip(inputs[1])
    assert inputs[0]["customerGets"]["value"] == {"percentage": 0.15}
    assert {i.status for i in ReviewIncentive.objects.all()} == {ReviewIncentive.Status.CREATED}
    emails = _code_emails()
    assert sorted(m.to[0] for m in emails) == ["high@example.com", "low@example.com"]
    assert all("whatever their rating" in m.body and "15%" in m.subject for m in emails)
    assert low.incentive.code in next(m.body for m in emails if m.to == ["low@example.com"])


def test_job_run_twice_creates_one_code_and_one_email(client, shop, shopify, sent, django_capture_on_commit_callbacks):
    _incentives(shop)
    review = _review(client, sent(), 4, django_capture_on_commit_callbacks)
    review_incentive_issue(review.incentive.pk)
    review_incentives_sweep(now=review.created_at + 1 * DAY)
    assert len(_creates(shopify)) == 1
    assert len(_code_emails()) == 1
    assert ReviewIncentive.objects.count() == 1


def test_retry_adopts_the_code_an_earlier_lost_attempt_made(client, shop, shopify, sent,
                                                            django_capture_on_commit_callbacks):
    _incentives(shop)
    request = sent()
    shopify.script = ["503"]  # an ambiguous answer: the mutation is not resent, the job gives up for now
    review = _review(client, request, 2, django_capture_on_commit_callbacks)
    incentive = ReviewIncentive.objects.get()
    assert incentive.status == ReviewIncentive.Status.PENDING and incentive.attempts == 1
    # Meanwhile it turns out Shopify did make the code: the retry looks it up and adopts it.
    shopify.responders["codeDiscountNodeByCode"] = _ours("gid://shopify/DiscountCodeNode/5")
    tried = len(_creates(shopify))
    assert tried == 1  # sent once: a 503 may come after Shopify applied it
    assert review_incentives_sweep(now=review.created_at + 1 * DAY) == 1
    incentive.refresh_from_db()
    assert (incentive.status, incentive.discount_gid) == (ReviewIncentive.Status.CREATED,
                                                          "gid://shopify/DiscountCodeNode/5")
    assert len(_creates(shopify)) == tried  # adopted, not created again
    assert len(_code_emails()) == 1


def test_code_already_taken_in_shopify_is_adopted_not_doubled(client, shop, shopify, sent,
                                                             django_capture_on_commit_callbacks):
    _incentives(shop)
    shopify.responders["discountCodeBasicCreate"] = lambda v: {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount", "code"], "message": "Code must be unique.", "code": "TAKEN"}]}
    shopify.responders["codeDiscountNodeByCode"] = _ours("gid://shopify/DiscountCodeNode/8")
    _review(client, sent(), 3, django_capture_on_commit_callbacks)
    incentive = ReviewIncentive.objects.get()
    assert (incentive.status, incentive.discount_gid) == (ReviewIncentive.Status.CREATED,
                                                          "gid://shopify/DiscountCodeNode/8")


def test_code_taken_by_a_discount_that_is_not_ours_is_refused_not_adopted(client, shop, shopify, sent,
                                                                         django_capture_on_commit_callbacks):
    _incentives(shop)
    shopify.responders["discountCodeBasicCreate"] = lambda v: {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount", "code"], "message": "Code must be unique.", "code": "TAKEN"}]}
    shopify.responders["codeDiscountNodeByCode"] = lambda v: {
        "id": "gid://shopify/DiscountCodeNode/9", "codeDiscount": {"title": "Summer sale"}}
    _review(client, sent(), 3, django_capture_on_commit_callbacks)
    incentive = ReviewIncentive.objects.get()
    assert incentive.status == ReviewIncentive.Status.FAILED and incentive.discount_gid == ""
    assert "another discount" in incentive.error
    assert _code_emails() == []


def test_customer_without_email_gets_no_email_but_the_code_is_recorded(
        client, shop, shopify, sent, django_capture_on_commit_callbacks):
    _incentives(shop)
    request = sent()
    request.customer.email = ""  # the customer removed their address after the request went out
    request.customer.save()
    _review(client, request, 5, django_capture_on_commit_callbacks)
    incentive = ReviewIncentive.objects.get()
    assert incentive.status == ReviewIncentive.Status.CREATED and incentive.code.startswith("REVIEW-")
    assert incentive.emailed_at is None and _code_emails() == []
    assert review_incentives_sweep(now=incentive.created_at + 1 * DAY) == 0


def test_incentives_off_means_no_label_no_code_no_email(client, shop, shopify, sent,
                                                        django_capture_on_commit_callbacks):
    review = _review(client, sent(), 5, django_capture_on_commit_callbacks)
    assert not review.incentivized
    assert not ReviewIncentive.objects.exists()
    assert _creates(shopify) == [] and _code_emails() == []


def test_editing_a_review_never_earns_another_code(client, shop, shopify, sent, django_capture_on_commit_callbacks):
    _incentives(shop)
    request = sent()
    _review(client, request, 1, django_capture_on_commit_callbacks)
    _review(client, request, 5, django_capture_on_commit_callbacks)
    assert Review.objects.get().rating == 5
    assert ReviewIncentive.objects.count() == 1
    assert len(_creates(shopify)) == 1


def test_form_and_email_say_the_reward_is_the_same_whatever_the_rating(client, shop, sent):
    _incentives(shop)
    request = sent()
    page = client.get(review_link(request).removeprefix(settings.APP_URL)).content.decode()
    assert "15% off your next order — for any honest review, whatever its rating." in page
    [email] = [m for m in mail.outbox if m.to == ["maya.r@example.com"]]
    assert "15% off your next order (for any honest review, whatever its rating)" in email.body


def test_settings_save_the_percent_and_fill_in_the_default_text(client, shop, panel_get, make_session_token):
    from reviews.forms import RequestSettingsForm

    config = ReviewSettings.for_shop(shop)
    data = {f: getattr(config, f) for f in RequestSettingsForm.Meta.fields}
    data.update({"incentive_enabled": True, "incentive_percent": 20, "incentive_text": "", "logo_url": ""})
    form = RequestSettingsForm({k: v for k, v in data.items() if v not in (False, None)}, instance=config)
    assert form.is_valid(), form.errors
    form.save()
    config.refresh_from_db()
    assert (config.incentive_percent, config.incentive_text) == (20, "20% off your next order")
    data["incentive_percent"] = 0
    assert "incentive_percent" in RequestSettingsForm(data, instance=config).errors


def test_a_code_waits_for_a_dead_token_without_spending_its_attempts(client, shop, shopify, sent,
                                                                    django_capture_on_commit_callbacks):
    from reviews.incentives import MAX_ATTEMPTS
    from shopapp.models import Shop

    _incentives(shop)
    request = sent()
    Shop.objects.filter(pk=shop.pk).update(access_token="", refresh_token="")  # invalid_grant marked it dead
    review = _review(client, request, 4, django_capture_on_commit_callbacks)
    for day in range(1, MAX_ATTEMPTS + 2):
        review_incentives_sweep(now=review.created_at + day * DAY)
    incentive = ReviewIncentive.objects.get()
    assert (incentive.status, incentive.attempts) == (ReviewIncentive.Status.PENDING, 0)
    assert _creates(shopify) == []

    shopify.grant(shop.domain, "reconnected", "reconnected-refresh")
    Shop.objects.filter(pk=shop.pk).update(access_token="reconnected", refresh_token="reconnected-refresh")
    review_incentives_sweep(now=review.created_at + 30 * DAY)
    incentive.refresh_from_db()
    assert incentive.status == ReviewIncentive.Status.CREATED and len(_creates(shopify)) == 1
