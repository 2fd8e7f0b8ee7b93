from django.urls import path

from reviews import views_panel, views_shopper, views_storefront

urlpatterns = [
    path("app/reviews/", views_panel.review_list, name="reviews"),
    path("app/reviews/export.csv", views_panel.reviews_export, name="reviews-export"),
    path("app/reviews/import/", views_panel.reviews_import_page, name="reviews-import"),
    path("app/reviews/settings/", views_panel.review_settings, name="review-settings"),
    path("app/reviews/<int:review_id>/", views_panel.review_detail, name="review-detail"),
    path("app/reviews/photos/<int:photo_id>.jpg", views_panel.review_photo, name="review-photo-panel"),
    path("reviews/r/<str:token>", views_shopper.review_form, name="review-form"),
    path("reviews/r/<str:token>/photos/<int:photo_id>.jpg", views_shopper.review_photo_for_link),
    path("proxy/reviews/r/<str:token>", views_shopper.proxy_review_form, name="proxy-review-form"),
    path("proxy/reviews/r/<str:token>/photos/<int:photo_id>.jpg", views_shopper.proxy_review_photo_for_link),
    path("proxy/reviews", views_storefront.all_reviews, name="storefront-all-reviews"),
    path("proxy/reviews/<int:product_id>", views_storefront.product_reviews, name="storefront-reviews"),
    path("proxy/reviews/<int:product_id>/mine", views_storefront.my_review, name="storefront-mine"),
    path("proxy/reviews/<int:product_id>/write", views_storefront.write_review, name="storefront-write"),
    path("reviews/confirm/<str:token>", views_storefront.confirm_review, name="storefront-confirm"),
    path("proxy/reviews/<int:product_id>/badge", views_storefront.product_badge, name="storefront-badge"),
    path("proxy/reviews/report/<int:review_id>", views_storefront.report_review, name="storefront-report"),
    path("proxy/reviews/photos/<int:photo_id>.jpg", views_storefront.review_photo, name="storefront-photo"),
    path("feeds/google-reviews/<str:token>.xml", views_storefront.google_feed, name="google-reviews-feed"),
]
