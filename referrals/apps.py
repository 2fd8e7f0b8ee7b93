from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        from referrals import handlers, services  # noqa: F401  (registers webhook handlers and sweepers)
