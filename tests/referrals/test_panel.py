from __future__ import annotations

import re
from decimal import Decimal

import pytest

from referrals.figures import program_figures, top_advocates
from referrals.models import Advocate, Click, ProgramSettings, Referral
from shopapp.dashboard import Period
from shopapp.registry import onboarding_steps, panel_nav
from tests.referrals.helpers import customer, discount_created, order

pytestmark = pytest.mark.django_db


def _post(client, make_session_token, shop, path, data):
    return client.post(f"{path}?id_token={make_session_token(shop.domain)}", data)


def _advocate(shop, name="Maya", code=None, **fields) -> Advocate:
    return Advocate.objects.create(shop=shop, customer=customer(shop, first_name=name),
                                   code=code or f"{name.upper()}-{Advocate.objects.count() + 2:04d}", **fields)


def _referral(advocate, *, status=Referral.Status.PENDING, total="80.00", reward="10.00", via=Referral.Via.CODE,
              reasons=(), friend_name="Sam") -> Referral:
    shop = advocate.shop
    friend = customer(shop, first_name=friend_name)
    return Referral.objects.create(
        shop=shop, advocate=advocate, order=order(shop, friend, total=total), friend=friend, via=via, status=status,
        fraud_reasons=[{"rule": r, "reason": text} for r, text in reasons], order_total=Decimal(total),
        reward_amount=Decimal(reward), currency=shop.currency,
    )


def _click(advocate, own=False):
    return Click.objects.create(shop=advocate.shop, advocate=advocate, ip_hash="x" * 32, own=own)


@pytest.fixture
def program(shop):
    maya, leo = _advocate(shop, "Maya"), _advocate(shop, "Leo")
    for _ in range(6):
        _click(maya)
    _click(leo)
    _click(maya, own=True)  # the advocate's own visits are not clicks from friends
    rows = [
        _referral(maya, total="100.00", reward="10.00"),
        _referral(maya, status=Referral.Status.ISSUED, total="50.00", reward="10.00", via=Referral.Via.LINK),
        _referral(maya, status=Referral.Status.VOID, total="70.00", reward="10.00"),
        _referral(leo, status=Referral.Status.FLAGGED, total="40.00", reward="5.00", friend_name="Zed", reasons=[
            ("self_referral", "Self-referral: same email address as the advocate (after normalising)."),
            ("coupon_site", "The friend arrived from a coupon site (retailmenot.com)."),
        ]),
    ]
    return {"maya": maya, "leo": leo, "referrals": rows}


def test_list_shows_figures_referrals_fraud_reasons_and_top_advocates(panel_get, shop, program):
    page = panel_get("/app/referrals/", shop).content.decode()
    assert "Self-referral: same email address as the advocate (after normalising)." in page
    assert "The friend arrived from a coupon site (retailmenot.com)." in page
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd class=\"figure\">([^<]+)</dd>", page))
    assert figures["Clicks"] == "7"
    assert figures["Friend codes used"] == "3"
    assert figures["Referred orders"] == "4"
    assert figures["Conversion"] == "57.1%"
    assert figures["Referred revenue"] == "190.00 USD"  # the void order is not revenue
    assert figures["Rewards pending"] == "15.00 USD"
    assert figures["Rewards issued (cost)"] == "10.00 USD"
    assert figures["Return on credit"] == "19.0×"
    top = page[page.index('id="top"'):]
    assert top.index("MAYA-") < top.index("LEO-")
    assert "1 flagged for your decision" in page


def test_figures_tie_out_with_the_list_they_summarise(panel_get, shop, program):
    listed = list(Referral.objects.for_shop(shop))
    figures = program_figures(shop, Period.last(shop, 30))
    counted = [r for r in listed if r.status not in (Referral.Status.VOID, Referral.Status.REJECTED)]
    assert figures.referred_orders == len(listed)
    assert figures.codes_used == sum(r.via == Referral.Via.CODE for r in listed)
    assert figures.referred_revenue == sum(r.order_total for r in counted)
    assert figures.rewards_pending == sum(r.reward_amount for r in listed if r.status in ("pending", "approved", "flagged"))
    assert figures.rewards_issued == sum(r.reward_amount for r in listed if r.status == "issued")
    assert figures.flagged == sum(r.status == "flagged" for r in listed)
    for status in ("pending", "issued", "void", "flagged"):
        page = panel_get(f"/app/referrals/?status={status}", shop).content.decode()
        assert page.count('class="status status-') == sum(r.status == status for r in listed)
    advocates = {a.code: a for a in top_advocates(shop)}
    maya = advocates[program["maya"].code]
    assert (maya.referred, maya.revenue, maya.earned) == (2, Decimal("150.00"), Decimal("10.00"))


def test_figures_leave_out_referrals_before_the_range(panel_get, shop, program):
    from django.utils import timezone

    Referral.objects.filter(pk=program["referrals"][0].pk).update(created_at=timezone.now() - timezone.timedelta(days=40))
    week = panel_get("/app/referrals/?range=30", shop).content.decode()
    assert re.search(r"<dt>Referred orders</dt><dd class=\"figure\">3<", week)
    every = panel_get("/app/referrals/?range=all", shop).content.decode()
    assert re.search(r"<dt>Referred orders</dt><dd class=\"figure\">4<", every)


def test_dashboard_charts_say_what_the_credit_bought(panel_get, shop, program):
    page = panel_get("/?range=30", shop).content.decode()
    assert "Each 1.00 USD of credit paid brought 19.00 USD of referred revenue" in page  # 190 for 10 paid
    assert "4 referred orders from 7 clicks: 57.1% converted" in page
    assert "190.00 USD in the last 30 days; best day" in page
    legend = re.search(r'Referred revenue and credit per day</h3>.*?<ul class="chart-legend">(.*?)</ul>', page).group(1)
    assert "Referred revenue" in legend and "Credit earned" in legend


def _grow(shop, n):
    advocate = _advocate(shop, f"Grow{n}")
    for i in range(n):
        _click(advocate)
        _referral(advocate, status=[Referral.Status.PENDING, Referral.Status.FLAGGED, Referral.Status.ISSUED][i % 3],
                  reasons=[("weekly_limit", "Too many.")] if i % 3 == 1 else ())


@pytest.mark.parametrize("path", ["/app/referrals/", "/"])
def test_panel_and_dashboard_queries_do_not_grow_with_the_data(panel_get, shop, path, django_assert_max_num_queries):
    _grow(shop, 3)
    panel_get(path, shop)  # the first visit creates each app's default settings
    with django_assert_max_num_queries(30) as small:
        panel_get(path, shop)
    _grow(shop, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        panel_get(path, shop)


def test_another_shops_referral_is_a_404_and_cannot_be_decided(panel_get, client, make_session_token, other_shop,
                                                              program):
    flagged = program["referrals"][3]
    assert panel_get(f"/app/referrals/{flagged.pk}/", other_shop).status_code == 404
    response = _post(client, make_session_token, other_shop, f"/app/referrals/{flagged.pk}/", {"decision": "approve"})
    assert response.status_code == 404
    assert Referral.objects.get(pk=flagged.pk).status == Referral.Status.FLAGGED
    assert "Zed" not in panel_get("/app/referrals/", other_shop).content.decode()


def test_detail_shows_each_rules_reason(panel_get, shop, program):
    page = panel_get(f"/app/referrals/{program['referrals'][3].pk}/", shop).content.decode()
    assert "Flagged by 2 rules." in page
    assert "Self-referral: same email address as the advocate (after normalising)." in page
    assert "self_referral" not in page  # the rule's code is for the database, not the merchant
    assert "Nothing is paid until you decide." in page  # still undecided


def test_merchant_approves_a_flagged_referral_back_into_the_hold(client, make_session_token, shop, program):
    flagged = program["referrals"][3]
    response = _post(client, make_session_token, shop, f"/app/referrals/{flagged.pk}/",
                     {"decision": "approve", "note": "Sisters, different homes"})
    body = response.content.decode()
    assert response.status_code == 200 and 'role="status"' in body and "Referral approved." in body
    flagged.refresh_from_db()
    assert flagged.status == Referral.Status.PENDING and flagged.decided_at is not None
    assert (flagged.decided_by, flagged.decision_note) == ("staff 42", "Sisters, different homes")
    assert "Decided by Staff member 42" in body and "Sisters, different homes" in body
    assert "Nothing is paid until you decide" not in body  # the state text follows the decision


def test_merchant_rejects_a_referral_and_a_second_submit_changes_nothing(client, make_session_token, shop, program):
    flagged = program["referrals"][3]
    body = _post(client, make_session_token, shop, f"/app/referrals/{flagged.pk}/", {"decision": "reject"}).content.decode()
    assert "Referral rejected." in body
    assert Referral.objects.get(pk=flagged.pk).status == Referral.Status.REJECTED
    again = _post(client, make_session_token, shop, f"/app/referrals/{flagged.pk}/", {"decision": "approve"})
    assert again.status_code == 409 and "This referral is already rejected." in again.content.decode()
    assert 'role="alert"' in again.content.decode()
    assert Referral.objects.get(pk=flagged.pk).status == Referral.Status.REJECTED


def test_bad_decision_is_refused_and_changes_nothing(client, make_session_token, shop, program):
    flagged = program["referrals"][3]
    response = _post(client, make_session_token, shop, f"/app/referrals/{flagged.pk}/", {"decision": "pay-twice"})
    assert response.status_code == 400 and "Nothing was changed" in response.content.decode()
    assert Referral.objects.get(pk=flagged.pk).status == Referral.Status.FLAGGED


def test_list_paginates_and_has_an_empty_state(panel_get, shop):
    assert "No referred orders yet" in panel_get("/app/referrals/", shop).content.decode()
    advocate = _advocate(shop)
    for _ in range(27):
        _referral(advocate)
    first = panel_get("/app/referrals/", shop).content.decode()
    assert "Page 1 of 2" in first and first.count('class="status status-') == 25
    assert panel_get("/app/referrals/?page=2", shop).content.decode().count('class="status status-') == 2
    assert "No referrals match these filters" in panel_get("/app/referrals/?status=issued", shop).content.decode()


def test_nav_badge_counts_flagged_referrals(shop, program):
    item = next(i for i in panel_nav(shop) if i["key"] == "referrals")
    assert (item["label"], item["path"], item["badge"]) == ("Referrals", "/app/referrals/", 1)


SETTINGS = {
    "enabled": "on", "friend_offer_kind": "percent", "friend_offer_value": "20", "friend_minimum_subtotal": "0",
    "friend_first_order_only": "on", "reward_kind": "fixed", "reward_value": "15", "reward_cap": "",
    "hold_days": "30", "monthly_cap": "100", "weekly_referral_limit": "5", "landing_text": "Tea for friends.",
}


def test_saving_settings_marks_the_onboarding_step_done(client, make_session_token, shop):
    step = lambda: next(s for s in onboarding_steps(shop) if s["key"] == "referral-offer")  # noqa: E731
    assert step()["done"] is False
    response = _post(client, make_session_token, shop, "/app/referrals/settings/", SETTINGS)
    assert response.status_code == 200 and "Referral settings saved." in response.content.decode()
    program = ProgramSettings.objects.get(shop=shop)
    assert (program.friend_offer_value, program.reward_value, program.monthly_cap) == (20, 15, 100)
    assert program.landing_text == "Tea for friends." and program.saved_at is not None
    assert step()["done"] is True
    assert "Friends currently get <strong>20% off your first order</strong>" in response.content.decode()


@pytest.mark.parametrize("changes, field, message", [
    ({"friend_offer_value": "120"}, "friend_offer_value", "A percent discount can be at most 100."),
    ({"friend_offer_kind": "fixed", "friend_offer_value": "30", "friend_minimum_subtotal": "25"},
     "friend_offer_value", "A fixed discount must be less than the minimum subtotal."),
    ({"reward_kind": "percent", "reward_value": "10", "reward_cap": ""}, "reward_cap",
     "Set the largest reward for a percent reward."),
    ({"hold_days": "400"}, "hold_days", "less than or equal to 365"),
    ({"friend_offer_value": "-5"}, "friend_offer_value", "greater than or equal to 0.01"),
    ({"friend_offer_value": "ten"}, "friend_offer_value", "Enter a number."),
])
def test_invalid_settings_show_the_error_by_the_field_and_keep_what_was_typed(
        client, make_session_token, shop, changes, field, message):
    ProgramSettings.for_shop(shop)
    response = _post(client, make_session_token, shop, "/app/referrals/settings/",
                     {**SETTINGS, "landing_text": "Typed & kept", **changes})
    body = response.content.decode()
    assert response.status_code == 400 and "Nothing was saved" in body
    error = re.search(rf'<p class="error" id="id_{field}-error">([^<]+)</p>', body)
    assert error and message in error.group(1).replace("&quot;", '"')
    assert "Typed &amp; kept</textarea>" in body
    assert f'value="{changes[field]}"' in body if field != "reward_cap" else True
    program = ProgramSettings.objects.get(shop=shop)
    assert program.saved_at is None and program.landing_text == ""


def test_changing_the_friend_offer_updates_every_created_code_in_shopify(
        client, make_session_token, shop, fake_shopify, django_capture_on_commit_callbacks):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)
    fake_shopify.responders["discountCodeBasicUpdate"] = discount_created
    made = _advocate(shop, "Maya", code_state=Advocate.CodeState.CREATED, discount_gid="gid://shopify/DiscountCodeNode/1")
    _advocate(shop, "Leo", code_state=Advocate.CodeState.PENDING)  # created later from the new settings
    ProgramSettings.for_shop(shop)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, make_session_token, shop, "/app/referrals/settings/",
                         {**SETTINGS, "friend_offer_kind": "fixed", "friend_offer_value": "12.50"})
    assert "Updating the friend discount on 1 advocate code in Shopify." in response.content.decode()
    calls = fake_shopify.calls_to("discountCodeBasicUpdate")
    assert len(calls) == 1
    variables = calls[0]["variables"]
    assert variables["id"] == made.discount_gid and variables["input"]["code"] == made.code
    assert variables["input"]["customerGets"]["value"] == {"discountAmount": {"amount": "12.50", "appliesOnEachItem": False}}
    assert variables["input"]["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": None}}
    assert "startsAt" not in variables["input"]
    # Saving again without touching the offer calls Shopify no more.
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, make_session_token, shop, "/app/referrals/settings/",
              {**SETTINGS, "friend_offer_kind": "fixed", "friend_offer_value": "12.50", "landing_text": "New words"})
    assert len(fake_shopify.calls_to("discountCodeBasicUpdate")) == 1


def test_dashboard_shows_the_referral_funnel_and_revenue_against_cost(panel_get, shop, program):
    page = panel_get("/", shop).content.decode()
    section = page[page.index('id="s-referrals"'):]
    assert "Referral funnel" in section and "Friend codes used" in section
    assert "Referred revenue and credit cost" in section
    assert "190.00 USD" in section and "10.00 USD" in section



def test_a_held_referral_can_be_rejected_but_not_approved_again(panel_get, client, make_session_token, shop, program):
    held = program["referrals"][0]
    page = panel_get(f"/app/referrals/{held.pk}/", shop).content.decode()
    assert ">Reject<" in page and ">Approve<" not in page
    assert "No rule fired" in page
    body = _post(client, make_session_token, shop, f"/app/referrals/{held.pk}/", {"decision": "reject"}).content.decode()
    assert "Referral rejected." in body and ">Reject<" not in body
    assert Referral.objects.get(pk=held.pk).status == Referral.Status.REJECTED
    issued = program["referrals"][1]
    assert ">Reject<" not in panel_get(f"/app/referrals/{issued.pk}/", shop).content.decode()


def test_a_fraud_reason_reads_in_the_staff_members_language_with_its_values(shop):
    from django.utils import translation

    from referrals.fraud import WEEKLY_LIMIT, fraud_reason_shown

    flag = {"rule": "weekly_limit", "reason": WEEKLY_LIMIT % {"limit": 3}}
    assert flag["reason"] == "More than 3 referrals from this advocate in a week."
    with translation.override("en"):
        assert fraud_reason_shown(flag) == flag["reason"]
    with translation.override("de"):
        shown = fraud_reason_shown(flag)
    assert "3" in shown and shown != flag["reason"]
    # A reason stored before its words were kept shows as it was.
    assert fraud_reason_shown({"rule": "x", "reason": "Something old."}) == "Something old."
