"""The one plug-in point: what each app plugs into the platform, filled only in AppConfig.ready().

shopapp knows no feature. Each app's ready() registers its webhook handlers, order
listeners, sweepers, follow-ups, dashboard sections and segments, mail blockers, data
owners, uninstall and reconnect hooks and panel pages here; nothing registers at import time, so what
runs (and in which order) is written down in the apps' ready(), not implied by imports or
by INSTALLED_APPS. Tests take `registry_snapshot()` and `registry_restore()` around each
test instead of adding globals.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from django.utils.translation import gettext_lazy

from shopapp.models import Shop

EVERYONE_ELSE = gettext_lazy("Everyone else")  # what a customer segment is compared with, unless it says

if TYPE_CHECKING:
    from shopapp.models import Customer, Order, WebhookEvent


@dataclass
class _Registry:
    webhook_handlers: dict[str, list[tuple[int, Callable]]] = field(default_factory=dict)
    order_listeners: dict[str, tuple[int, Callable]] = field(default_factory=dict)
    sweepers: list[Callable[[], Any]] = field(default_factory=list)
    follow_ups: dict[str, dict[str, Callable]] = field(default_factory=dict)
    marketing_blockers: list[Callable] = field(default_factory=list)
    dashboard_sections: dict[str, Any] = field(default_factory=dict)
    customer_segments: dict[str, "CustomerSegment"] = field(default_factory=dict)
    customer_summaries: dict[str, Callable] = field(default_factory=dict)
    review_thanks: dict[str, Callable] = field(default_factory=dict)
    promoter_thanks: dict[str, Callable] = field(default_factory=dict)
    request_email_parts: dict[str, Callable] = field(default_factory=dict)
    capped_emails: dict[str, Callable] = field(default_factory=dict)
    buyer_sections: dict[str, Callable] = field(default_factory=dict)
    owners: dict[str, "DataOwner"] = field(default_factory=dict)
    uninstall_hooks: list[Callable[[Shop], None]] = field(default_factory=list)
    reconnect_hooks: list[Callable[..., None]] = field(default_factory=list)
    shop_exporters: dict[str, Callable[[Shop], Any]] = field(default_factory=dict)
    nav: dict[str, "NavItem"] = field(default_factory=dict)
    checklist: dict[str, "ChecklistItem"] = field(default_factory=dict)
    settings_sections: dict[str, "SettingsSection"] = field(default_factory=dict)
    bulk_results: dict[str, Callable] = field(default_factory=dict)


_r = _Registry()


def registry_snapshot() -> _Registry:
    """A copy of everything registered (tests restore it afterwards)."""
    return _Registry(**{name: _copy(value) for name, value in vars(_r).items()})


def registry_restore(snapshot: _Registry) -> None:
    for name, value in vars(snapshot).items():
        setattr(_r, name, _copy(value))


def _copy(value: Any) -> Any:
    """The containers copied, the registered functions and records shared (they never change)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# --- webhooks and the parsed order event --------------------------------------------

Handler = Callable[[Shop | None, dict, "WebhookEvent"], Any]


def register_webhook_handler(topic: str, func: Handler, *, order: int) -> None:
    """`func(shop, payload, event)` for a topic; handlers of one topic run by ascending `order`."""
    handlers = _r.webhook_handlers.setdefault(topic, [])
    if all(f is not func for _, f in handlers):
        handlers.append((order, func))
        handlers.sort(key=lambda pair: pair[0])


def webhook_handlers(topic: str) -> list[Handler]:
    return [func for _, func in _r.webhook_handlers.get(topic, [])]


def registered_topics() -> list[str]:
    return sorted(_r.webhook_handlers)


@dataclass(frozen=True)
class OrderEvent:
    """An order changed: the stored order, after the platform applied the webhook to it.

    Features read this instead of the raw payload (one parse, in shopapp.orders)."""

    shop: Shop
    order: "Order"
    topic: str

    @property
    def is_order_topic(self) -> bool:
        """orders/*: the webhook carried the whole order (created, paid, fulfilled, cancelled)."""
        return self.topic.startswith("orders/")

    @property
    def is_fulfilment(self) -> bool:
        return self.topic in ("orders/fulfilled", "fulfillments/create", "fulfillments/update")

    @property
    def is_refund_or_cancel(self) -> bool:
        return self.topic in ("orders/cancelled", "refunds/create")


def register_order_listener(name: str, func: Callable[[OrderEvent], None], *, order: int) -> None:
    """`func(event)` after every stored order change; listeners run by ascending `order`."""
    _r.order_listeners[name] = (order, func)


def order_listeners() -> list[Callable[[OrderEvent], None]]:
    return [func for _, func in sorted(_r.order_listeners.values(), key=lambda pair: pair[0])]


# --- periodic work and follow-ups ------------------------------------------------------

def register_sweeper(func: Callable[[], Any]) -> Callable[[], Any]:
    """Add a function to the periodic sweep (each app re-drives its own due work)."""
    if func not in _r.sweepers:
        _r.sweepers.append(func)
    return func


def sweepers() -> list[Callable[[], Any]]:
    return list(_r.sweepers)


def register_bulk_result(purpose: str, read: Callable[..., Any], done: Callable[..., None] | None = None) -> None:
    """How a finished bulk mutation of this purpose is read: `read(shop, operation, results)`, where
    `results` yields (line number, that line's GraphQL result), may see a result twice, so it is
    idempotent; `done(shop, operation)` runs once the operation is closed, whether it succeeded."""
    _r.bulk_results[purpose] = (read, done)


def bulk_result_handlers(purpose: str) -> tuple[Callable[..., Any] | None, Callable[..., None] | None]:
    return _r.bulk_results.get(purpose, (None, None))


def register_follow_up(after: str, name: str, func: Callable[..., None]) -> None:
    """A step that must happen after the state change `after` (e.g. "review_saved"): the platform
    records a row for it in the change's transaction and retries it until it succeeds."""
    _r.follow_ups.setdefault(after, {})[name] = func


def follow_ups(after: str) -> dict[str, Callable[..., None]]:
    return dict(_r.follow_ups.get(after, {}))


# --- mail, dashboard ---------------------------------------------------------------

def register_marketing_block(func: Callable[[Shop, "Customer"], str | None]) -> None:
    """A reason not to send marketing to a customer (reviews: an open case); None when there is none."""
    if func not in _r.marketing_blockers:
        _r.marketing_blockers.append(func)


def marketing_blockers() -> list[Callable[[Shop, "Customer"], str | None]]:
    return list(_r.marketing_blockers)


@dataclass(frozen=True)
class DashboardSection:
    key: str
    title: str
    order: int
    build: Callable  # (shop, period) -> {"figures": [(label, value)], "body": html, "charts": [svg], "note": str}


def register_dashboard_section(key: str, title: str, *, order: int, build: Callable) -> None:
    _r.dashboard_sections[key] = DashboardSection(key, title, order, build)


def dashboard_sections_registered() -> list[DashboardSection]:
    return sorted(_r.dashboard_sections.values(), key=lambda s: s.order)


@dataclass(frozen=True)
class CustomerSegment:
    """A group of customers the retention figures compare with another: by default everyone else.

    `customer_ids(shop)` and `excluded(shop)` return querysets of customer primary keys (run as
    subqueries). The other group is every customer in neither: a comparison such as "case resolved
    against never unhappy" leaves out the customers whose case is still open by excluding them.
    """

    label: str
    customer_ids: Callable[[Shop], Any]
    against: str = EVERYONE_ELSE
    excluded: Callable[[Shop], Any] | None = None


def register_customer_segment(label: str, customer_ids: Callable, *, against: str = EVERYONE_ELSE,
                              excluded: Callable | None = None) -> None:
    """A group of customers the retention figures compare with the rest (e.g. referred customers)."""
    _r.customer_segments[label] = CustomerSegment(label, customer_ids, against, excluded)


def customer_segments() -> list[CustomerSegment]:
    return list(_r.customer_segments.values())


def register_customer_summary(label: str, describe: Callable[["Customer"], str]) -> None:
    """One line about a customer on the panel's case page (their referrals, say): `describe(customer)`."""
    _r.customer_summaries[label] = describe


def customer_summaries(customer: "Customer") -> list[tuple[str, str]]:
    """(label, line) from every app that describes customers, for panel pages about one customer."""
    return [(label, describe(customer)) for label, describe in _r.customer_summaries.items()]


def register_review_thanks(name: str, block: Callable[..., str | None]) -> None:
    """A block on the review thank-you page: `block(shop, reviews)` gives its HTML, or None to show
    nothing. Only the page's wording may follow the ratings: nothing about a review does."""
    _r.review_thanks[name] = block


def review_thanks_blocks(shop: Shop, reviews: list) -> list[str]:
    return [html for block in _r.review_thanks.values() if (html := block(shop, reviews))]


def register_promoter_thanks(name: str, block: Callable[..., str | None]) -> None:
    """A block on the thank-you page of a customer who answered 9 or 10 to "how likely are you to
    recommend us" (reviews.nps): `block(shop, customer)` gives its HTML, or None. Like the review
    thank-you blocks it offers what the customer already has (their referral link), never more."""
    _r.promoter_thanks[name] = block


def promoter_thanks_blocks(shop: Shop, customer: "Customer | None") -> list[str]:
    if customer is None:
        return []
    return [html for block in _r.promoter_thanks.values() if (html := block(shop, customer))]


def register_request_email_part(name: str, build: Callable[..., tuple[str, str] | None]) -> None:
    """A part of the review request email after the products (reviews.nps: its question):
    `build(request, reminder=bool)` gives (text, html), or None to add nothing. `request` is unsaved
    (no pk) for the merchant's previews and test sends."""
    _r.request_email_parts[name] = build


def request_email_parts(request: Any, *, reminder: bool) -> list[tuple[str, str]]:
    return [part for build in _r.request_email_parts.values() if (part := build(request, reminder=reminder))]


def register_capped_emails(name: str, count: Callable[..., int]) -> None:
    """Emails besides review requests and reminders that the per-customer cap of review emails
    counts (reviews.nps's own question): `count(customer, since)`, emails sent to them since then."""
    _r.capped_emails[name] = count


def capped_emails_count(customer: "Customer", since: Any) -> int:
    return sum(count(customer, since) for count in _r.capped_emails.values())


def register_buyer_section(name: str, build: Callable[..., dict | None]) -> None:
    """A part of what the checkout and customer-account extensions show: `build(buyer)` (a
    shopapp.buyer_api.Buyer) gives top-level keys of the answer ("referral", "review", "account"),
    or None to show nothing. Parts two apps give under one key are merged."""
    _r.buyer_sections[name] = build


def buyer_sections() -> dict[str, Callable[..., dict | None]]:
    return dict(_r.buyer_sections)


# --- customer data and uninstall ------------------------------------------------------

@dataclass(frozen=True)
class CustomerRef:
    """The customer a compliance request names, as Shopify identifies them."""

    shopify_id: str
    email: str
    phone: str
    order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataOwner:
    name: str
    export: Callable[[Shop, CustomerRef], Any]
    redact: Callable[[Shop, CustomerRef], None]


def register_customer_data(name: str, *, export: Callable[[Shop, CustomerRef], Any], redact: Callable[[Shop, CustomerRef], None]) -> None:
    _r.owners[name] = DataOwner(name, export, redact)


def register_uninstall_hook(func: Callable[[Shop], None]) -> None:
    if func not in _r.uninstall_hooks:
        _r.uninstall_hooks.append(func)


def customer_data_export(shop: Shop, customer: CustomerRef) -> dict[str, Any]:
    return {name: owner.export(shop, customer) for name, owner in sorted(_r.owners.items())}


def customer_data_redact(shop: Shop, customer: CustomerRef) -> None:
    # "orders" erases the email the other owners find the customer by (a guest has no id): it goes last.
    for owner in sorted(_r.owners.values(), key=lambda o: o.name == "orders"):
        owner.redact(shop, customer)


def run_uninstall_hooks(shop: Shop) -> None:
    for hook in _r.uninstall_hooks:
        hook(shop)


def register_reconnect_hook(func: Callable[..., None]) -> None:
    """`func(shop, *, reinstalled)`: the shop has a token again (after an uninstall when `reinstalled`)."""
    if func not in _r.reconnect_hooks:
        _r.reconnect_hooks.append(func)


def run_reconnect_hooks(shop: Shop, *, reinstalled: bool) -> None:
    for hook in _r.reconnect_hooks:
        hook(shop, reinstalled=reinstalled)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    path: str
    order: int
    badge: Callable[[Shop], int] | None = None


def register_panel_nav(key: str, label: str, path: str, *, order: int, badge: Callable[[Shop], int] | None = None) -> None:
    """Add a page to the panel's navigation (badge: a count shown beside it, e.g. open cases)."""
    _r.nav[key] = NavItem(key, label, path, order, badge)


def panel_nav(shop: Shop) -> list[dict]:
    return [
        {"key": item.key, "label": item.label, "path": item.path, "badge": item.badge(shop) if item.badge else 0}
        for item in sorted(_r.nav.values(), key=lambda i: i.order)
    ]


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    path: str
    order: int
    done: Callable[[Shop], bool]


def register_onboarding_step(key: str, label: str, path: str, *, order: int, done: Callable[[Shop], bool]) -> None:
    """A first-install step; `done` reads real state (never a checkbox the merchant ticks)."""
    _r.checklist[key] = ChecklistItem(key, label, path, order, done)


def onboarding_steps(shop: Shop) -> list[dict]:
    return [
        {"key": i.key, "label": i.label, "path": i.path, "done": bool(i.done(shop))}
        for i in sorted(_r.checklist.values(), key=lambda i: i.order)
    ]


def register_shop_data(name: str, *, export: Callable[[Shop], Any]) -> None:
    """Everything an app stores for a shop, for the merchant's full export."""
    _r.shop_exporters[name] = export


def shop_data_export(shop: Shop) -> dict[str, Any]:
    return {name: export(shop) for name, export in sorted(_r.shop_exporters.items())}


@dataclass(frozen=True)
class SettingsSection:
    key: str
    title: str
    description: str
    path: str
    order: int


def register_settings_section(key: str, title: str, description: str, path: str, *, order: int) -> None:
    """A block on the Settings page linking to an app's own settings form."""
    _r.settings_sections[key] = SettingsSection(key, title, description, path, order)


def settings_sections() -> list[SettingsSection]:
    return sorted(_r.settings_sections.values(), key=lambda s: s.order)


def panel_pages() -> list[str]:
    """Every page the panel links to from its navigation or the Settings page (for tests that visit them all)."""
    paths = [item.path for item in sorted(_r.nav.values(), key=lambda i: i.order)]
    paths += [section.path for section in settings_sections()]
    return list(dict.fromkeys(paths + ["/app/activity/", "/app/privacy/"]))
