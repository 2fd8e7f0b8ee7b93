from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPIFY_", "SECRET_KEY", "TOKEN_", "PRODUCTION", "APP_URL"))}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_development_defaults_pass_the_checks():
    assert _check({}).returncode == 0


def test_production_without_shopify_settings_refuses_to_start_and_names_them():
    result = _check({"PRODUCTION": "1"})
    assert result.returncode != 0
    for name in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "SECRET_KEY", "APP_URL"):
        assert name in result.stderr


def test_malformed_api_version_is_named():
    result = _check({"SHOPIFY_API_VERSION": "latest"})
    assert result.returncode != 0 and "SHOPIFY_API_VERSION" in result.stderr


def test_malformed_boolean_is_named():
    result = _check({"DEBUG": "perhaps"})
    assert result.returncode != 0 and "DEBUG" in result.stderr


def test_complete_production_settings_pass():
    from cryptography.fernet import Fernet

    result = _check({
        "PRODUCTION": "1", "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": "s" * 32, "SECRET_KEY": "x" * 40,
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "APP_URL": "https://advocate.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///" + str(ROOT / "var" / "check.sqlite3")),
        "REDIS_URL": "redis://127.0.0.1:6379/0", "ALLOWED_HOSTS": "advocate.example.com",
    })
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("debug", ["1", "true", "on"])
def test_production_with_debug_on_refuses_to_start(debug):
    result = _check({"PRODUCTION": "1", "DEBUG": debug})
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_debug_alone_is_development_and_starts():
    assert _check({"DEBUG": "1"}).returncode == 0
