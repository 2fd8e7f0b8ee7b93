from django.apps import AppConfig


class ShopappConfig(AppConfig):
    name = "shopapp"
    verbose_name = "Advocate platform"

    def ready(self) -> None:
        from shopapp import checks, compliance, dashboard, orders  # noqa: F401  (registers handlers and checks)
        from shopapp.registry import register_panel_nav

        register_panel_nav("home", "Dashboard", "/", order=0)
        register_panel_nav("activity", "Activity", "/app/activity/", order=80)
        register_panel_nav("privacy", "Privacy", "/app/privacy/", order=90)
