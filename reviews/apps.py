from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self) -> None:
        from reviews import handlers  # noqa: F401  (registers webhook handlers)
        from reviews.services import review_requests_sweep
        from shopapp.jobs import register_sweeper
        from shopapp.registry import register_panel_nav

        register_sweeper(review_requests_sweep)
        register_panel_nav("reviews", "Reviews", "/app/reviews/", order=10)
