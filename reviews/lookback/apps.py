from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LookbackConfig(AppConfig):
    """Look-back review requests: its own app inside reviews/, so its tables and migrations stand apart."""

    name = "reviews.lookback"
    label = "lookback"
    verbose_name = "Advocate look-back requests"

    def ready(self) -> None:
        from reviews.lookback.services import lookback_sweep
        from shopapp.registry import register_settings_section, register_sweeper

        register_sweeper(lookback_sweep)
        register_settings_section(
            "lookback", gettext_lazy("Ask past customers"),
            gettext_lazy("Review requests for orders fulfilled before Advocate, spread over days at the rate you "
                         "choose."),
            "/app/reviews/lookback/", order=12,
        )
