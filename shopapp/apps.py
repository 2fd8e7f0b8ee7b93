from django.apps import AppConfig


class ShopappConfig(AppConfig):
    name = "shopapp"
    verbose_name = "Advocate platform"

    def ready(self) -> None:
        from shopapp import checks, compliance, orders  # noqa: F401  (registers handlers and checks)
