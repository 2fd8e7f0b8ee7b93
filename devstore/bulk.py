"""Bulk mutations the way Shopify runs them: the variables uploaded to a staged target first,
then `bulkOperationRunMutation` runs one mutation for every line of that JSONL file, in the
background and outside the rate limit, writes a JSONL result (one line per input line, with its
`__lineNumber`), and says it finished with the `bulk_operations/finish` webhook.

Bulk queries (devstore/bulk_query.py) run the same way, in the background, into a JSONL file on
disk; `currentBulkOperation` and `bulkOperationCancel` work on both kinds.

One bulk mutation and one bulk query at a time per shop, as Shopify allows. Switches for tests,
per shop (`Bulk.switches[domain]`): `hold` (a threading.Event the run waits for, so a test can
change things while Shopify is busy), `fail` (the operation ends FAILED with half of the lines run,
as an operation that timed out does, its partial result readable), `silent` (no webhook: the app
must ask).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
import uuid
from email import message_from_bytes
from email.policy import HTTP
from pathlib import Path
from typing import Callable

from devstore import bulk_query
from devstore.state import Store, gid, gid_id, iso, now

SDL = """
scalar UnsignedInt64
type StagedUploadParameter { name: String! value: String! }
type StagedMediaUploadTarget { url: URL resourceUrl: URL parameters: [StagedUploadParameter!]! }
type StagedUploadsCreatePayload { stagedTargets: [StagedMediaUploadTarget!] userErrors: [UserError!]! }
enum StagedUploadTargetGenerateUploadResource { BULK_MUTATION_VARIABLES }
enum StagedUploadHttpMethodType { POST PUT }
input StagedUploadInput {
  resource: StagedUploadTargetGenerateUploadResource! filename: String! mimeType: String!
  httpMethod: StagedUploadHttpMethodType fileSize: UnsignedInt64
}
enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
enum BulkOperationType { MUTATION QUERY }
type BulkOperation {
  id: ID! status: BulkOperationStatus! type: BulkOperationType! errorCode: String createdAt: DateTime!
  completedAt: DateTime objectCount: UnsignedInt64! url: URL partialDataUrl: URL
}
type BulkMutationUserError { field: [String!] message: String! code: String }
type BulkOperationRunMutationPayload { bulkOperation: BulkOperation userErrors: [BulkMutationUserError!]! }
type BulkOperationConnection { nodes: [BulkOperation!]! }
extend type Query {
  bulkOperation(id: ID!): BulkOperation
  bulkOperations(first: Int, query: String, reverse: Boolean): BulkOperationConnection!
}
extend type Mutation {
  stagedUploadsCreate(input: [StagedUploadInput!]!): StagedUploadsCreatePayload
  bulkOperationRunMutation(mutation: String!, stagedUploadPath: String!, clientIdentifier: String): BulkOperationRunMutationPayload
}
""" + bulk_query.SDL

OPEN = ("CREATED", "RUNNING", "CANCELING")

# What one line runs: (domain, mutation text, variables) -> the GraphQL result as a dict.
LineRunner = Callable[[str, str, dict], dict]


def bulk_of(store: Store) -> "Bulk":
    """The store's bulk machinery, made on first use."""
    with store.lock:
        if getattr(store, "bulk", None) is None:
            store.bulk = Bulk(store)
    return store.bulk


class Bulk:
    """A store's staged files, bulk operations and their results (results are kept in memory only,
    as Shopify's expire)."""

    def __init__(self, store: Store):
        self.store = store
        self.files: dict[str, bytes] = {}
        self.results: dict[int, bytes | Path] = {}  # a query's result is a file on disk, in self.folder
        self.folder: Path | None = None
        self.canceled: set[int] = set()
        self.switches: dict[str, dict] = {}
        self.threads: list[threading.Thread] = []

    def operations(self, domain: str) -> list[dict]:
        return self.store.shop(domain).setdefault("bulk_operations", [])

    # --- staged uploads
    def staged_target(self, domain: str, filename: str, mime_type: str) -> dict:
        key = f"tmp/{self.store.shop(domain)['id']}/bulk/{uuid.uuid4()}/{filename}"
        return {"url": f"{self.store.base_url}/staged-uploads", "resourceUrl": None,
                "parameters": [{"name": "key", "value": key}, {"name": "Content-Type", "value": mime_type},
                               {"name": "success_action_status", "value": "201"}]}

    def upload(self, content_type: str, body: bytes) -> tuple[int, str]:
        """The storage bucket's form POST: `key` and the other parameters, then `file`."""
        message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body, policy=HTTP)
        if not message.is_multipart():
            return 400, "Expected a multipart form."
        fields, data = {}, None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name == "file":
                data = part.get_payload(decode=True)
            elif name:
                fields[name] = part.get_content().strip()
        if not fields.get("key", "").startswith("tmp/") or data is None:
            return 400, "The form needs a key from stagedUploadsCreate and a file."
        self.files[fields["key"]] = data
        return 201, fields["key"]

    # --- operations
    def _busy(self, domain: str, kind: str) -> dict | None:
        """Shopify's userErrors answer when an operation of this kind is running for the app and shop."""
        busy = next((o for o in self.operations(domain) if o["type"] == kind and o["status"] in OPEN), None)
        if busy is None:
            return None
        return {"bulkOperation": None, "userErrors": [{"field": None, "code": "OPERATION_IN_PROGRESS", "message":
                f"A bulk {kind.lower()} operation for this app and shop is already in progress: {busy['id']}."}]}

    def _new_operation(self, domain: str, kind: str, **extra) -> tuple[int, dict]:
        number = self.store.new_id()
        operation = {"id": gid("BulkOperation", number), "status": "CREATED", "type": kind, "errorCode": None,
                     "createdAt": iso(now()), "completedAt": None, "objectCount": "0", "rootObjectCount": "0",
                     "url": None, "partialDataUrl": None, **extra}
        with self.store.lock:
            operations = self.operations(domain)
            operations.append(operation)
            for gone in operations[:-20]:
                self._forget(gid_id(gone["id"], "BulkOperation"))
            del operations[:-20]
            self.store.save()
        return number, operation

    def _forget(self, number: int | None) -> None:
        result = self.results.pop(number, None)
        if isinstance(result, Path):
            result.unlink(missing_ok=True)

    def run_mutation(self, domain: str, mutation: str, path: str, run_line: LineRunner) -> dict:
        busy = self._busy(domain, "MUTATION")
        if busy:
            return busy
        if path not in self.files:
            return {"bulkOperation": None, "userErrors": [{"field": ["stagedUploadPath"], "code": "NO_SUCH_FILE",
                                                          "message": "The staged upload path does not exist."}]}
        if not mutation.lstrip().startswith("mutation"):
            return {"bulkOperation": None, "userErrors": [{"field": ["mutation"], "code": "INVALID_MUTATION",
                                                          "message": "Expected a mutation."}]}
        number, operation = self._new_operation(domain, "MUTATION")
        lines = self.files.pop(path).decode().splitlines()
        thread = threading.Thread(target=self._run, args=(domain, number, operation, mutation, lines, run_line),
                                  daemon=True, name=f"devstore-bulk-{number}")
        self.threads.append(thread)
        thread.start()
        return {"bulkOperation": dict(operation), "userErrors": []}

    def _run(self, domain: str, number: int, operation: dict, mutation: str, lines: list[str],
             run_line: LineRunner) -> None:
        switches = self.switches.get(domain, {})
        if switches.get("hold") is not None:
            switches["hold"].wait(30)
        operation["status"] = "RUNNING"
        failed = bool(switches.get("fail"))
        out = []
        for n, line in enumerate(lines):
            if failed and n >= len(lines) // 2:
                break  # a failed operation ran part of the file: its partial result says which part
            if not line.strip():
                continue
            try:
                result = run_line(domain, mutation, json.loads(line))
            except ValueError:
                result = {"errors": [{"message": "Invalid JSON on this line."}]}
            out.append(json.dumps({**result, "__lineNumber": n}))
            operation["objectCount"] = str(n + 1)
        self.results[number] = ("\n".join(out) + "\n").encode()
        self._finish(domain, number, operation, "FAILED" if failed else "COMPLETED", "TIMEOUT" if failed else None)

    def _finish(self, domain: str, number: int, operation: dict, status: str, error_code: str | None) -> None:
        """End the operation, its file readable (a partial one when it failed), and say so by webhook."""
        with self.store.lock:
            operation.update(status=status, completedAt=iso(now()), errorCode=error_code)
            if number in self.results and status != "CANCELED":
                operation["url" if status == "COMPLETED" else "partialDataUrl"] = \
                    f"{self.store.base_url}/bulk-results/{number}.jsonl"
            self.store.save()
        if not self.switches.get(domain, {}).get("silent"):
            self.store.emit(domain, "bulk_operations/finish", bulk_query.finished_payload(operation))

    def run_query(self, domain: str, query: str, schema) -> dict:
        """bulkOperationRunQuery: check the query, then run it in the background."""
        busy = self._busy(domain, "QUERY")
        if busy:
            return busy
        try:
            plan = bulk_query.plan(schema, query)
        except bulk_query.Invalid as exc:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "code": "INVALID", "message": str(exc)}]}
        number, operation = self._new_operation(domain, "QUERY", query=query)
        thread = threading.Thread(target=self._run_query, args=(domain, number, operation, plan), daemon=True,
                                  name=f"devstore-bulk-{number}")
        self.threads.append(thread)
        thread.start()
        return {"bulkOperation": bulk_query.operation_fields(operation), "userErrors": []}

    def _run_query(self, domain: str, number: int, operation: dict, plan) -> None:
        switches = self.switches.get(domain, {})
        if switches.get("hold") is not None:
            switches["hold"].wait(30)
        operation["status"] = "RUNNING"
        scopes = self.store.shop(domain)["app"].get("scopes") or ""
        if bulk_query.missing_scope(plan, scopes):
            self._finish(domain, number, operation, "FAILED", "ACCESS_DENIED")
            return
        fail_after = 50 if switches.get("fail") else None
        with self.store.lock:
            self.folder = self.folder or Path(tempfile.mkdtemp(prefix="devstore-bulk-"))
        path = self.folder / f"{number}.jsonl"
        self.results[number] = path

        def keep_going(roots: int) -> bool:
            if roots % 100 == 0:
                operation.update(rootObjectCount=str(roots))
            return number not in self.canceled and (fail_after is None or roots < fail_after)

        with path.open("wb") as out:
            lines, roots = bulk_query.write_jsonl(plan, bulk_query.objects(self.store, domain, plan, scopes), out,
                                                  keep_going=keep_going)
        operation.update(objectCount=str(lines), rootObjectCount=str(roots), fileSize=str(path.stat().st_size))
        if number in self.canceled:
            self._finish(domain, number, operation, "CANCELED", None)
        else:
            self._finish(domain, number, operation, "FAILED" if fail_after else "COMPLETED",
                         "TIMEOUT" if fail_after else None)

    def cancel(self, domain: str, id: str) -> dict:
        """bulkOperationCancel: a running operation stops soon after (CANCELING, then CANCELED)."""
        number = gid_id(id, "BulkOperation")
        operation = next((o for o in self.operations(domain) if gid_id(o["id"], "BulkOperation") == number), None)
        if operation is None:
            return {"bulkOperation": None, "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}]}
        if operation["status"] not in OPEN:
            return {"bulkOperation": bulk_query.operation_fields(operation), "userErrors": [
                {"field": None, "message": f"A bulk operation cannot be canceled when it is {operation['status'].lower()}"}]}
        self.canceled.add(number)
        operation["status"] = "CANCELING"
        return {"bulkOperation": bulk_query.operation_fields(operation), "userErrors": []}

    def current(self, domain: str, kind: str) -> dict | None:
        """currentBulkOperation(type:): the app's most recent operation of that kind."""
        found = [o for o in self.operations(domain) if o["type"] == kind]
        return bulk_query.operation_fields(found[-1]) if found else None

    def close(self) -> None:
        """devstore stops: its result files go (Shopify's expire after a week; devstore's with it)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def wait(self, timeout: float = 10) -> None:
        """Tests: until every operation started so far has finished."""
        for thread in list(self.threads):
            thread.join(timeout)

    def operation(self, domain: str, id: str) -> dict | None:
        number = gid_id(id, "BulkOperation")
        return next((dict(o) for o in self.operations(domain) if gid_id(o["id"], "BulkOperation") == number), None)

    def search(self, domain: str, first: int | None, query: str | None, reverse: bool | None) -> dict:
        """`bulkOperations`: newest last unless reversed; `type:` and `status:` filters."""
        rows = [dict(o) for o in self.operations(domain)]
        for term in (query or "").split():
            name, _, value = term.partition(":")
            if name in ("type", "operation_type"):
                rows = [o for o in rows if o["type"] == value.upper()]
            elif name == "status":
                rows = [o for o in rows if o["status"] == value.upper()]
        if reverse:
            rows.reverse()
        return {"nodes": rows[:first or 10]}
