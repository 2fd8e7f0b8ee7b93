"""Shopify money and codes, one way for every feature: ensure a discount code, credit once, debit once.

A mutation is sent once (AdminClient.mutate). After an ambiguous answer (timeout, reset, 5xx) it
is never resent blindly:

- a discount code is looked up (`codeDiscountNodeByCode`) before it is created again, and a code
  Shopify says is TAKEN is adopted only when it is ours: the same code with the title we derive;
- store credit goes through a CreditAttempt row per business event. Before each send it records
  the transactions Shopify already lists; after an ambiguous answer the next call lists them
  again and matches new ones of the same amount to the customer's open attempts in the order
  they were sent, never giving one transaction to two attempts (a unique constraint). Only an
  attempt nothing matched is sent again. A balance delta is never used: another credit of the
  same amount could explain it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from shopapp.admin_api import AdminClient, ShopifyAmbiguous, ShopifyUserError
from shopapp.models import CreditAttempt, Shop

DISCOUNT_CREATE = """
mutation discountCreate($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
"""

DISCOUNT_BY_CODE = """
query discountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id codeDiscount { ... on DiscountCodeBasic { title } } }
}
"""

_TRANSACTION = "storeCreditAccountTransaction { id amount { amount currencyCode } createdAt }"

STORE_CREDIT = f"""
mutation storeCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {{
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {{
    {_TRANSACTION}
    userErrors {{ field message code }}
  }}
}}
"""

STORE_DEBIT = f"""
mutation storeDebit($id: ID!, $debitInput: StoreCreditAccountDebitInput!) {{
  storeCreditAccountDebit(id: $id, debitInput: $debitInput) {{
    {_TRANSACTION}
    userErrors {{ field message code }}
  }}
}}
"""

# The newest transactions first: an open attempt is matched only with ones newer than its send.
CREDIT_ACCOUNTS = """
query storeCreditAccounts($id: ID!) {
  customer(id: $id) {
    storeCreditAccounts(first: 5) {
      nodes {
        id balance { amount currencyCode }
        transactions(first: 25, reverse: true) { nodes { id amount { amount currencyCode } createdAt } }
      }
    }
  }
}
"""

# Shopify's answers when a shop cannot hold store credit (not enabled, or not in this currency).
STORE_CREDIT_UNAVAILABLE = {"UNSUPPORTED_CURRENCY", "STORE_CREDIT_NOT_ENABLED", "ACCOUNT_NOT_SUPPORTED"}
# A send whose answer was lost is settled only this long after it: Shopify may still be applying it.
SETTLE_AFTER = timedelta(seconds=60)
# Shopify's clock and ours differ a little; the known-transactions list is the sharp test.
CLOCK_SKEW = timedelta(minutes=5)


def retry_backoff(attempt: int) -> timedelta:
    """The one retry schedule for Shopify work: 1, 2, 4 ... minutes, at most six hours."""
    return timedelta(seconds=min(60 * 2 ** max(attempt - 1, 0), 6 * 3600))


# --- discount codes ------------------------------------------------------------------


def personal_code_input(*, code: str, title: str, customer_gid: str, amount: Decimal) -> dict:
    """A one-use fixed-amount code for one customer alone (reward fallback, case remedy)."""
    return {
        "title": title,
        "code": code,
        "startsAt": starts_now(),
        "context": {"customers": {"add": [customer_gid]}},
        "customerGets": {"value": {"discountAmount": {"amount": str(amount), "appliesOnEachItem": False}},
                         "items": {"all": True}},
        "appliesOncePerCustomer": True,
        "usageLimit": 1,
    }


def starts_now() -> str:
    # Whole seconds, as Shopify keeps them: a start a few microseconds "ahead" would make
    # a code used within the same second look not yet active.
    return timezone.now().replace(microsecond=0).isoformat()


def discount_find(*, shop: Shop, code: str, title: str) -> str | None:
    """The id of our discount holding `code`, or None. A code held by a discount we did not
    make (another title) is a refusal: adopting it would hand out someone else's offer."""
    data = AdminClient(shop).query(DISCOUNT_BY_CODE, {"code": code}, cost=2)
    node = data.get("codeDiscountNodeByCode")
    if not node:
        return None
    if (node.get("codeDiscount") or {}).get("title") != title:
        raise ShopifyUserError([{"field": ["code"], "code": "TAKEN",
                                 "message": f"The code {code} belongs to another discount in Shopify."}])
    return node["id"]


def discount_ensure(*, shop: Shop, data: dict, look_first: bool) -> str:
    """The id of the discount for `data` (its code and title), created at most once.

    `look_first`: an earlier attempt may have been applied (its answer lost), so look it up
    before creating. ShopifyAmbiguous: call again later with look_first."""
    code, title = data["code"], data["title"]
    if look_first:
        found = discount_find(shop=shop, code=code, title=title)
        if found:
            return found
    try:
        payload = AdminClient(shop).mutate(DISCOUNT_CREATE, {"input": data}, field="discountCodeBasicCreate")
    except ShopifyUserError as exc:
        # TAKEN: a lost earlier attempt (or a racing worker) made it; adopt it only if it is ours.
        if not any(e.get("code") == "TAKEN" for e in exc.errors):
            raise
        found = discount_find(shop=shop, code=code, title=title)
        if not found:
            raise
        return found
    return (payload.get("codeDiscountNode") or {}).get("id", "")


# --- store credit --------------------------------------------------------------------


@dataclass(frozen=True)
class CreditTransaction:
    id: str
    amount: Decimal  # negative for a debit
    currency: str
    created_at: datetime


def _credit_accounts(*, shop: Shop, customer_gid: str, currency: str) -> list[dict]:
    data = AdminClient(shop).query(CREDIT_ACCOUNTS, {"id": customer_gid}, cost=150)
    accounts = ((data.get("customer") or {}).get("storeCreditAccounts") or {}).get("nodes") or []
    return [a for a in accounts if a["balance"]["currencyCode"] == currency]


def credit_balance(*, shop: Shop, customer_gid: str, currency: str) -> Decimal:
    """What the customer holds in store credit in `currency`, as Shopify says now."""
    accounts = _credit_accounts(shop=shop, customer_gid=customer_gid, currency=currency)
    return sum((Decimal(str(a["balance"]["amount"])) for a in accounts), Decimal("0.00"))


def credit_transactions(*, shop: Shop, customer_gid: str, currency: str) -> list[CreditTransaction]:
    """The customer's recent store credit transactions in `currency`, as Shopify lists them."""
    found = []
    for account in _credit_accounts(shop=shop, customer_gid=customer_gid, currency=currency):
        for node in (account.get("transactions") or {}).get("nodes") or []:
            found.append(CreditTransaction(node["id"], Decimal(str(node["amount"]["amount"])),
                                           node["amount"]["currencyCode"], parse_datetime(node["createdAt"])))
    return found


def credit_once(*, shop: Shop, key: str, customer_gid: str, amount: Decimal, currency: str,
                now: datetime | None = None) -> str:
    """Credit `amount` once for the business event `key`; return Shopify's transaction id.

    ShopifyAmbiguous: Shopify's answer is not known yet; call again later (a worker that died
    mid-call is the same case). ShopifyUserError: refused, nothing was paid."""
    return _move_once(shop=shop, key=key, customer_gid=customer_gid, amount=amount, currency=currency, now=now,
                      mutation=STORE_CREDIT, field="storeCreditAccountCredit",
                      variables={"id": customer_gid, "creditInput": {
                          "creditAmount": {"amount": str(amount), "currencyCode": currency},
                          # Shopify tells the customer about their new credit in its own email.
                          "notify": True}})


def debit_once(*, shop: Shop, key: str, customer_gid: str, amount: Decimal, currency: str,
               now: datetime | None = None) -> str:
    """Take `amount` (positive) back once for `key`; the same rules as credit_once."""
    return _move_once(shop=shop, key=key, customer_gid=customer_gid, amount=-amount, currency=currency, now=now,
                      mutation=STORE_DEBIT, field="storeCreditAccountDebit",
                      variables={"id": customer_gid, "debitInput": {
                          "debitAmount": {"amount": str(amount), "currencyCode": currency}}})


def credit_settle(*, shop: Shop, key: str, now: datetime | None = None) -> str | None:
    """Settle `key` without sending anything: Shopify's transaction id if a send was applied,
    None if nothing was ever sent or the send is settled with no transaction (not applied).

    For work that must stop (the order behind a reward was refunded): what was paid is
    learned, and nothing more is paid. ShopifyAmbiguous: too early to tell; call again later."""
    now = now or timezone.now()
    attempt = CreditAttempt.objects.filter(shop=shop, key=key).first()
    if attempt is None or attempt.sent_at is None:
        return None
    if attempt.transaction_id:
        return attempt.transaction_id
    if attempt.sent_at > now - SETTLE_AFTER:
        raise ShopifyAmbiguous("An earlier send is not settled yet; Shopify may still be applying it.")
    listed = credit_transactions(shop=shop, customer_gid=attempt.customer_gid, currency=attempt.currency)
    credit_attempts_settle(shop=shop, customer_gid=attempt.customer_gid, currency=attempt.currency,
                           listed=listed, now=now)
    attempt.refresh_from_db()
    return attempt.transaction_id or None


def _move_once(*, shop: Shop, key: str, customer_gid: str, amount: Decimal, currency: str, now: datetime | None,
               mutation: str, field: str, variables: dict) -> str:
    now = now or timezone.now()
    attempt, _ = CreditAttempt.objects.get_or_create(
        shop=shop, key=key, defaults={"customer_gid": customer_gid, "amount": amount, "currency": currency})
    if attempt.transaction_id:
        return attempt.transaction_id
    if attempt.sent_at is not None and attempt.sent_at > now - SETTLE_AFTER:
        raise ShopifyAmbiguous("An earlier send is not settled yet; Shopify may still be applying it.")
    listed = credit_transactions(shop=shop, customer_gid=customer_gid, currency=currency)
    if attempt.sent_at is not None:
        credit_attempts_settle(shop=shop, customer_gid=customer_gid, currency=currency, listed=listed, now=now)
        attempt.refresh_from_db()
        if attempt.transaction_id:
            return attempt.transaction_id
    # Written before the call: a crash after Shopify applied it leaves a row the next call settles.
    CreditAttempt.objects.filter(pk=attempt.pk).update(
        known_transactions=[t.id for t in listed], sent_at=timezone.now(), sends=F("sends") + 1)
    try:
        payload = AdminClient(shop).mutate(mutation, variables, field=field)
    except ShopifyUserError:
        CreditAttempt.objects.filter(pk=attempt.pk).update(sent_at=None)  # refused: nothing was applied
        raise
    transaction_id = (payload.get("storeCreditAccountTransaction") or {}).get("id") or ""
    _attempt_record(attempt, transaction_id)
    return transaction_id


def _attempt_record(attempt: CreditAttempt, transaction_id: str) -> None:
    """The write after Shopify answered (the step a crash can separate from the call)."""
    CreditAttempt.objects.filter(pk=attempt.pk, transaction_id="").update(
        transaction_id=transaction_id, settled_at=timezone.now())


def credit_attempts_settle(*, shop: Shop, customer_gid: str, currency: str, listed: list[CreditTransaction],
                           now: datetime) -> int:
    """Match the customer's sent-but-unanswered attempts to Shopify's transactions, one to one:
    oldest attempt first, each taking the oldest unmatched transaction of its amount that
    Shopify did not list before its send. Returns how many were matched."""
    attempts = CreditAttempt.objects.filter(shop=shop, customer_gid=customer_gid, currency=currency)
    taken = set(attempts.exclude(transaction_id="").values_list("transaction_id", flat=True))
    matched = 0
    open_attempts = attempts.filter(transaction_id="", sent_at__lte=now - SETTLE_AFTER).order_by("sent_at", "pk")
    for attempt in open_attempts:
        known = set(attempt.known_transactions)
        for candidate in sorted(listed, key=lambda t: (t.created_at, t.id)):
            if candidate.id in taken or candidate.id in known or candidate.amount != attempt.amount:
                continue
            if candidate.created_at < attempt.sent_at - CLOCK_SKEW:
                continue
            try:
                with transaction.atomic():
                    won = CreditAttempt.objects.filter(pk=attempt.pk, transaction_id="").update(
                        transaction_id=candidate.id, settled_at=now)
            except IntegrityError:  # another worker matched this transaction a moment ago
                taken.add(candidate.id)
                continue
            taken.add(candidate.id)
            matched += won
            break
    return matched
