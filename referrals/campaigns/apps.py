from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CampaignsConfig(AppConfig):
    """Past buyers as advocates: its own app inside referrals/, so its tables and migrations stand apart."""

    name = "referrals.campaigns"
    label = "campaigns"
    verbose_name = "Advocate past-buyer campaigns"

    def ready(self) -> None:
        from referrals.campaigns import privacy
        from referrals.campaigns.services import campaigns_sweep
        from shopapp.registry import register_customer_data, register_settings_section, register_sweeper

        register_sweeper(campaigns_sweep)
        register_customer_data("campaigns", export=privacy.campaigns_customer_export,
                               redact=privacy.campaigns_customer_redact)
        register_settings_section(
            "past-buyers", gettext_lazy("Past buyers as advocates"),
            gettext_lazy("Referral codes for customers who ordered before Advocate, and an invitation to them at the "
                         "pace you choose."), "/app/referrals/past-buyers/", order=31,
        )
