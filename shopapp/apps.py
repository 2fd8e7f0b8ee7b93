from django.apps import AppConfig


class ShopappConfig(AppConfig):
    name = "shopapp"
    verbose_name = "Advocate platform"

    def ready(self) -> None:
        from shopapp import checks, compliance, dashboard, orders  # noqa: F401  (registers handlers and checks)
        from shopapp.models import MailSettings
        from shopapp.registry import register_onboarding_step, register_panel_nav

        register_panel_nav("home", "Dashboard", "/", order=0)
        register_panel_nav("settings", "Settings", "/app/settings/", order=70)
        register_panel_nav("activity", "Activity", "/app/activity/", order=80)
        register_onboarding_step(
            "sender", "Check how your emails look with a test email", "/app/settings/", order=20,
            done=lambda shop: MailSettings.objects.filter(shop=shop, test_sent_at__isnull=False).exists(),
        )
        register_panel_nav("privacy", "Privacy", "/app/privacy/", order=90)
