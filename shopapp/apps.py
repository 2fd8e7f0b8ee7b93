from django.apps import AppConfig


class ShopappConfig(AppConfig):
    name = "shopapp"
    verbose_name = "Advocate platform"

    def ready(self) -> None:
        from shopapp import checks, compliance, dashboard, orders, themes  # noqa: F401  (registers handlers and checks)
        from shopapp.jobs import register_sweeper
        from shopapp.models import MailSettings
        from shopapp.registry import (
            register_onboarding_step, register_panel_nav, register_reconnect_hook, register_settings_section,
        )
        from shopapp.services import oauth_states_purge
        from shopapp.webhooks import webhook_events_resume

        register_panel_nav("home", "Dashboard", "/", order=0)
        register_panel_nav("settings", "Settings", "/app/settings/", order=70)
        register_onboarding_step(
            "sender", "Check how your emails look with a test email", "/app/settings/", order=20,
            done=lambda shop: MailSettings.objects.filter(shop=shop, test_sent_at__isnull=False).exists(),
        )
        register_onboarding_step(
            "theme", "Add Advocate's reviews to your theme", "/app/storefront/", order=30,
            done=lambda shop: "reviews" in (shop.theme_blocks or []),
        )
        register_settings_section(
            "storefront", "Storefront", "Add Advocate's reviews, star badge and referral button to your theme.",
            "/app/storefront/", order=5,
        )
        register_sweeper(themes.theme_checks_due)
        register_sweeper(oauth_states_purge)
        register_reconnect_hook(webhook_events_resume)
