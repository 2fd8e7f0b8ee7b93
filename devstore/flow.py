"""Shopify Flow, as far as Advocate meets it: the triggers an app sends (flowTriggerReceive,
checked against the app's trigger extensions like Shopify does) and the app's Flow action, run
from devstore's admin and signed the way Flow signs it. devstore's admin lists both."""
from __future__ import annotations

import json
import tomllib
import uuid
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from devstore.state import Store, StoreError, iso, now
from devstore.webhooks import sign

EXTENSIONS = Path(__file__).resolve().parent.parent / "extensions"
REFERENCE_KEYS = {"customer_reference": "customer_id", "order_reference": "order_id", "product_reference": "product_id"}
SHOWN = 20

SDL = """
scalar JSON
type FlowTriggerReceivePayload { userErrors: [UserError!]! }
extend type Mutation {
  flowTriggerReceive(handle: String, payload: JSON, body: String): FlowTriggerReceivePayload
}
"""


# What a payload value of each field type must be (a reference field: the resource's numeric id).
WIRE_TYPES = {"customer_reference": int, "order_reference": int, "product_reference": int, "number_integer": int,
              "number_decimal": (int, float), "boolean": bool, "single_line_text_field": str, "email": str, "url": str}


def _extensions(kind: str) -> dict[str, dict]:
    found = {}
    for path in sorted(EXTENSIONS.glob("*/shopify.extension.toml")):
        config = tomllib.loads(path.read_text())
        for extension in config.get("extensions", []):
            if extension.get("type") == kind:
                found[extension["handle"]] = {**extension, "fields": config.get("settings", {}).get("fields", [])}
    return found


def triggers() -> dict[str, dict[str, str]]:
    """The app's trigger handles, each with its payload keys (reference fields by Flow's names) and their types."""
    return {handle: {REFERENCE_KEYS.get(f["type"], f.get("key")): f["type"] for f in ext["fields"]}
            for handle, ext in _extensions("flow_trigger").items()}


def _wrong_type(field_type: str, value) -> bool:
    wanted = WIRE_TYPES.get(field_type, object)
    return isinstance(value, bool) != (wanted is bool) or not isinstance(value, wanted)


def action() -> dict:
    [found] = _extensions("flow_action").values()
    return found


def receive(store: Store, domain: str, handle: str | None, payload) -> dict:
    """flowTriggerReceive: Shopify refuses an unknown handle, or a field the trigger does not declare or
    of another type. A trigger no workflow uses is accepted like any other (Flow runs nothing)."""
    known = triggers()
    if handle not in known:
        return {"userErrors": [{"field": ["handle"], "message": f"Trigger '{handle}' does not exist for this app."}]}
    if isinstance(payload, str):
        payload = json.loads(payload)
    if not isinstance(payload, dict):
        return {"userErrors": [{"field": ["payload"], "message": "Payload must be a JSON object."}]}
    extra = set(payload) - set(known[handle])
    if extra:
        return {"userErrors": [{"field": ["payload"], "message": f"Unknown field(s) {', '.join(sorted(extra))}."}]}
    for key, value in payload.items():
        if _wrong_type(known[handle][key], value):
            return {"userErrors": [{"field": ["payload", key],
                                    "message": f"{key} is not a valid {known[handle][key]}: {json.dumps(value)}."}]}
    with store.lock:
        store.shop(domain).setdefault("flow_runs", []).append({"handle": handle, "payload": payload, "at": iso(now())})
        store.save()
    return {"userErrors": []}


def pause_action_request(store: Store, domain: str, customer_id: int, days: int) -> tuple[str, bytes, dict]:
    """The request Flow sends when a workflow runs the app's "Pause Advocate emails" action: a POST to
    its runtime_url (on the app's address here), the JSON body signed with the app's secret."""
    definition = action()
    store.customer(domain, customer_id)
    url = store.app_url + urlsplit(definition["runtime_url"]).path
    body = json.dumps({
        "shop_id": str(store.shop(domain)["id"]), "shopify_domain": domain, "action_run_id": str(uuid.uuid4()),
        "action_definition_id": definition["handle"], "handle": definition["handle"],
        "properties": {"customer_id": str(customer_id), "days": int(days), "step_reference": str(uuid.uuid4())},
    }).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Hmac-SHA256": sign(body, store.api_secret),
               "X-Shopify-Shop-Domain": domain}
    return url, body, headers


def run_pause_action(store: Store, domain: str, customer_id: int, days: int) -> httpx.Response:
    """Run the app's "Pause Advocate emails" action for a customer as Flow does."""
    url, body, headers = pause_action_request(store, domain, customer_id, days)
    response = httpx.post(url, content=body, timeout=30, headers=headers)
    with store.lock:
        store.shop(domain).setdefault("flow_actions", []).append({
            "handle": action()["handle"], "customer_id": customer_id, "days": int(days), "at": iso(now()),
            "status": response.status_code, "answer": response.text[:200]})
        store.save()
    if response.status_code >= 400:
        raise StoreError(f"Advocate answered the Flow action with {response.status_code}: {response.text[:200]}")
    return response


def admin_card(shop: dict, domain: str) -> str:
    """The admin's Flow card: the triggers Advocate sent, newest first, and the action to run."""
    runs = "".join(
        f"<tr><td>{escape(r['at'][:19].replace('T', ' '))}</td><td>{escape(r['handle'])}</td>"
        f"<td><code>{escape(json.dumps(r['payload'], sort_keys=True))}</code></td></tr>"
        for r in reversed(shop.get("flow_runs", [])[-SHOWN:])
    ) or "<tr><td colspan=3 class=muted>No trigger received yet.</td></tr>"
    actions = "".join(
        f"<li>{escape(a['at'][:19].replace('T', ' '))}: paused customer {a['customer_id']} for {a['days']} days "
        f"(Advocate answered {a['status']})</li>" for a in reversed(shop.get("flow_actions", [])[-5:]))
    options = "".join(f'<option value="{c["id"]}">{escape(c["first_name"])} {escape(c["last_name"])}</option>'
                      for c in shop["customers"].values())
    d = escape(domain)
    return (f"<div class=card><h2>Shopify Flow</h2><p class=muted>Triggers Advocate sent (newest first).</p>"
            f"<table><tr><th>At</th><th>Trigger</th><th>Payload</th></tr>{runs}</table>"
            f"<h3>Run an action</h3><form method=post action=\"/shops/{d}/admin/actions/flow-pause\">"
            f"<label for=flow-customer>Pause Advocate emails for</label><select id=flow-customer name=customer>{options}</select>"
            f"<label for=flow-days>Days</label><input id=flow-days name=days type=number min=1 max=365 value=30> "
            f"<button>Run action</button></form>{f'<ul>{actions}</ul>' if actions else ''}</div>")
