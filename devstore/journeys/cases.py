"""The cases journeys of the demo smoke run: `from devstore.demo import smoke_step, StepFailed, Demo, SHOP`.

The journey drives only what a person would: devstore's checkout and admin, the emails in
its mailbox, Advocate's panel (through the admin frame's session token) and the pages the
customer opens. tests/e2e/test_cases_journey.py runs the same journey and also reads the
database.
"""
from __future__ import annotations

import html
import re
import time
import uuid
from dataclasses import dataclass

import httpx

from devstore.demo import SHOP, Demo, StepFailed, _wait, smoke_step
from devstore.server import DevStore

REQUEST_SUBJECT = "How was your order"


@dataclass
class CaseJourney:
    email: str
    case_id: int
    code: str
    second_order_id: int
    second_fulfilled_at: float


def _mails_to(store: DevStore, email: str, needle: str = "") -> list[dict]:
    return [m for m in store.mailbox() if email in m["to"] and needle in m["subject"]]


def _link(message: dict, pattern: str) -> str:
    found = re.search(pattern, message["text"]) or re.search(pattern, html.unescape(message["html"] or ""))
    if not found:
        raise StepFailed(f"no link matching {pattern} in the email {message['subject']!r}")
    return found.group(0)


def _panel_post(store: DevStore, domain: str, path: str, data: dict) -> httpx.Response:
    response = httpx.post(store.app_url(domain, path), data=data, timeout=30)
    if response.status_code not in (200, 302):
        raise StepFailed(f"the panel answered {response.status_code} to {data.get('action')} on {path}")
    return response


def _panel_get(store: DevStore, domain: str, path: str, **params) -> str:
    return httpx.get(store.app_url(domain, path, **params), timeout=30).text


def case_journey(store: DevStore, domain: str = SHOP, *, request_delay: float = 20, timeout: float = 90) -> CaseJourney:
    """A 1-star review arrives, a case opens, the owner replies, the customer answers, a discount code
    is created in devstore, the case is resolved, and no review request reached the customer meanwhile."""
    email = f"nora.{uuid.uuid4().hex[:6]}@example.com"
    title = f"Cracked on arrival {uuid.uuid4().hex[:4]}"
    first = store.place_order(domain, lines=[("trail-mug", 1)], email=email, first_name="Nora", last_name="Quinn")
    second = store.place_order(domain, lines=[("merino-beanie", 1)], email=email, first_name="Nora", last_name="Quinn")
    store.fulfil(domain, first["id"])

    # 1. The review request arrives after the shop's delay; Nora gives one star.
    _wait(lambda: _mails_to(store, email, REQUEST_SUBJECT), "the review request email", timeout)
    link = _link(_mails_to(store, email, REQUEST_SUBJECT)[0], r"https?://[^\s\"'<>?]+/reviews/r/[^\s\"'<>?]+")
    form = httpx.get(link, timeout=30).text
    item = re.search(r'name="(i\d+)-rating"', form)
    if not item:
        raise StepFailed("the review page shows no product to rate")
    prefix = item.group(1)
    posted = httpx.post(link, data={f"{prefix}-rating": "1", f"{prefix}-title": title,
                                    f"{prefix}-body": "The mug arrived with a crack in the handle.",
                                    f"{prefix}-display_name": "Nora Q."}, timeout=30)
    if posted.status_code != 302:
        raise StepFailed(f"posting the review answered {posted.status_code}")

    # 2. A case opens in the inbox.
    def case_id() -> int | None:
        found = re.search(r'href="/app/cases/(\d+)/', _panel_get(store, domain, "/app/cases/", q=title.split()[-1]))
        return int(found.group(1)) if found else None

    _wait(lambda: case_id() is not None, "the case to open in the inbox", timeout)
    case = case_id()
    # The second order is fulfilled while the case is open: its review request must not reach Nora.
    store.fulfil(domain, second["id"])
    second_fulfilled_at = time.monotonic()

    # 3. The owner replies privately.
    page = _panel_post(store, domain, f"/app/cases/{case}/", {
        "action": "reply", "subject": "About your Trail Mug",
        "body": "Hi Nora, we are sorry about the crack. Could you tell us whether the box was damaged too?"}).text
    if "Reply sent to the customer" not in page:
        raise StepFailed("the panel did not confirm the private reply")

    # 4. The customer answers through the signed link in the email.
    _wait(lambda: _mails_to(store, email, "About your Trail Mug"), "the private reply email", timeout)
    answer = _link(_mails_to(store, email, "About your Trail Mug")[0], r"https?://[^\s\"'<>]+/cases/a/[^\s\"'<>]+")
    with httpx.Client(timeout=30) as customer:
        answer_page = customer.get(answer).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer_page)
        if "Could you tell us whether the box" not in answer_page or not token:
            raise StepFailed("the customer's page does not show the shop's message and an answer form")
        sent = customer.post(answer, data={"csrfmiddlewaretoken": token.group(1), "body": "Yes, the box was crushed."},
                             headers={"Referer": answer}, follow_redirects=True)
        if "your answer was sent" not in sent.text:
            raise StepFailed(f"the customer's answer was not accepted ({sent.status_code})")
    page = _panel_get(store, domain, f"/app/cases/{case}/")
    if "Yes, the box was crushed." not in page or 'status-case-open">Open' not in page:
        raise StepFailed("the answer is not in the thread, or the case is not open again")

    # 5. A one-use discount code for Nora is created in Shopify.
    _panel_post(store, domain, f"/app/cases/{case}/", {"action": "remedy", "kind": "discount", "amount": "10.00",
                                                       "note": "Sorry for the crack"})

    def code() -> str:
        found = re.search(r"<code>(SORRY-[A-Z0-9]+)</code>", _panel_get(store, domain, f"/app/cases/{case}/"))
        return found.group(1) if found and any(d.get("code") == found.group(1) for d in store.discount_codes(domain)) else ""

    _wait(lambda: bool(code()), "the discount code in devstore", timeout)

    # 6. The second order's request comes due while the case is open: it must not reach Nora.
    remaining = second_fulfilled_at + request_delay - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    requests = _mails_to(store, email, REQUEST_SUBJECT)
    if len(requests) != 1:
        raise StepFailed(f"review emails reached a customer with an open case: {[m['subject'] for m in requests]}")

    # 7. Resolved.
    page = _panel_post(store, domain, f"/app/cases/{case}/", {"action": "status", "to": "resolved"}).text
    if "Case marked resolved." not in page:
        raise StepFailed("the case could not be resolved")
    return CaseJourney(email=email, case_id=case, code=code(), second_order_id=second["id"],
                       second_fulfilled_at=second_fulfilled_at)


@smoke_step("cases: a 1-star review opens a case, the owner replies, the customer answers, a code, resolved")
def _smoke_case(demo: Demo) -> None:
    # request_delay: the 14-day request delay plus a few sweeps, at the smoke run's one-second day.
    case_journey(demo.store, request_delay=20)
