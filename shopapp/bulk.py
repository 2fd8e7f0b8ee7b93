"""Shopify's bulk operations: a mutation run over every line of a JSONL file, for work too big
for the rate limit (a full resync of thousands of products), and a query run over a whole shop's
data (its order history), both answered with a JSONL file Advocate reads as a stream.

Starting one: a BulkOperation row first (at most one open per shop, as Shopify allows one bulk
mutation at a time), the variables uploaded to the staged target `stagedUploadsCreate` gives,
then `bulkOperationRunMutation` sent once. An answer that does not say whether it started
leaves the row UNKNOWN; before anything is sent again, the shop's recent bulk mutations are
read and a running one is adopted.

A bulk query is started the same way without the upload (`bulkOperationRunQuery`); after an
unconfirmed start, `currentBulkOperation(type: QUERY)` says whether it runs. Shopify runs one
query and one mutation per app and shop at a time, so a row of each kind may be open at once.

Finishing: Shopify says so with the `bulk_operations/finish` webhook; the sweep asks after a
while in case that was lost. The result file is read as a stream, line by line, and handed to
the purpose's handler (registry.register_bulk_result), which stores what it holds. One worker
at a time reads a result (a lease renewed as it reads); a handler may still see the same lines
twice (a worker killed mid-file, the next one resuming), so it is idempotent.
"""
from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from shopapp.admin_api import AdminClient
from shopapp.errors import ShopifyAmbiguous, ShopifyError, ShopifyUserError, ShopNotConnected
from shopapp.jobs import enqueue, row_lease
from shopapp.models import BulkOperation, Shop
from shopapp.registry import bulk_result_handlers
from shopapp.shopify import http_client

log = logging.getLogger(__name__)

CHECK_AFTER = timedelta(minutes=2)  # the sweep asks Shopify about an operation not heard of for this long
GIVE_UP_UNKNOWN = timedelta(minutes=10)  # an unconfirmed start Shopify never listed is taken as not started
READING_LEASE = timedelta(minutes=3)  # renewed while a result is read; a dead reader's lease runs out
FINISHED = {"COMPLETED", "FAILED", "CANCELED", "EXPIRED"}

STAGED_UPLOAD = """
mutation advocateStagedUpload($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) { stagedTargets { url parameters { name value } } userErrors { field message } }
}
"""
RUN_MUTATION = """
mutation advocateBulkRun($mutation: String!, $path: String!, $client: String) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path, clientIdentifier: $client) {
    bulkOperation { id status } userErrors { field message code }
  }
}
"""
RUN_QUERY = """
mutation advocateBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } }
}
"""
CANCEL = """
mutation advocateBulkCancel($id: ID!) {
  bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } }
}
"""
OPERATION = """
query advocateBulkOperation($id: ID!) {
  bulkOperation(id: $id) { id status errorCode url partialDataUrl objectCount rootObjectCount }
}
"""
RECENT = """
query advocateBulkRecent { bulkOperations(first: 5, query: "type:mutation", reverse: true) {
  nodes { id status createdAt } } }
"""
CURRENT_QUERY = """
query advocateBulkCurrentQuery { currentBulkOperation(type: QUERY) { id status createdAt } }
"""


class BulkQueryRefused(ShopifyError):
    """Shopify (or the open row of another query here) refused to start a bulk query: `code` is
    Shopify's (OPERATION_IN_PROGRESS, INVALID, LIMIT_REACHED) or OPEN_HERE."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def bulk_open(shop: Shop, purpose: str | None = None) -> BulkOperation | None:
    rows = BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN)
    return (rows.filter(purpose=purpose) if purpose else rows).first()


def bulk_mutation_start(shop: Shop, *, purpose: str, mutation: str, lines: Iterable[dict],
                        context: dict) -> BulkOperation | None:
    """Run `mutation` once per line of variables; the open row, or None when one is open already
    or Shopify refused (the caller goes on the ordinary way)."""
    try:
        with transaction.atomic():
            row = BulkOperation.objects.create(shop=shop, purpose=purpose, context=context)
    except IntegrityError:
        return None  # another bulk mutation is open for this shop
    client = AdminClient(shop)
    try:
        path = _upload(client, row, lines)
        payload = client.mutate(RUN_MUTATION, {"mutation": mutation, "path": path, "client": f"advocate-{row.pk}"},
                                field="bulkOperationRunMutation")
    except ShopifyAmbiguous as exc:
        # Shopify may have started it: nothing is sent again until its list says (bulk_settle).
        _update(row, status=BulkOperation.Status.UNKNOWN, error=f"no answer: {exc}"[:255])
        return row
    except (ShopifyError, ShopNotConnected, OSError) as exc:
        _update(row, status=BulkOperation.Status.FAILED, error=str(exc)[:255], finished_at=timezone.now())
        log.warning("bulk mutation %s on %s not started: %s", purpose, shop.domain, exc)
        return None
    operation = payload.get("bulkOperation") or {}
    _update(row, status=BulkOperation.Status.RUNNING, operation_id=operation.get("id", ""))
    return row


def bulk_query_start(shop: Shop, *, purpose: str, query: str, context: dict) -> BulkOperation:
    """Run `query` over the shop's data in the background; the open row (UNKNOWN when Shopify's
    answer did not say whether it started). BulkQueryRefused when it was not started: another
    query runs, Shopify refused it, or Shopify could not be reached."""
    try:
        with transaction.atomic():
            row = BulkOperation.objects.create(shop=shop, purpose=purpose, kind=BulkOperation.Kind.QUERY,
                                               context=context)
    except IntegrityError:
        raise BulkQueryRefused("OPEN_HERE", "Another bulk query of Advocate's is running for this shop.") from None
    try:
        payload = AdminClient(shop).mutate(RUN_QUERY, {"query": query}, field="bulkOperationRunQuery")
    except ShopifyAmbiguous as exc:
        _update(row, status=BulkOperation.Status.UNKNOWN, error=f"no answer: {exc}"[:255])
        return row
    except ShopifyUserError as exc:
        code = next((e.get("code") for e in exc.errors if e.get("code")), "") or "INVALID"
        _update(row, status=BulkOperation.Status.FAILED, error=str(exc)[:255], finished_at=timezone.now())
        raise BulkQueryRefused(code, str(exc)) from exc
    except (ShopifyError, ShopNotConnected) as exc:
        _update(row, status=BulkOperation.Status.FAILED, error=str(exc)[:255], finished_at=timezone.now())
        raise BulkQueryRefused("UNREACHABLE", str(exc)) from exc
    operation = payload.get("bulkOperation") or {}
    _update(row, status=BulkOperation.Status.RUNNING, operation_id=operation.get("id", ""))
    return row


def bulk_cancel(row: BulkOperation) -> bool:
    """Ask Shopify to stop a running operation (it ends CANCELED, and the finish webhook or the
    sweep closes the row as usual); False when there is nothing Shopify could cancel."""
    if row.status not in BulkOperation.OPEN or not row.operation_id:
        return False
    try:
        AdminClient(row.shop).mutate(CANCEL, {"id": row.operation_id}, field="bulkOperationCancel")
    except ShopifyUserError:
        return False  # finished meanwhile: the result is settled as usual
    except (ShopifyError, ShopNotConnected) as exc:
        log.warning("bulk operation %s on %s not canceled: %s", row.pk, row.shop.domain, exc)
        return False
    return True


def _upload(client: AdminClient, row: BulkOperation, lines: Iterable[dict]) -> str:
    """Write the variables to a temporary file (a large catalogue does not sit in memory) and
    upload it to Shopify's staged target; the path bulkOperationRunMutation takes."""
    filename = f"advocate-{row.purpose}-{row.pk}.jsonl"
    staged = client.mutate(STAGED_UPLOAD, {"input": [{
        "resource": "BULK_MUTATION_VARIABLES", "filename": filename, "mimeType": "text/jsonl", "httpMethod": "POST",
    }]}, field="stagedUploadsCreate")
    target = (staged.get("stagedTargets") or [None])[0]
    if not target or not target.get("url"):
        raise ShopifyAmbiguous("Shopify gave no staged upload target.")
    fields = {p["name"]: p["value"] for p in target.get("parameters") or []}
    count = 0
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as file:
        for line in lines:
            file.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            count += 1
        file.seek(0)
        response = http_client().post(target["url"], data=fields, files={"file": (filename, file, "text/jsonl")})
    if response.status_code >= 300:
        raise ShopifyError(f"The staged upload was refused ({response.status_code}).")
    BulkOperation.objects.filter(pk=row.pk).update(lines=count)
    return fields["key"]


def _update(row: BulkOperation, **fields) -> None:
    BulkOperation.objects.filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)


def bulk_settle(operation_pk: int) -> str:
    """Job: find out how an open operation ended and let its purpose read the result; the status.

    One worker at a time (the webhook's job and the sweep's may run together): the other returns."""
    lease = BulkOperation.objects.filter(pk=operation_pk)
    with row_lease(lease, "reading_until", lasts=READING_LEASE) as mine:
        row = BulkOperation.objects.select_related("shop").filter(pk=operation_pk).first()
        if row is None or row.status not in BulkOperation.OPEN or not mine:
            return row.status if row else "missing"
        return _settle(row)


def _settle(row: BulkOperation) -> str:
    shop = row.shop
    _update(row, checked_at=timezone.now())
    if not shop.is_installed:
        return _close(row, ok=False, error="The shop uninstalled Advocate.")
    client = AdminClient(shop)
    try:
        if not row.operation_id and not _adopt(client, row):
            return row.status
        operation = client.query(OPERATION, {"id": row.operation_id}, cost=1).get("bulkOperation")
    except (ShopifyError, ShopNotConnected) as exc:
        log.warning("bulk operation %s on %s: %s (the sweep asks again)", row.pk, shop.domain, exc)
        return row.status
    if operation is None:
        return _close(row, ok=False, error="Shopify has no such operation.")
    count = operation.get("rootObjectCount") or operation.get("objectCount")
    if count not in (None, ""):
        _update(row, object_count=int(count))
    if operation["status"] not in FINISHED:
        return row.status
    url = operation.get("url") or operation.get("partialDataUrl")
    read, _done = bulk_result_handlers(row.purpose)
    if url and read:
        try:
            read(shop, row, _leased(row, _result_lines(url)))  # stores only what the file holds; idempotent
        except (ShopifyError, OSError, ValueError) as exc:
            log.warning("bulk result %s on %s unread: %s (the sweep reads it again)", row.pk, shop.domain, exc)
            return row.status
    ok = operation["status"] == "COMPLETED"
    return _close(row, ok=ok, error="" if ok else
                  f"Shopify ended it {operation['status']} ({operation.get('errorCode') or 'no code'})")


def _leased(row: BulkOperation, lines: Iterator[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    """The result's lines, the reading lease renewed as they go (a large file outlasts one lease)."""
    renew_at = timezone.now() + READING_LEASE / 3
    for item in lines:
        if item[0] % 1000 == 0 and timezone.now() >= renew_at:
            BulkOperation.objects.filter(pk=row.pk).update(reading_until=timezone.now() + READING_LEASE)
            renew_at = timezone.now() + READING_LEASE / 3
        yield item


def bulk_uninstalled(shop: Shop) -> None:
    """Uninstall hook: the shop's open operations end now. Their results are no longer Advocate's
    to read, and an open row left behind would refuse the next query after a reinstall (one query
    at a time) until the sweep came round to it."""
    for row in BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN).select_related("shop"):
        _close(row, ok=False, error="The shop uninstalled Advocate.")


def _close(row: BulkOperation, *, ok: bool, error: str = "") -> str:
    """Close an open operation once (a second settle finds it closed) and tell its purpose."""
    closed = BulkOperation.objects.filter(pk=row.pk, status__in=BulkOperation.OPEN).update(
        status=BulkOperation.Status.DONE if ok else BulkOperation.Status.FAILED, finished_at=timezone.now(),
        error=error[:255])
    row.refresh_from_db(fields=["status", "error"])
    _read, done = bulk_result_handlers(row.purpose)
    if closed and done:
        done(row.shop, row)
    return row.status


def _adopt(client: AdminClient, row: BulkOperation) -> bool:
    """After an unconfirmed start: a bulk operation of its kind Shopify lists as created since is
    ours (only this module starts them, one of each kind per shop at a time). False while there is
    none to adopt."""
    if row.kind == BulkOperation.Kind.QUERY:
        nodes = [n for n in [client.query(CURRENT_QUERY, cost=1).get("currentBulkOperation")] if n]
    else:
        nodes = (client.query(RECENT, cost=1).get("bulkOperations") or {}).get("nodes") or []
    taken = set(BulkOperation.objects.filter(shop=row.shop).exclude(operation_id="")
                .values_list("operation_id", flat=True))
    since = row.started_at - timedelta(minutes=1)
    for node in nodes:
        if node["id"] not in taken and _parse(node.get("createdAt")) >= since:
            _update(row, operation_id=node["id"], status=BulkOperation.Status.RUNNING, error="")
            return True
    if timezone.now() - row.started_at > GIVE_UP_UNKNOWN:
        _close(row, ok=False, error="Shopify never listed the operation: it did not start.")
    return False


def _parse(value: str | None) -> datetime:
    try:
        return datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return timezone.now() - timedelta(days=3650)


def _result_lines(url: str) -> Iterator[tuple[int, dict]]:
    """The result file, streamed: (input line number, that line's result)."""
    with http_client().stream("GET", url) as response:
        if response.status_code != 200:
            raise ShopifyError(f"The bulk result could not be read ({response.status_code}).")
        for n, text in enumerate(response.iter_lines()):
            if text.strip():
                line = json.loads(text)
                yield int(line.pop("__lineNumber", n)), line


def on_bulk_finish(shop: Shop | None, payload: dict, event) -> None:
    """Webhook bulk_operations/finish: settle the operation (one that is not ours yet, because the
    webhook beat the start's commit or the start was unconfirmed, is settled too)."""
    if shop is None:
        return
    rows = BulkOperation.objects.filter(shop=shop, status__in=BulkOperation.OPEN)
    for pk in rows.values_list("pk", flat=True):
        transaction.on_commit(lambda pk=pk: enqueue(bulk_settle, pk))


def bulk_sweep(*, now: datetime | None = None) -> int:
    """Sweeper: ask about open operations not heard of for a while (a lost webhook)."""
    now = now or timezone.now()
    due = BulkOperation.objects.filter(status__in=BulkOperation.OPEN, started_at__lte=now - CHECK_AFTER).exclude(
        checked_at__gt=now - CHECK_AFTER)
    count = 0
    for pk in due.values_list("pk", flat=True):
        enqueue(bulk_settle, pk)
        count += 1
    return count
