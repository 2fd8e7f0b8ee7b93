from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self) -> None:
        from reviews import handlers  # noqa: F401  (registers webhook handlers)
        from reviews.incentives import review_incentives_sweep
        from reviews.services import review_requests_sweep
        from shopapp.jobs import register_sweeper
        from shopapp.registry import register_panel_nav, register_settings_section

        register_sweeper(review_requests_sweep)
        register_sweeper(review_incentives_sweep)
        register_panel_nav("reviews", "Reviews", "/app/reviews/", order=10, badge=_held_count)
        register_settings_section(
            "reviews", "Review requests", "When requests are sent, the email's words, storefront reviews and incentives.",
            "/app/reviews/settings/", order=10,
        )


def _held_count(shop) -> int:
    from reviews.models import Review

    return Review.objects.for_shop(shop).filter(status=Review.Status.HELD).count()
