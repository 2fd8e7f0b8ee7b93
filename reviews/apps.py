from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Order listeners run in this order after the platform stored the order: reviews, then referrals.
ORDER_LISTENER_ORDER = 10


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self) -> None:
        from reviews import handlers, privacy
        from reviews.buyer import buyer_review
        from reviews.figures import dashboard_section
        from reviews.incentives import review_incentives_sweep
        from reviews.lifecycle import review_requests_pause, review_requests_resume
        from reviews.feed import identifiers_sweep
        from reviews.metafields import (
            BULK_PURPOSE, metafields_bulk_done, metafields_bulk_read, metafields_reconnected, metafields_sweep,
        )
        from reviews.nonbuyer import unconfirmed_reviews_delete
        from reviews.requests import review_requests_sweep
        from shopapp.registry import (
            register_bulk_result, register_buyer_section, register_customer_data, register_dashboard_section, register_onboarding_step, register_order_listener,
            register_panel_nav, register_reconnect_hook, register_settings_section, register_shop_data, register_sweeper,
            register_uninstall_hook,
        )

        register_order_listener("reviews", handlers.on_order_changed, order=ORDER_LISTENER_ORDER)
        register_customer_data("reviews", export=privacy.reviews_customer_export, redact=privacy.reviews_customer_redact)
        register_shop_data("reviews", export=privacy.reviews_shop_export)
        register_sweeper(review_requests_sweep)
        register_buyer_section("review", buyer_review)
        register_sweeper(review_incentives_sweep)
        register_sweeper(unconfirmed_reviews_delete)
        register_sweeper(metafields_sweep)
        register_bulk_result(BULK_PURPOSE, metafields_bulk_read, metafields_bulk_done)
        register_sweeper(identifiers_sweep)
        register_uninstall_hook(review_requests_pause)
        register_reconnect_hook(review_requests_resume)
        register_reconnect_hook(metafields_reconnected)
        register_panel_nav("reviews", _("Reviews"), "/app/reviews/", order=10, badge=_held_count)
        register_settings_section(
            "reviews", _("Review requests"), _("When requests are sent, the email's words, storefront reviews and incentives."),
            "/app/reviews/settings/", order=10,
        )
        register_dashboard_section("reviews", _("Reviews"), order=10, build=dashboard_section)
        register_onboarding_step("review-requests", _("Switch on review requests"), "/app/reviews/settings/", order=10,
                                 done=_requests_on)
        register_onboarding_step("first-review", _("Receive your first review"), "/app/reviews/", order=50,
                                 done=_any_review)


def _held_count(shop) -> int:
    """Reviews waiting for the merchant: held by a rule, or reported by shoppers."""
    from reviews.models import Review
    from reviews.reports import reported_count

    return Review.objects.for_shop(shop).filter(status=Review.Status.HELD).count() + reported_count(shop)


def _requests_on(shop) -> bool:
    from reviews.models import ReviewSettings

    return ReviewSettings.for_shop(shop).requests_enabled


def _any_review(shop) -> bool:
    from reviews.models import Review

    return Review.objects.for_shop(shop).exists()
