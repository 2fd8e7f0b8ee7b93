from django.urls import path

from reviews.lookback import views_panel

urlpatterns = [
    path("app/reviews/lookback/", views_panel.lookback_page, name="lookback"),
]
