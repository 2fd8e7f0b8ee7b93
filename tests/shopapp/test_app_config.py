from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from django.conf import settings

from shopapp.registry import registered_topics

TOML = tomllib.loads((Path(__file__).resolve().parents[2] / "shopify.app.toml").read_text())


def _subscribed() -> set[str]:
    topics: set[str] = set()
    for sub in TOML["webhooks"]["subscriptions"]:
        topics.update(sub.get("topics", []))
        topics.update(sub.get("compliance_topics", []))
    return topics


def test_app_config_subscribes_the_three_compliance_topics():
    assert {"customers/data_request", "customers/redact", "shop/redact"} <= _subscribed()


def test_every_subscribed_topic_has_a_handler_and_every_handler_is_subscribed():
    handled = {t for t in registered_topics() if "/" in t and not t.startswith("test/")}
    assert _subscribed() == handled


def test_app_config_matches_the_settings():
    assert TOML["webhooks"]["api_version"] == settings.SHOPIFY_API_VERSION
    assert TOML["access_scopes"]["scopes"].split(",") == settings.SHOPIFY_SCOPES
    assert TOML["app_proxy"] == {**TOML["app_proxy"], "prefix": "apps", "subpath": "advocate"}
    assert TOML["app_proxy"]["url"].endswith("/proxy")


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"models changed without a migration; run manage.py makemigrations:\n{out.getvalue()}")


def test_order_listeners_run_in_the_order_the_apps_state_reviews_before_referrals():
    from referrals.handlers import on_order_changed as referrals_listener
    from reviews.handlers import on_order_changed as reviews_listener
    from reviews.nps.services import on_order_changed as nps_listener
    from shopapp.registry import order_listeners

    assert order_listeners() == [reviews_listener, nps_listener, referrals_listener]


def test_importing_a_feature_module_registers_nothing():
    """Everything is registered in AppConfig.ready(): importing (here: re-running) a module adds nothing."""
    import os
    import subprocess
    import sys

    script = """
import importlib, django
django.setup()
from shopapp import registry
def count():
    return {name: len(value) for name, value in vars(registry.registry_snapshot()).items()}
before = count()
for name in ("shopapp.orders", "shopapp.compliance", "shopapp.dashboard", "shopapp.mail", "reviews.privacy",
             "reviews.handlers", "reviews.requests", "reviews.services", "referrals.privacy", "referrals.handlers",
             "referrals.rewards", "referrals.invitations", "referrals.program", "referrals.services",
             "reviews.cases.services", "reviews.cases.conversation", "reviews.cases.privacy", "reviews.cases.sweep"):
    importlib.reload(importlib.import_module(name))
assert count() == before, (before, count())
"""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "shopapp.settings"})
    assert result.returncode == 0, result.stderr[-2000:]
