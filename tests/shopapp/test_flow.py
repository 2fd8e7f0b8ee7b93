"""Shopify Flow: each event reaches Flow once, an ambiguous answer is never resent blindly, a clear
failure is retried, an uninstall or a redaction stops what was not sent, and the "Pause Advocate
emails" action pauses exactly the customer Flow names, in the shop that signed it."""
from __future__ import annotations

import json
import re
import socket
import tomllib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from devstore import flow as devstore_flow
from shopapp import flow, shopify
from shopapp.flow import flow_trigger_queue, flow_trigger_send, flow_triggers_sweep
from shopapp.mail import marketing_blocked
from shopapp.models import Customer, EmailPause, FlowTrigger
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)
from tests.reviews.cases.conftest import make_review, run_jobs  # noqa: F401  (fixtures)

EXTENSIONS = Path(settings.BASE_DIR) / "extensions"


@pytest.fixture
def shop(db, devstore):  # noqa: F811
    return connected_shop(devstore)


def _sent(devstore, handle=None):  # noqa: F811
    return [r for r in devstore.flow_runs(DEMO) if handle is None or r["handle"] == handle]


def _activity(client, shop, make_session_token) -> str:
    return " ".join(client.get(f"/app/activity/?id_token={make_session_token(shop.domain)}").content.decode().split())


# --- the extensions, as Shopify CLI deploys them -------------------------------------------------

def _tomls(kind: str) -> dict[str, dict]:
    found = {}
    for path in EXTENSIONS.glob("advocate-flow-*/shopify.extension.toml"):
        config = tomllib.loads(path.read_text())
        [extension] = config["extensions"]
        if extension["type"] == kind:
            found[extension["handle"]] = {**extension, "fields": config["settings"]["fields"]}
    return found


def test_every_trigger_the_code_sends_is_an_extension_with_the_same_fields_and_types_and_no_other():
    assert flow.TRIGGERS == devstore_flow.triggers()
    assert set(flow.NAMES) == set(flow.TRIGGERS)
    for handle, extension in _tomls("flow_trigger").items():
        assert extension["name"] == flow.NAMES[handle]
        assert re.fullmatch(r"[a-z0-9-]{1,30}", handle) and extension["description"]
        for field in extension["fields"]:
            # Reference fields are named by Flow (customer_id, order_id); the others carry their key.
            assert ("key" in field) == (not field["type"].endswith("_reference")), (handle, field)


def test_the_pause_action_extension_calls_the_endpoint_with_the_fields_it_reads():
    [(handle, extension)] = _tomls("flow_action").items()
    assert handle == flow.PAUSE_ACTION == devstore_flow.action()["handle"]
    assert extension["runtime_url"].startswith("https://")
    assert extension["runtime_url"].endswith(reverse("flow-pause-emails"))
    fields = {f.get("key", f["type"]): f for f in extension["fields"]}
    assert fields["customer_reference"]["required"] and fields["days"]["type"] == "number_integer"
    assert set(fields) == {"customer_reference", "days"}


# --- triggers ------------------------------------------------------------------------------------

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
    with run_jobs():
        flow_triggers_sweep(now=timezone.now() + timedelta(days=1))
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
def test_an_answer_that_does_not_say_is_never_resent_blindly(shop, devstore, fault, run_jobs,  # noqa: F811
                                                            client, make_session_token):
    devstore.fault(DEMO, "flowTriggerReceive", fault)
    with run_jobs():
        row = flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:1",
                                 payload={"customer_id": 1, "Rating": 1, "Case number": 1})
    row.refresh_from_db()
    assert row.status == FlowTrigger.Status.UNCERTAIN and "no clear answer" in row.error
    with run_jobs():
        assert flow_triggers_sweep(now=timezone.now() + timedelta(days=1)) == 0
    assert len(_sent(devstore)) == (0 if fault == "fail_before" else 1)  # Flow got it at most once
    page = _activity(client, shop, make_session_token)
    assert "Case opened" in page and "Not known whether Flow got it" in page and "Send again" in page


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_connection_refused_is_retried_by_the_sweep_and_sent_once(shop, devstore, run_jobs):  # noqa: F811
    nowhere = shopify.UpstreamTransport(f"http://127.0.0.1:{_closed_port()}")
    shopify.set_http_client(httpx.Client(transport=nowhere, timeout=1))
    with run_jobs():
        row = flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:2",
                                 payload={"Rating": 2, "Case number": 2})
    row.refresh_from_db()
    assert row.status == FlowTrigger.Status.PENDING and row.next_at > timezone.now()
    assert "nothing was sent" in row.error
    shopify.set_http_client(None)  # Shopify is reachable again
    with run_jobs():
        assert flow_triggers_sweep() == 0  # not before its backoff
        assert flow_triggers_sweep(now=row.next_at + timedelta(seconds=1)) == 1
    assert FlowTrigger.objects.get(pk=row.pk).status == FlowTrigger.Status.SENT and len(_sent(devstore)) == 1


def test_a_refusal_is_retried_with_backoff_then_fails_where_the_merchant_sees_it(shop, devstore, run_jobs,  # noqa: F811
                                                                                client, make_session_token):
    # A trigger Shopify does not know (an extension not deployed yet, say): a userError each time.
    row = FlowTrigger.objects.create(shop=shop, key="x", handle="advocate-no-such-thing", payload={})
    assert flow_trigger_send(row.pk) == FlowTrigger.Status.PENDING
    row.refresh_from_db()
    assert "Shopify refused it" in row.error and "does not exist" in row.error
    assert "advocate-no-such-thing" not in _activity(client, shop, make_session_token)  # still being tried
    for _ in range(flow.MAX_ATTEMPTS):
        row.refresh_from_db()
        with run_jobs():
            flow_triggers_sweep(now=row.next_at + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.status == FlowTrigger.Status.FAILED and row.attempts == flow.MAX_ATTEMPTS
    assert "gave up after 8 tries" in row.error
    assert "gave up after 8 tries" in _activity(client, shop, make_session_token)
    assert _sent(devstore) == []


def test_a_worker_that_died_mid_send_leaves_it_uncertain_and_the_merchant_may_send_it_again(  # noqa: F811
        shop, devstore, run_jobs, client, make_session_token):
    row = FlowTrigger.objects.create(shop=shop, key="case-opened:3", handle="advocate-case-opened",
                                     payload={"Case number": 3}, status=FlowTrigger.Status.SENDING,
                                     lease_until=timezone.now() - timedelta(minutes=1))
    with run_jobs():
        flow_triggers_sweep()
    row.refresh_from_db()
    assert row.status == FlowTrigger.Status.UNCERTAIN and _sent(devstore) == []
    page = _activity(client, shop, make_session_token)
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
    assert "Case opened" not in _activity(client, other_shop, make_session_token)


def test_after_an_uninstall_nothing_unsent_goes_out(shop, devstore):  # noqa: F811
    from shopapp.registry import run_uninstall_hooks

    row = flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:4", payload={})
    shop.uninstalled_at = timezone.now()
    shop.save()
    run_uninstall_hooks(shop)
    assert not FlowTrigger.objects.filter(pk=row.pk).exists()
    assert flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:5", payload={}) is None
    assert flow_trigger_send(row.pk) is None and _sent(devstore) == []


def test_a_shop_uninstalled_between_queueing_and_sending_sends_nothing(shop, devstore):  # noqa: F811
    row = flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="case-opened:6", payload={})
    type(shop).objects.filter(pk=shop.pk).update(uninstalled_at=timezone.now())  # the hooks have not run yet
    assert flow_trigger_send(row.pk) is None
    assert not FlowTrigger.objects.filter(pk=row.pk).exists() and _sent(devstore) == []


def test_a_redaction_drops_what_was_not_sent_about_the_customer(shop):
    from shopapp.registry import CustomerRef, customer_data_redact

    unsent = FlowTrigger.objects.create(shop=shop, key="a", handle="advocate-case-opened", payload={"customer_id": 77},
                                        customer_shopify_id=77)
    uncertain = FlowTrigger.objects.create(shop=shop, key="c", handle="advocate-case-opened",
                                           payload={"customer_id": 77}, customer_shopify_id=77,
                                           status=FlowTrigger.Status.UNCERTAIN)
    sent = FlowTrigger.objects.create(shop=shop, key="b", handle="advocate-case-opened", payload={"customer_id": 77},
                                      customer_shopify_id=77, status=FlowTrigger.Status.SENT)
    someone_else = FlowTrigger.objects.create(shop=shop, key="d", handle="advocate-case-opened",
                                              payload={"customer_id": 78}, customer_shopify_id=78)
    EmailPause.objects.create(shop=shop, customer_shopify_id=77, until=timezone.now() + timedelta(days=3),
                              action_run_id="run-1")
    customer_data_redact(shop, CustomerRef(shopify_id="77", email="", phone=""))
    assert set(FlowTrigger.objects.values_list("pk", flat=True)) == {sent.pk, someone_else.pk}
    assert not FlowTrigger.objects.filter(pk__in=[unsent.pk, uncertain.pk]).exists()
    assert FlowTrigger.objects.get(pk=sent.pk).payload == {"customer_id": 77}  # Shopify's id, nothing personal
    assert not EmailPause.objects.exists()


@pytest.mark.parametrize("payload,message", [
    ({"email": "x@example.com"}, "carries no field"),
    ({"Rating": "1"}, "is not a number_integer"),
    ({"customer_id": "gid://shopify/Customer/1"}, "is not a customer_reference"),
])
def test_a_payload_carries_only_the_declared_fields_with_their_types(shop, payload, message):
    with pytest.raises(ValueError, match=message):
        flow_trigger_queue(shop=shop, handle="advocate-case-opened", key="k", payload=payload)
    assert not FlowTrigger.objects.exists()


def test_money_goes_to_flow_as_a_number(shop, devstore, run_jobs):  # noqa: F811
    from decimal import Decimal

    with run_jobs():
        flow_trigger_queue(shop=shop, handle="advocate-reward-issued", key="reward-issued:1",
                           payload={"customer_id": 5, "Reward amount": Decimal("12.50"), "Currency": "USD",
                                    "Paid as": "store credit"})
    [run] = _sent(devstore)
    assert run["payload"]["Reward amount"] == 12.5


# --- the "Pause Advocate emails" action ----------------------------------------------------------

def _action(client, shop_domain, body: dict, *, secret=None, header_shop=None):
    from devstore.webhooks import sign

    raw = json.dumps(body).encode()
    return client.post("/flow/actions/pause-emails", raw, content_type="application/json",
                       HTTP_X_SHOPIFY_HMAC_SHA256=sign(raw, secret or settings.SHOPIFY_API_SECRET),
                       HTTP_X_SHOPIFY_SHOP_DOMAIN=header_shop or shop_domain)


def flow_action_as_devstore_runs_it(client, devstore, customer_id: int, *, days: int):  # noqa: F811
    """The request devstore sends when a workflow runs the pause action (as Flow signs it), through Django's client."""
    url, body, headers = devstore_flow.pause_action_request(devstore.store, DEMO, customer_id, days)
    return client.post(url.removeprefix(devstore.store.app_url), body, content_type=headers["Content-Type"],
                       HTTP_X_SHOPIFY_HMAC_SHA256=headers["X-Shopify-Hmac-SHA256"],
                       HTTP_X_SHOPIFY_SHOP_DOMAIN=headers["X-Shopify-Shop-Domain"])


def _body(domain, customer="gid://shopify/Customer/42", days=10, run="run-1"):
    return {"shop_id": "1", "shopify_domain": domain, "action_run_id": run, "handle": "advocate-pause-emails",
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


def test_the_action_as_devstore_signs_it_like_flow_pauses_a_customer_advocate_does_not_know_yet(client, shop,  # noqa: F811
                                                                                               devstore):
    liam = devstore.customer(DEMO, "liam.chen@example.com")
    answer = flow_action_as_devstore_runs_it(client, devstore, liam["id"], days=14)
    assert answer.status_code == 200, answer.content
    [pause] = EmailPause.objects.all()
    assert (pause.shop, pause.customer_shopify_id) == (shop, liam["id"])
    assert timedelta(days=13, hours=23) < pause.until - timezone.now() <= timedelta(days=14)
    # She orders later: Advocate matches her by her Shopify id.
    later = Customer.objects.create(shop=shop, shopify_id=liam["id"], email="liam.chen@example.com")
    assert "paused by a Shopify Flow workflow" in marketing_blocked(shop, later)


def test_a_forged_or_foreign_action_pauses_nobody_here(client, shop, other_shop, customer42):
    assert _action(client, shop.domain, _body(shop.domain), secret="not-the-app-secret").status_code == 401
    unsigned = client.post("/flow/actions/pause-emails", json.dumps(_body(shop.domain)), content_type="application/json",
                           HTTP_X_SHOPIFY_SHOP_DOMAIN=shop.domain)
    assert unsigned.status_code == 400
    # Another shop's signed run naming the same customer id pauses it there, not here.
    assert _action(client, other_shop.domain, _body(other_shop.domain, run="run-9")).status_code == 200
    assert marketing_blocked(shop, customer42) is None
    assert EmailPause.objects.get().shop == other_shop
    # A body naming this shop under another shop's header is refused.
    assert _action(client, shop.domain, _body(shop.domain, run="run-8"), header_shop=other_shop.domain).status_code == 400
    assert not EmailPause.objects.filter(shop=shop).exists()


def test_a_run_id_is_a_repeat_only_within_its_own_shop(client, shop, other_shop, customer42):
    assert _action(client, shop.domain, _body(shop.domain, days=5)).status_code == 200
    there = _action(client, other_shop.domain, _body(other_shop.domain, customer="gid://shopify/Customer/43", days=9))
    assert there.status_code == 200
    assert sorted(EmailPause.objects.values_list("shop__domain", "customer_shopify_id")) == sorted(
        [(shop.domain, 42), (other_shop.domain, 43)])


@pytest.mark.parametrize("body,message", [
    ({"customer": ""}, "customer_id must be"),
    ({"customer": "gid://shopify/Order/42"}, "customer_id must be"),
    ({"days": 0}, "days must be between 1 and 365"),
    ({"days": 366}, "days must be between 1 and 365"),
    ({"days": "soon"}, "days must be between 1 and 365"),
    ({"run": ""}, "action_run_id is missing"),
])
def test_bad_action_input_is_refused_clearly_and_changes_nothing(client, shop, body, message):
    answer = _action(client, shop.domain, _body(shop.domain, **body))
    assert answer.status_code == 422 and message in answer.json()["error"]
    assert not EmailPause.objects.exists()


def test_a_body_that_is_not_json_is_refused(client, shop):
    from devstore.webhooks import sign

    raw = b"days=30"
    answer = client.post("/flow/actions/pause-emails", raw, content_type="application/json",
                         HTTP_X_SHOPIFY_HMAC_SHA256=sign(raw, settings.SHOPIFY_API_SECRET),
                         HTTP_X_SHOPIFY_SHOP_DOMAIN=shop.domain)
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]


def test_the_action_for_an_uninstalled_or_unknown_shop_is_refused(client, shop):
    assert _action(client, "nobody.myshopify.com", _body("nobody.myshopify.com")).status_code == 404
    shop.uninstalled_at = timezone.now()
    shop.save()
    assert _action(client, shop.domain, _body(shop.domain)).status_code == 404
    assert not EmailPause.objects.exists()
