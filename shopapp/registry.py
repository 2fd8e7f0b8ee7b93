"""What each app plugs into the platform layer without shopapp knowing it.

reviews and referrals register, from their AppConfig.ready():
- a customer data exporter and redactor (the compliance webhooks), and
- an uninstall hook that stops the shop's pending work, and
- a reconnect hook that resumes it when the shop is installed or reconnected again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from shopapp.models import Shop


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


_owners: dict[str, DataOwner] = {}
_uninstall_hooks: list[Callable[[Shop], None]] = []
_reconnect_hooks: list[Callable[..., None]] = []


def register_customer_data(name: str, *, export: Callable[[Shop, CustomerRef], Any], redact: Callable[[Shop, CustomerRef], None]) -> None:
    _owners[name] = DataOwner(name, export, redact)


def register_uninstall_hook(func: Callable[[Shop], None]) -> None:
    if func not in _uninstall_hooks:
        _uninstall_hooks.append(func)


def customer_data_export(shop: Shop, customer: CustomerRef) -> dict[str, Any]:
    return {name: owner.export(shop, customer) for name, owner in sorted(_owners.items())}


def customer_data_redact(shop: Shop, customer: CustomerRef) -> None:
    # "orders" erases the email the other owners find the customer by (a guest has no id): it goes last.
    for owner in sorted(_owners.values(), key=lambda o: o.name == "orders"):
        owner.redact(shop, customer)


def run_uninstall_hooks(shop: Shop) -> None:
    for hook in _uninstall_hooks:
        hook(shop)


def register_reconnect_hook(func: Callable[..., None]) -> None:
    """`func(shop, *, reinstalled)`: the shop has a token again (after an uninstall when `reinstalled`)."""
    if func not in _reconnect_hooks:
        _reconnect_hooks.append(func)


def run_reconnect_hooks(shop: Shop, *, reinstalled: bool) -> None:
    for hook in _reconnect_hooks:
        hook(shop, reinstalled=reinstalled)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    path: str
    order: int
    badge: Callable[[Shop], int] | None = None


_nav: dict[str, NavItem] = {}


def register_panel_nav(key: str, label: str, path: str, *, order: int, badge: Callable[[Shop], int] | None = None) -> None:
    """Add a page to the panel's navigation (badge: a count shown beside it, e.g. open cases)."""
    _nav[key] = NavItem(key, label, path, order, badge)


def panel_nav(shop: Shop) -> list[dict]:
    return [
        {"key": item.key, "label": item.label, "path": item.path, "badge": item.badge(shop) if item.badge else 0}
        for item in sorted(_nav.values(), key=lambda i: i.order)
    ]


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    path: str
    order: int
    done: Callable[[Shop], bool]


_checklist: dict[str, ChecklistItem] = {}
_shop_exporters: dict[str, Callable[[Shop], Any]] = {}


def register_onboarding_step(key: str, label: str, path: str, *, order: int, done: Callable[[Shop], bool]) -> None:
    """A first-install step; `done` reads real state (never a checkbox the merchant ticks)."""
    _checklist[key] = ChecklistItem(key, label, path, order, done)


def onboarding_steps(shop: Shop) -> list[dict]:
    return [
        {"key": i.key, "label": i.label, "path": i.path, "done": bool(i.done(shop))}
        for i in sorted(_checklist.values(), key=lambda i: i.order)
    ]


def register_shop_data(name: str, *, export: Callable[[Shop], Any]) -> None:
    """Everything an app stores for a shop, for the merchant's full export."""
    _shop_exporters[name] = export


def shop_data_export(shop: Shop) -> dict[str, Any]:
    return {name: export(shop) for name, export in sorted(_shop_exporters.items())}


@dataclass(frozen=True)
class SettingsSection:
    key: str
    title: str
    description: str
    path: str
    order: int


_settings_sections: dict[str, SettingsSection] = {}


def register_settings_section(key: str, title: str, description: str, path: str, *, order: int) -> None:
    """A block on the Settings page linking to an app's own settings form."""
    _settings_sections[key] = SettingsSection(key, title, description, path, order)


def settings_sections() -> list[SettingsSection]:
    return sorted(_settings_sections.values(), key=lambda s: s.order)


def panel_pages() -> list[str]:
    """Every page the panel links to from its navigation or the Settings page (for tests that visit them all)."""
    paths = [item.path for item in sorted(_nav.values(), key=lambda i: i.order)]
    paths += [section.path for section in settings_sections()]
    return list(dict.fromkeys(paths + ["/app/activity/", "/app/privacy/"]))
