from django.urls import path

from referrals import views_panel, views_shopper

urlpatterns = [
    path("r/<str:code>", views_shopper.landing, name="referral-landing"),
    path("proxy/referrals/r/<str:code>", views_shopper.proxy_landing, name="referral-proxy-landing"),
    path("referrals/me/<str:token>", views_shopper.share_page, name="referral-share"),
    path("proxy/referrals/me", views_shopper.proxy_share_page, name="referral-proxy-me"),
    # The theme's "Refer a friend" button (extensions/advocate-theme/blocks/referral-embed.liquid) lands here.
    path("proxy/referrals/", views_shopper.proxy_share_page, name="referral-proxy-home"),
    path("app/referrals/", views_panel.referral_list, name="referrals"),
    path("app/referrals/settings/", views_panel.program_settings, name="referral-settings"),
    path("app/referrals/<int:referral_id>/", views_panel.referral_detail, name="referral-detail"),
]
