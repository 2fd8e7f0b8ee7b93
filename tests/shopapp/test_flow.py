"""Shopify Flow: each event reaches Flow once, an ambiguous answer is never resent blindly, an
uninstall or a redaction stops what was not sent, and the "Pause Advocate emails" action pauses
exactly the customer Flow names, in the shop that signed it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from devstore import flow as devstore_flow
from shopapp import flow
from shopapp.flow import flow_trigger_queue, flow_trigger_send, flow_triggers_sweep
from shopapp.mail import marketing_blocked
from shopapp.models import Customer, EmailPause, FlowTrigger
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)
from tests.reviews.cases.conftest import make_review, run_jobs  # noqa: F401  (fixtures)


@pytest.fixture
def shop(db, devstore):  # noqa: F811
    return connected_shop(devstore)


def _sent(devstore, handle=None):  # noqa: F811
    return [r for r in devstore.flow_runs(DEMO) if handle is None or r["handle"] == handle]


def test_the_handles_in_code_are_the_trigger_extensions_with_the_same_fields():
    assert {h: set(f) for h, f in flow.TRIGGERS.items()} == devstore_flow.triggers()
    assert set(flow.NAMES) == set(flow.TRIGGERS)
    assert devstore_flow.action()["handle"] == flow.PAUSE_ACTION


def test_a_one_star_review_tells_flow_once_each_negative_review_case_opened_and_published(shop, devstore, make_review,  # noqa: F811
                                                                                        run_jobs):
    maya = devstore.customer(DEMO, "maya@example.com")
    review = make_review(1, shopify_id=maya["id"], email="maya@example.com")
    handles = sorted(r["handle"] for r in _sent(devstore))
    assert handles == ["advocate-case-opened", "advocate-negative-review", "advocate-review-published"]
    negative = _sent(devstore, "advocate-negative-review")[0]["payload"]
    assert negative == {"customer_id": maya["id"], "order_id": review.order_line.order.shopify_id, "Rating": 1,
                        "Product": "Trail Mug"}
    # The same events again (a follow-up retried, a job run twice): nothing more reaches Flow.
    from reviews.cases.services import on_review_saved
    from reviews.services import review_published_flow

    with run_jobs():
        on_review_saved(review, True)
        review_published_flow(review)
    for pk in FlowTrigger.objects.values_list("pk", flat=True):
        assert flow_trigger_send(pk) is None
    assert len(_sent(devstore)) == 3
    assert set(FlowTrigger.objects.values_list("status", flat=True)) == {"sent"}


def test_resolving_the_case_tells_flow_its_outcome(shop, devstore, make_review, run_jobs):  # noqa: F811
    from reviews.cases.models import Case
    from reviews.cases.services import case_transition

    review = make_review(1)
    case = Case.objects.get(review=review)
    with run_jobs():
        case_transition(case=case, to=Case.Status.RESOLVED, actor="staff 1")
    [ended] = _sent(devstore, "advocate-case-resolved")
    assert ended["payload"]["Outcome"] == "Resolved" and ended["payload"]["Case number"] == case.pk


@pytest.mark.parametrize("fault", ["fail_after", "reset_after", "fail_before"])
def test_an_answer_that_does_not_say_is_never_resent_blindly(shop, devstore, fault, run_jobs):  # noqa: F811
    devstore.fault(DEMO, "flowTriggerReceive", fault)
    with run_jobs():
        row = flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:1",
                                 payload={"customer_id": 1, "Rating": 1, "Case number": 1})
    row.refresh_from_db()
    assert row.status == FlowTrigger.Status.UNCERTAIN and "no clear answer" in row.error
    with run_jobs():
        assert flow_triggers_sweep(now=timezone.now() + timedelta(days=1)) == 0
    assert len(_sent(devstore)) == (0 if fault == "fail_before" else 1)  # Flow got it at most once


def test_a_refusal_before_anything_ran_is_retried_by_the_sweep(shop, devstore, run_jobs, monkeypatch):  # noqa: F811
    from shopapp.admin_api import AdminClient, ShopifyError

    real = AdminClient.mutate
    monkeypatch.setattr(AdminClient, "mutate", lambda *a, **k: (_ for _ in ()).throw(ShopifyError("HTTP 401")))
    with run_jobs():
        row = flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:2",
                                 payload={"Rating": 2, "Case number": 2})
    row.refresh_from_db()
    assert row.status == FlowTrigger.Status.PENDING and row.next_at > timezone.now()
    monkeypatch.setattr(AdminClient, "mutate", real)
    with run_jobs():
        assert flow_triggers_sweep() == 0  # not before its backoff
        assert flow_triggers_sweep(now=row.next_at + timedelta(seconds=1)) == 1
    assert FlowTrigger.objects.get(pk=row.pk).status == FlowTrigger.Status.SENT and len(_sent(devstore)) == 1


def test_a_worker_that_died_mid_send_leaves_it_uncertain_and_the_merchant_may_send_it_again(  # noqa: F811
        shop, devstore, run_jobs, client, make_session_token):
    row = FlowTrigger.objects.create(shop=shop, key="case-opened:3", handle="advocate-case-opened",
                                     payload={"Case number": 3}, status=FlowTrigger.Status.SENDING,
                                     lease_until=timezone.now() - timedelta(minutes=1))
    with run_jobs():
        flow_triggers_sweep()
    row.refresh_from_db()
    assert row.status == FlowTrigger.Status.UNCERTAIN and _sent(devstore) == []
    page = client.get(f"/app/activity/?id_token={make_session_token(shop.domain)}").content.decode()
    assert "Case opened" in page and "Send again" in page and "check the workflow" in page
    with run_jobs():
        resent = client.post(f"/app/activity/?id_token={make_session_token(shop.domain)}", {"trigger": row.pk})
    assert "Sent to Shopify Flow again." in resent.content.decode()
    assert FlowTrigger.objects.get(pk=row.pk).status == FlowTrigger.Status.SENT and len(_sent(devstore)) == 1


def test_another_shop_cannot_resend_this_shops_trigger(shop, other_shop, client, make_session_token):
    row = FlowTrigger.objects.create(shop=shop, key="k", handle="advocate-case-opened", payload={},
                                     status=FlowTrigger.Status.UNCERTAIN)
    refused = client.post(f"/app/activity/?id_token={make_session_token(other_shop.domain)}", {"trigger": row.pk})
    assert refused.status_code == 404 and FlowTrigger.objects.get(pk=row.pk).status == FlowTrigger.Status.UNCERTAIN


def test_an_unknown_trigger_is_refused_by_shopify_and_fails(shop, devstore):  # noqa: F811
    row = FlowTrigger.objects.create(shop=shop, key="x", handle="advocate-no-such-thing", payload={})
    assert flow_trigger_send(row.pk) == FlowTrigger.Status.FAILED
    assert "does not exist" in FlowTrigger.objects.get(pk=row.pk).error


def test_after_an_uninstall_nothing_unsent_goes_out(shop, devstore, run_jobs):  # noqa: F811
    from shopapp.registry import run_uninstall_hooks

    row = flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:4", payload={})
    shop.uninstalled_at = timezone.now()
    shop.save()
    run_uninstall_hooks(shop)
    assert not FlowTrigger.objects.filter(pk=row.pk).exists()
    assert flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:5", payload={}) is None
    assert flow_trigger_send(row.pk) is None and _sent(devstore) == []


def test_a_redaction_drops_what_was_not_sent_about_the_customer(shop):
    from shopapp.registry import CustomerRef, customer_data_redact

    unsent = FlowTrigger.objects.create(shop=shop, key="a", handle="advocate-case-opened", payload={"customer_id": 77},
                                        customer_shopify_id=77)
    sent = FlowTrigger.objects.create(shop=shop, key="b", handle="advocate-case-opened", payload={"customer_id": 77},
                                      customer_shopify_id=77, status=FlowTrigger.Status.SENT)
    EmailPause.objects.create(shop=shop, customer_shopify_id=77, until=timezone.now() + timedelta(days=3),
                              action_run_id="run-1")
    customer_data_redact(shop, CustomerRef(shopify_id="77", email="", phone=""))
    assert list(FlowTrigger.objects.values_list("pk", flat=True)) == [sent.pk]
    assert not EmailPause.objects.exists()


def test_payloads_carry_only_declared_fields():
    with pytest.raises(ValueError, match="carries no field"):
        flow.flow_trigger_queue(shop=None, handle="advocate-case-opened", key="k", payload={"email": "x@example.com"})


# --- the "Pause Advocate emails" action ----------------------------------------------------------

def _action(client, shop_domain, body: dict, *, secret=None, header_shop=None):
    from devstore.webhooks import sign
    from django.conf import settings

    raw = json.dumps(body).encode()
    return client.post("/flow/actions/pause-emails", raw, content_type="application/json",
                       HTTP_X_SHOPIFY_HMAC_SHA256=sign(raw, secret or settings.SHOPIFY_API_SECRET),
                       HTTP_X_SHOPIFY_SHOP_DOMAIN=header_shop or shop_domain)


def _body(domain, customer="gid://shopify/Customer/42", days=10, run="run-1"):
    return {"shop_id": 1, "shopify_domain": domain, "action_run_id": run, "handle": "advocate-pause-emails",
            "properties": {"customer_id": customer, "days": days}}


@pytest.fixture
def customer42(shop):
    return Customer.objects.create(shop=shop, shopify_id=42, email="pia@example.com", first_name="Pia")


def test_the_action_pauses_the_customers_emails_once_per_run(client, shop, customer42):
    assert marketing_blocked(shop, customer42) is None
    answer = _action(client, shop.domain, _body(shop.domain))
    assert answer.status_code == 200 and "paused_until" in answer.json()
    assert "paused by a Shopify Flow workflow" in marketing_blocked(shop, customer42)
    assert _action(client, shop.domain, _body(shop.domain)).status_code == 200  # Flow retried the run
    assert EmailPause.objects.count() == 1
    EmailPause.objects.update(until=timezone.now() - timedelta(seconds=1))
    assert marketing_blocked(shop, customer42) is None  # the pause ended


def test_a_forged_or_foreign_action_pauses_nobody_here(client, shop, other_shop, customer42):
    assert _action(client, shop.domain, _body(shop.domain), secret="not-the-app-secret").status_code == 401
    # Another shop's signed run naming the same customer id pauses it there, not here.
    assert _action(client, other_shop.domain, _body(other_shop.domain, run="run-9")).status_code == 200
    assert marketing_blocked(shop, customer42) is None
    # A body naming this shop under another shop's header is refused.
    assert _action(client, shop.domain, _body(shop.domain, run="run-8"), header_shop=other_shop.domain).status_code == 400
    assert not EmailPause.objects.filter(shop=shop).exists()


@pytest.mark.parametrize("body,message", [
    ({"customer": ""}, "customer_id must be"),
    ({"days": 0}, "days must be between 1 and 365"),
    ({"days": "soon"}, "days must be between 1 and 365"),
    ({"run": ""}, "action_run_id is missing"),
])
def test_bad_action_input_is_refused_clearly_and_changes_nothing(client, shop, body, message):
    answer = _action(client, shop.domain, _body(shop.domain, **body))
    assert answer.status_code == 422 and message in answer.json()["error"]
    assert not EmailPause.objects.exists()


def test_the_action_for_an_uninstalled_shop_is_refused(client, shop):
    shop.uninstalled_at = timezone.now()
    shop.save()
    assert _action(client, shop.domain, _body(shop.domain)).status_code == 404
