from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The platform's own handlers run first on every topic; apps get the parsed OrderEvent after them.
PLATFORM_FIRST = 0


class ShopappConfig(AppConfig):
    name = "shopapp"
    verbose_name = "Advocate platform"

    def ready(self) -> None:
        from shopapp import branding, bulk, catalog, checks, compliance, flow, history, orders, themes  # noqa: F401  (checks: system checks)
        from shopapp.dashboard import retention_section
        from shopapp.jobs import follow_ups_redrive
        from shopapp.models import MailSettings
        from shopapp.order_fetch import awaited_orders_fetch
        from shopapp.registry import (
            register_bulk_result, register_customer_data, register_dashboard_section, register_marketing_block,
            register_onboarding_step, register_panel_nav, register_reconnect_hook, register_settings_section,
            register_shop_data, register_sweeper, register_uninstall_hook, register_webhook_handler,
        )
        from shopapp.webhooks import webhook_events_redrive, webhook_events_resume
        from shopapp.services import oauth_states_purge

        handlers = {
            orders.on_order: orders.ORDER_TOPICS,
            orders.on_fulfillment: ("fulfillments/create", "fulfillments/update"),
            orders.on_refund: ("refunds/create",),
            orders.on_customer: ("customers/create", "customers/update"),
            orders.on_marketing_consent: ("customers_email_marketing_consent/update",),
            compliance.on_app_uninstalled: ("app/uninstalled",),
            compliance.on_customers_data_request: ("customers/data_request",),
            compliance.on_customers_redact: ("customers/redact",),
            compliance.on_shop_redact: ("shop/redact",),
            bulk.on_bulk_finish: ("bulk_operations/finish",),
        }
        for handler, topics in handlers.items():
            for topic in topics:
                register_webhook_handler(topic, handler, order=PLATFORM_FIRST)
        register_customer_data("orders", export=orders.orders_customer_export, redact=orders.orders_customer_redact)
        register_shop_data("orders", export=orders.orders_shop_export)

        register_sweeper(webhook_events_redrive)
        register_sweeper(awaited_orders_fetch)
        register_sweeper(follow_ups_redrive)
        register_sweeper(flow.flow_triggers_sweep)
        register_uninstall_hook(flow.flow_uninstalled)
        register_customer_data("flow", export=flow.flow_customer_export, redact=flow.flow_customer_redact)
        register_marketing_block(flow.email_pause_reason)
        register_sweeper(themes.theme_checks_due)
        register_sweeper(bulk.bulk_sweep)
        register_reconnect_hook(branding.brand_read_due)
        register_reconnect_hook(catalog.featured_products_due)
        register_uninstall_hook(branding.brand_uninstalled)

        register_dashboard_section("retention", _("Retention"), order=90, build=retention_section)
        register_panel_nav("home", _("Dashboard"), "/", order=0)
        register_panel_nav("settings", _("Settings"), "/app/settings/", order=70)
        register_onboarding_step(
            "sender", _("Check how your emails look with a test email"), "/app/settings/", order=20,
            done=lambda shop: MailSettings.objects.filter(shop=shop, test_sent_at__isnull=False).exists(),
        )
        register_onboarding_step(
            "theme", _("Add Advocate's reviews to your theme"), "/app/storefront/", order=30,
            done=lambda shop: "reviews" in (shop.theme_blocks or []),
        )
        register_settings_section(
            "storefront", _("Storefront"), _("Add Advocate's reviews, star badge and referral button to your theme, and its blocks to "
                             "checkout and customer accounts."),
            "/app/storefront/", order=5,
        )
        register_sweeper(oauth_states_purge)
        register_reconnect_hook(webhook_events_resume)

        # The history import (#18): bulk queries read by history_result_read; started on first install.
        register_bulk_result(history.PURPOSE, history.history_result_read, history.history_bulk_done)
        register_sweeper(history.history_imports_sweep)
        register_reconnect_hook(history.history_import_on_install)
        register_uninstall_hook(history.history_uninstalled)
        register_uninstall_hook(bulk.bulk_uninstalled)  # after the import it belongs to has stopped
        register_settings_section(
            "history", _("Order history"), _("Bring in the orders, customers and products from before Advocate."),
            "/app/history/", order=60,
        )
        register_onboarding_step("history", _("Bring in your past orders"), "/app/history/", order=5,
                                 done=history.history_imported)
        register_dashboard_section("history", _("Order history"), order=5, build=history.history_dashboard_section)
