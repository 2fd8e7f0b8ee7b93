from django.urls import path

from reviews import views_shopper

urlpatterns = [
    path("reviews/r/<str:token>", views_shopper.review_form, name="review-form"),
    path("reviews/r/<str:token>/photos/<int:photo_id>.jpg", views_shopper.review_photo_for_link),
    path("proxy/reviews/r/<str:token>", views_shopper.proxy_review_form, name="proxy-review-form"),
    path("proxy/reviews/r/<str:token>/photos/<int:photo_id>.jpg", views_shopper.proxy_review_photo_for_link),
]
