from django.urls import path

from referrals import views

urlpatterns = [
    path("r/<str:code>", views.landing, name="referral-landing"),
    path("proxy/referrals/r/<str:code>", views.proxy_landing, name="referral-proxy-landing"),
]
