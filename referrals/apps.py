from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        from referrals import handlers, program, services  # noqa: F401  (registers webhook handlers and sweepers)
        from referrals.notifications import advocate_news_sweep
        from shopapp.jobs import register_sweeper

        register_sweeper(advocate_news_sweep)
        from referrals.figures import dashboard_section, flagged_count
        from shopapp.dashboard import register_customer_segment, register_dashboard_section
        from shopapp.registry import register_onboarding_step, register_panel_nav, register_settings_section

        register_panel_nav("referrals", "Referrals", "/app/referrals/", order=30, badge=flagged_count)
        register_settings_section(
            "referrals", "Referral program",
            "The friend's offer, the advocate's reward, the hold before paying and the landing page.",
            "/app/referrals/settings/", order=30,
        )
        register_onboarding_step("referral-offer", "Set your referral offer", "/app/referrals/settings/", order=40,
                                 done=_offer_saved)
        register_dashboard_section("referrals", "Referrals", order=20, build=dashboard_section)
        register_customer_segment("Referred customers", _referred_customers)


def _offer_saved(shop) -> bool:
    from referrals.models import ProgramSettings

    return ProgramSettings.objects.filter(shop=shop, saved_at__isnull=False).exists()


def _referred_customers(shop):
    """Friends whose order an advocate referred (rejected referrals left out), for the retention comparison."""
    from referrals.models import Referral

    return (Referral.objects.for_shop(shop).exclude(status=Referral.Status.REJECTED)
            .filter(friend__isnull=False).values("friend_id"))
