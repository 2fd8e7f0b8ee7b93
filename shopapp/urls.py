from django.urls import include, path

from shopapp import buyer_api, views_flow, views_install, views_panel, views_shopper
from shopapp.webhooks import webhook_receive

urlpatterns = [
    path("", views_panel.panel_home, name="panel-home"),
    path("app/activity/", views_panel.activity, name="activity"),
    path("app/settings/", views_panel.settings_page, name="settings"),
    path("app/storefront/", views_panel.storefront_page, name="storefront"),
    path("app/history/", views_panel.history_page, name="history"),
    path("app/privacy/", views_panel.privacy_exports, name="privacy-exports"),
    path("app/privacy/shop-export.json", views_panel.privacy_shop_export, name="privacy-shop-export"),
    path("app/privacy/exports/<int:export_id>.json", views_panel.privacy_export_download, name="privacy-export-download"),
    path("auth/patch-id-token", views_install.patch_id_token, name="patch-id-token"),
    path("auth/install", views_install.oauth_install, name="oauth-install"),
    path("auth/callback", views_install.oauth_callback, name="oauth-callback"),
    path("install", views_install.landing, name="landing"),
    path("webhooks", webhook_receive, name="webhooks"),
    path("ext/v1/buyer", buyer_api.buyer_data, name="buyer-data"),
    path("flow/actions/pause-emails", views_flow.pause_emails_action, name="flow-pause-emails"),
    path("healthz", views_install.healthz, name="healthz"),
    path("u/<str:token>", views_shopper.unsubscribe, name="unsubscribe"),
    path("", include("reviews.urls")),
    path("", include("reviews.cases.urls")),
    path("", include("reviews.nps.urls")),
    path("", include("reviews.lookback.urls")),
    path("", include("referrals.urls")),
    path("", include("referrals.campaigns.urls")),
]
