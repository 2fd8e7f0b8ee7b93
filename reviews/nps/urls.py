from django.urls import path

from reviews.nps import views_panel, views_shopper

urlpatterns = [
    path("app/reviews/nps/", views_panel.nps_page, name="nps"),
    path("nps/<str:token>", views_shopper.nps_page, name="nps-answer"),
    path("proxy/nps/<str:token>", views_shopper.proxy_nps_page, name="proxy-nps-answer"),
]
