from django.urls import path

from reviews.cases import views_panel, views_shopper

urlpatterns = [
    path("app/cases/", views_panel.case_list, name="cases"),
    path("app/cases/settings/", views_panel.case_settings, name="case-settings"),
    path("app/cases/<int:case_id>/", views_panel.case_detail, name="case-detail"),
    path("app/cases/open/<int:review_id>/", views_panel.case_open_by_hand, name="case-open"),
    path("cases/a/<str:token>", views_shopper.customer_answer, name="case-answer"),
]
