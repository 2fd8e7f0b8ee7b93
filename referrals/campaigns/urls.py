from django.urls import path

from referrals.campaigns import views_panel

urlpatterns = [
    path("app/referrals/past-buyers/", views_panel.past_buyers_page, name="past-buyers"),
]
