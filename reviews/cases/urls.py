from django.urls import path

from reviews.cases import views

urlpatterns = [
    path("app/cases/", views.case_list, name="cases"),
    path("app/cases/settings/", views.case_settings, name="case-settings"),
    path("app/cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("app/cases/open/<int:review_id>/", views.case_open_by_hand, name="case-open"),
    path("cases/a/<str:token>", views.customer_answer, name="case-answer"),
]
