"""Bulk mutations the way Shopify runs them: the variables uploaded to a staged target first,
then `bulkOperationRunMutation` runs one mutation for every line of that JSONL file, in the
background and outside the rate limit, writes a JSONL result (one line per input line, with its
`__lineNumber`), and says it finished with the `bulk_operations/finish` webhook.

One bulk mutation at a time per shop, as Shopify allows. Switches for tests, per shop
(`Bulk.switches[domain]`): `hold` (a threading.Event the run waits for, so a test can change
things while Shopify is busy), `fail` (the operation ends FAILED with half of the lines run, as an
operation that timed out does, its partial result readable), `silent` (no webhook: the app must ask).
"""
from __future__ import annotations

import json
import threading
import uuid
from email import message_from_bytes
from email.policy import HTTP
from typing import Callable

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
"""

OPEN = ("CREATED", "RUNNING")

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
        self.results: dict[int, bytes] = {}
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
    def run_mutation(self, domain: str, mutation: str, path: str, run_line: LineRunner) -> dict:
        operations = self.operations(domain)
        busy = next((o for o in operations if o["type"] == "MUTATION" and o["status"] in OPEN), None)
        if busy:
            return {"bulkOperation": None, "userErrors": [{"field": None, "code": "OPERATION_IN_PROGRESS", "message":
                    f"A bulk mutation operation for this app and shop is already in progress: {busy['id']}."}]}
        if path not in self.files:
            return {"bulkOperation": None, "userErrors": [{"field": ["stagedUploadPath"], "code": "NO_SUCH_FILE",
                                                          "message": "The staged upload path does not exist."}]}
        if not mutation.lstrip().startswith("mutation"):
            return {"bulkOperation": None, "userErrors": [{"field": ["mutation"], "code": "INVALID_MUTATION",
                                                          "message": "Expected a mutation."}]}
        number = self.store.new_id()
        operation = {"id": gid("BulkOperation", number), "status": "CREATED", "type": "MUTATION", "errorCode": None,
                     "createdAt": iso(now()), "completedAt": None, "objectCount": "0", "url": None,
                     "partialDataUrl": None}
        with self.store.lock:
            operations.append(operation)
            del operations[:-20]
            self.store.save()
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
        with self.store.lock:
            operation.update(status="FAILED" if failed else "COMPLETED", completedAt=iso(now()),
                             errorCode="TIMEOUT" if failed else None)
            operation["partialDataUrl" if failed else "url"] = f"{self.store.base_url}/bulk-results/{number}.jsonl"
            self.store.save()
        if not switches.get("silent"):
            self.store.emit(domain, "bulk_operations/finish", {
                "admin_graphql_api_id": operation["id"], "completed_at": operation["completedAt"],
                "created_at": operation["createdAt"], "error_code": (operation["errorCode"] or "").lower() or None,
                "status": operation["status"].lower(), "type": "mutation"})

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
