from django.urls import include, path

from shopapp import views
from shopapp.webhooks import webhook_receive

urlpatterns = [
    path("", views.panel_home, name="panel-home"),
    path("app/activity/", views.activity, name="activity"),
    path("app/settings/", views.settings_page, name="settings"),
    path("app/storefront/", views.storefront_page, name="storefront"),
    path("app/privacy/", views.privacy_exports, name="privacy-exports"),
    path("app/privacy/shop-export.json", views.privacy_shop_export, name="privacy-shop-export"),
    path("app/privacy/exports/<int:export_id>.json", views.privacy_export_download, name="privacy-export-download"),
    path("auth/patch-id-token", views.patch_id_token, name="patch-id-token"),
    path("auth/install", views.oauth_install, name="oauth-install"),
    path("auth/callback", views.oauth_callback, name="oauth-callback"),
    path("install", views.landing, name="landing"),
    path("webhooks", webhook_receive, name="webhooks"),
    path("healthz", views.healthz, name="healthz"),
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("", include("reviews.urls")),
    path("", include("reviews.cases.urls")),
    path("", include("referrals.urls")),
]
