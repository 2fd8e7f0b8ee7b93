from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CasesConfig(AppConfig):
    """The negative-review case workflow: its own app inside reviews/, so its tables and migrations stand apart."""

    name = "reviews.cases"
    label = "cases"
    verbose_name = "Advocate cases"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from reviews.cases.from_nps import on_nps_answered
        from reviews.cases.figures import cases_section, customers_with_a_case, resolved_customers
        from reviews.cases.models import Case
        from reviews.cases.pause import on_case_saved, pauses_sweep
        from reviews.cases.privacy import case_marketing_block, cases_export, cases_redact, cases_shop_export
        from reviews.cases.services import case_thanks_block, on_review_saved
        from reviews.cases.sweep import cases_sweep
        from reviews.nps.services import nps_answered_subscribe
        from reviews.services import review_saved_subscribe
        from shopapp.registry import (
            register_customer_data, register_customer_segment, register_dashboard_section, register_marketing_block,
            register_panel_nav, register_review_thanks, register_settings_section, register_shop_data, register_sweeper,
        )

        # A follow-up row, retried by the sweep: an unhappy customer never silently gets no case.
        review_saved_subscribe("cases.open_for_negative_review", on_review_saved)
        nps_answered_subscribe("cases.open_for_detractor", on_nps_answered)
        register_marketing_block(case_marketing_block)
        register_sweeper(cases_sweep)
        # The pause in Shopify (a tag and a metafield other tools can see) follows every case.
        post_save.connect(on_case_saved, sender=Case, dispatch_uid="cases-pause-in-shopify")
        register_sweeper(pauses_sweep)
        register_review_thanks("cases", case_thanks_block)
        register_customer_data("cases", export=cases_export, redact=cases_redact)
        register_shop_data("cases", export=cases_shop_export)
        register_dashboard_section("cases", gettext_lazy("Unhappy customers"), order=30, build=cases_section)
        # Is a recovered customer loyal? Measured against customers who never had a case; a customer
        # whose case is still open (or closed unresolved) is in neither group.
        register_customer_segment(gettext_lazy("Customers whose case was resolved"), resolved_customers,
                                  against=gettext_lazy("Customers never unhappy"), excluded=customers_with_a_case)
        register_panel_nav("cases", gettext_lazy("Inbox"), "/app/cases/", order=20, badge=_needs_answer)
        register_settings_section(
            "cases", gettext_lazy("Inbox and cases"),
            gettext_lazy("Which reviews open a case, who is alerted, the response target and reply templates."),
            "/app/cases/settings/", order=20,
        )


def _needs_answer(shop) -> int:
    from reviews.cases.models import Case

    return Case.objects.for_shop(shop).filter(status__in=[Case.Status.NEW, Case.Status.OPEN]).count()
