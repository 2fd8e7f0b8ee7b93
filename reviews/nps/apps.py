from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# After reviews (10) and before referrals (20): the order of listeners is written here.
ORDER_LISTENER_ORDER = 15


class NpsConfig(AppConfig):
    """The Net Promoter question: its own app inside reviews/, so its table and migrations stand apart."""

    name = "reviews.nps"
    label = "nps"
    verbose_name = "Advocate NPS"

    def ready(self) -> None:
        from reviews.nps import privacy, services
        from reviews.nps.figures import dashboard_section
        from shopapp.registry import (
            register_capped_emails, register_customer_data, register_dashboard_section, register_order_listener,
            register_request_email_part, register_settings_section, register_shop_data, register_sweeper,
        )

        register_order_listener("nps", services.on_order_changed, order=ORDER_LISTENER_ORDER)
        register_sweeper(services.nps_sweep)
        # Asked inside the review request, or counted with it: one cap for every review email.
        register_request_email_part("nps", services.nps_request_part)
        register_capped_emails("nps", services.nps_emails_count)
        register_customer_data("nps", export=privacy.nps_customer_export, redact=privacy.nps_customer_redact)
        register_shop_data("nps", export=privacy.nps_shop_export)
        register_dashboard_section("nps", _("Net Promoter Score"), order=15, build=dashboard_section)
        register_settings_section(
            "nps", _("Net Promoter Score"), _("Ask how likely customers are to recommend you, in the review request or "
                                               "on its own, and read their answers."), "/app/reviews/nps/", order=15,
        )
