"""Advocate settings. Every value comes from the environment; a bad value fails loudly."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def envbool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if not raw:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
# Production mode turns on the strict start-up checks (shopapp.checks).
PRODUCTION = envbool("PRODUCTION", not DEBUG and bool(env("SHOPIFY_API_SECRET")))
if PRODUCTION and DEBUG:
    # Debug pages show settings, SQL and tracebacks to anyone who triggers an error.
    raise ImproperlyConfigured("DEBUG must be off in production (PRODUCTION=1): unset DEBUG or set DEBUG=0.")

VAR_DIR = Path(env("ADVOCATE_VAR_DIR", str(BASE_DIR / "var")))

# Development secrets are fixed so the demo and the tests run with no env at all;
# production refuses them (shopapp.checks).
DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)

APP_URL = env("APP_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = [APP_URL]

# --- Shopify -----------------------------------------------------------------
SHOPIFY_API_KEY = env("SHOPIFY_API_KEY", "advocate-dev-client-id")
SHOPIFY_API_SECRET = env("SHOPIFY_API_SECRET", "advocate-dev-client-secret-not-for-production")
# During a secret rotation Shopify may still sign with the previous secret.
SHOPIFY_API_SECRET_OLD = env("SHOPIFY_API_SECRET_OLD") or None
SHOPIFY_API_VERSION = env("SHOPIFY_API_VERSION", "2026-10")
SHOPIFY_SCOPES = envlist(
    "SHOPIFY_SCOPES",
    "read_orders,read_customers,write_customers,read_products,write_products,read_themes,write_discounts,"
    "write_store_credit_account_transactions,unauthenticated_read_content,read_locales",
)
# Asked for after install, when a feature needs them (shopify.app.toml's optional_scopes): read_all_orders
# lets the history import go back further than 60 days.
SHOPIFY_OPTIONAL_SCOPES = envlist("SHOPIFY_OPTIONAL_SCOPES", "read_all_orders")
# The app's handle in shopify.app.toml: theme blocks are named shopify://apps/{handle}/blocks/...
SHOPIFY_APP_HANDLE = env("SHOPIFY_APP_HANDLE", "advocate")
# Where Shopify is. Unset: the real Shopify. Set (the demo, the tests): every
# https://{shop}/... call and link goes to {SHOPIFY_UPSTREAM_URL}/shops/{shop}/...
SHOPIFY_UPSTREAM_URL = env("SHOPIFY_UPSTREAM_URL").rstrip("/")
SHOPIFY_HTTP_TIMEOUT = float(envint("SHOPIFY_HTTP_TIMEOUT", 10))
APP_BRIDGE_URL = env("APP_BRIDGE_URL", "https://cdn.shopify.com/shopifycloud/app-bridge.js")
APP_PROXY_PREFIX = env("APP_PROXY_PREFIX", "/apps/advocate")

# Fernet key(s) for tokens at rest, newest first; comma-separated for rotation.
DEV_TOKEN_KEY = "ZGV2LW9ubHktdG9rZW4ta2V5LW5vdC1mb3ItcHJvZCE="
TOKEN_ENCRYPTION_KEYS = envlist("TOKEN_ENCRYPTION_KEYS") or [DEV_TOKEN_KEY]

# --- Apps, middleware ---------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django_rq",
    "shopapp",
    "reviews",
    # NPS before cases: a customer's answers are erased (their rows locked) before their cases, so a
    # detractor's case opened at that moment is either refused or already there to be erased.
    "reviews.nps",
    "reviews.cases",
    "reviews.lookback",
    "referrals",
    "referrals.campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "shopapp.auth.EmbeddedShopMiddleware",
]

ROOT_URLCONF = "shopapp.urls"
WSGI_APPLICATION = "shopapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "shopapp.context_processors.app",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60))}
    # One test database per test run, so two runs on one server never clobber each other.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "advocate.sqlite3",
            # IMMEDIATE makes every atomic block take the write lock up front, the
            # SQLite stand-in for SELECT ... FOR UPDATE (token refresh, claims).
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            "TEST": {"NAME": VAR_DIR / f"test-advocate-{os.getpid()}.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Jobs ---------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
# With no Redis, jobs run in-process on a background thread (JOBS_INLINE runs them
# synchronously after commit instead, which the test suite uses).
JOBS_INLINE = envbool("JOBS_INLINE", False)
RQ_QUEUES = {
    "default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 300},
}
# The length of a "day" in every day-based delay (review request delay, reminder,
# referral hold). 86400 in real life; the demo compresses it to seconds.
ADVOCATE_DAY_SECONDS = envint("ADVOCATE_DAY_SECONDS", 86400)
ADVOCATE_DAY = timedelta(seconds=ADVOCATE_DAY_SECONDS)
SWEEP_INTERVAL_SECONDS = envint("SWEEP_INTERVAL_SECONDS", 30)
WEBHOOK_MAX_ATTEMPTS = envint("WEBHOOK_MAX_ATTEMPTS", 8)
# A worker's claim on an event lasts this long; a live worker also holds the row locked, so a
# long job is never taken from it, and a killed one frees its event after at most this.
JOB_LEASE_SECONDS = envint("JOB_LEASE_SECONDS", 60)
# The sweep does not queue a row again while an earlier queueing is younger than this.
JOB_QUEUED_HOLD_SECONDS = envint("JOB_QUEUED_HOLD_SECONDS", 300)
# An event about an order Advocate has not stored waits; after this long the order is fetched
# from Shopify, and after WEBHOOK_AWAIT_GIVE_UP_SECONDS the event fails for someone to look at.
WEBHOOK_AWAIT_FETCH_SECONDS = envint("WEBHOOK_AWAIT_FETCH_SECONDS", 600)
WEBHOOK_AWAIT_GIVE_UP_SECONDS = envint("WEBHOOK_AWAIT_GIVE_UP_SECONDS", 2 * 86400)
FOLLOW_UP_MAX_ATTEMPTS = envint("FOLLOW_UP_MAX_ATTEMPTS", 10)
# A shop connecting for the first time gets its last year of orders imported (shopapp.history).
HISTORY_IMPORT_ON_INSTALL = envbool("HISTORY_IMPORT_ON_INSTALL", True)
# The health check fails when the sweep has not completed a round for this long.
SWEEP_STALE_SECONDS = envint("SWEEP_STALE_SECONDS", 300)
# Multiplies every public endpoint's per-IP limit (raise it when many shoppers share one IP,
# e.g. behind a carrier NAT; the benchmarks raise it because all their load comes from loopback).
RATE_LIMIT_SCALE = envint("RATE_LIMIT_SCALE", 1)
# Referral clicks are written in batches at most this many milliseconds late (0: each click at
# once). A worker killed without warning loses that much of its clicks, never an attribution.
CLICK_BATCH_MAX_WAIT_MS = envint("CLICK_BATCH_MAX_WAIT_MS", 1000)
# Ask Shopify (an online token exchange) for the name of each staff member who opens the panel.
STAFF_NAMES_FROM_SHOPIFY = envbool("STAFF_NAMES_FROM_SHOPIFY", True)
# A metafield sync with at least this many products due goes through one bulk mutation instead
# of metafieldsSet calls under the rate limit (a resync of a large catalogue).
METAFIELDS_BULK_AT = envint("METAFIELDS_BULK_AT", 250)
WEBHOOK_MAX_BODY = 1024 * 1024
# Stored webhooks are handed to the job queue in batches at most this many milliseconds late
# (0: one job per webhook, at once). Only with Redis; a batch a killed worker had not handed
# over is re-driven by the sweep, so nothing is lost.
WEBHOOK_BATCH_MAX_WAIT_MS = envint("WEBHOOK_BATCH_MAX_WAIT_MS", 50)

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Email --------------------------------------------------------------------
# Unset: messages are kept in var/outbox as .eml files the demo can show.
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Advocate <no-reply@advocate.localhost>")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "outbox"

# --- Static, i18n, security ---------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "shopapp" / "static"]
WHITENOISE_USE_FINDERS = True

USE_TZ = True
TIME_ZONE = "UTC"
# What shoppers read is in their own language (shopapp.languages picks it); compiled catalogues
# live in locale/<lang>/LC_MESSAGES. README › Languages says how to add one.
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어"), ("ja", "日本語"), ("de", "Deutsch"), ("fr", "Français"),
             ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = APP_URL.startswith("https://")
CSRF_COOKIE_SECURE = APP_URL.startswith("https://")
# The panel lives in Shopify's admin iframe: cookies must cross sites there.
CSRF_COOKIE_SAMESITE = "None" if CSRF_COOKIE_SECURE else "Lax"
# No page may be framed (shopper links carry tokens: clickjacking), except the two the
# admin frames, which name the shop's admin in CSP frame-ancestors instead (shopapp.auth).
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # Each request runserver answers (the demo sets INFO, so its log shows what reached Advocate).
    "loggers": {"django.server": {"level": env("REQUEST_LOG_LEVEL", "WARNING"), "propagate": True}},
}
