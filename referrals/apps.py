from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# After reviews' listener (10): the order of listeners is written here, not implied by INSTALLED_APPS.
ORDER_LISTENER_ORDER = 20


class ReferralsConfig(AppConfig):
    name = "referrals"

    def ready(self) -> None:
        from referrals import handlers, privacy
        from referrals.buyer import buyer_referral
        from referrals.notifications import advocate_news_sweep
        from referrals.figures import customer_summary, dashboard_section, flagged_count
        from referrals.invitations import advocate_invites_sweep
        from referrals.program import advocate_code_updates_due
        from referrals.reversals import reversals_sweep
        from referrals.rewards import rewards_sweep
        from referrals.services import advocate_codes_due
        from referrals.sharing import link_offer_block, review_thanks_block
        from shopapp.registry import (
            register_buyer_section, register_customer_data, register_customer_segment, register_customer_summary,
            register_dashboard_section, register_onboarding_step, register_order_listener, register_panel_nav,
            register_promoter_thanks, register_review_thanks, register_settings_section, register_shop_data,
            register_sweeper,
        )

        register_order_listener("referrals", handlers.on_order_changed, order=ORDER_LISTENER_ORDER)
        register_customer_data("referrals", export=privacy.referrals_customer_export,
                               redact=privacy.referrals_customer_redact)
        register_shop_data("referrals", export=privacy.referrals_shop_export)
        for sweeper in (advocate_codes_due, advocate_code_updates_due, rewards_sweep, reversals_sweep,
                        advocate_invites_sweep, advocate_news_sweep):
            register_sweeper(sweeper)
        register_panel_nav("referrals", _("Referrals"), "/app/referrals/", order=30, badge=flagged_count)
        register_settings_section(
            "referrals", _("Referral program"),
            _("The friend's offer, the advocate's reward, the hold before paying and the landing page."),
            "/app/referrals/settings/", order=30,
        )
        register_onboarding_step("referral-offer", _("Set your referral offer"), "/app/referrals/settings/", order=40,
                                 done=_offer_saved)
        register_dashboard_section("referrals", _("Referrals"), order=20, build=dashboard_section)
        register_customer_segment(_("Referred customers"), _referred_customers)
        register_customer_summary(_("Referrals"), customer_summary)
        # A happy reviewer is offered their link on the thank-you page (never in the review request).
        register_review_thanks("referrals", review_thanks_block)
        # And a customer who would recommend the shop (NPS 9-10, reviews.nps), on theirs.
        register_promoter_thanks("referrals", link_offer_block)
        register_buyer_section("referral", buyer_referral)


def _offer_saved(shop) -> bool:
    from referrals.models import ProgramSettings

    return ProgramSettings.objects.filter(shop=shop, saved_at__isnull=False).exists()


def _referred_customers(shop):
    """Friends whose order an advocate referred (rejected referrals left out), for the retention comparison."""
    from referrals.models import Referral

    return (Referral.objects.for_shop(shop).exclude(status=Referral.Status.REJECTED)
            .filter(friend__isnull=False).values("friend_id"))
