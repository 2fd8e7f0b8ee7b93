"""CSV export of a shop's reviews, and import of reviews from a file: all rows or none."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviews.csvio import IMPORT_COLUMNS
from reviews.models import ProductRating, Review
from reviews.services import review_create, review_reply
from tests.shopapp.test_proxy import signed_proxy_query

pytestmark = pytest.mark.django_db
HEADER = ",".join(IMPORT_COLUMNS)
PRODUCTS = {"trail-mug": ("101", "Trail Mug"), "camp-kettle": ("102", "Camp Kettle"), "trail-mug-2": ("103", "Mug 2")}


@pytest.fixture
def shopify(fake_shopify, shop):
    fake_shopify.grant(shop.domain, shop.access_token, shop.refresh_token)

    def products(variables):  # Shopify's loose search: "trail-mug" also finds "trail-mug-2"
        handle = variables["q"].split(":", 1)[1].strip("'")
        return {"nodes": [{"legacyResourceId": pid, "handle": h, "title": title}
                          for h, (pid, title) in PRODUCTS.items() if handle in h]}

    original = fake_shopify._graphql

    def graphql(domain, request):
        import json

        import httpx

        body = json.loads(request.content)
        if "advocateProductsByHandle" not in body["query"]:
            return original(domain, request)
        fake_shopify.graphql_calls.append({"shop": domain, **body})
        data = {f"p{k[1:]}": products({"q": v}) for k, v in body["variables"].items()}
        return httpx.Response(200, json={"data": data})

    fake_shopify._graphql = graphql
    return fake_shopify


def _import(client, make_session_token, shop, text: str | bytes, name="reviews.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(f"/app/reviews/import/?id_token={make_session_token(shop.domain)}",
                       {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


GOOD = (f"{HEADER}\n"
        "trail-mug,5,Love it,\"Keeps coffee hot, all day\",Maya R.,2023-04-02,yes\n"
        "camp-kettle,2,,Handle gets hot.,Sam,2022-12-31,no\n"
        "Trail-Mug,4,Fine,,,2024-01-15,\n")


def test_good_file_imports_every_row_keeping_dates_labelled_imported(client, shop, shopify, make_session_token):
    response = _import(client, make_session_token, shop, GOOD)
    page = response.content.decode()
    assert response.status_code == 200 and "Imported 3 reviews." in page
    reviews = {(r.product_id, r.rating): r for r in Review.objects.for_shop(shop)}
    mug = reviews[(101, 5)]
    assert (mug.product_title, mug.body, mug.display_name) == ("Trail Mug", "Keeps coffee hot, all day", "Maya R.")
    assert mug.created_at.date().isoformat() == "2023-04-02"
    assert mug.source == Review.Source.IMPORT and mug.status == Review.Status.PUBLISHED
    assert mug.imported_verified and not mug.verified  # never tied to an order line
    assert not reviews[(102, 2)].imported_verified
    assert ProductRating.objects.get(shop=shop, product_id=101).count == 2
    storefront = client.get(f"/proxy/reviews/101?{signed_proxy_query(shop.domain)}").content.decode()
    assert "Verified (imported)" in storefront and "Verified buyer" not in storefront.split("advocate-statement")[0]
    # Ten distinct handles or fewer: one Shopify query.
    assert len([c for c in shopify.graphql_calls if "advocateProductsByHandle" in c["query"]]) == 1


def test_one_bad_row_imports_nothing_and_names_the_row(client, shop, shopify, make_session_token):
    text = GOOD + "trail-mug,6,Too many stars,,,2023-01-01,yes\nnot-a-product,3,,,,2023-01-01,no\n"
    response = _import(client, make_session_token, shop, text)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported" in page
    assert "Row 5: rating “6” is not a whole number from 1 to 5. Use 1, 2, 3, 4 or 5." in page
    assert not Review.objects.exists()
    fixed = GOOD + "not-a-product,3,,,,2023-01-01,no\n"
    page = _import(client, make_session_token, shop, fixed).content.decode()
    assert "Row 5: no product with the handle “not-a-product” in your store." in page
    assert not Review.objects.exists()


def test_bad_dates_and_columns_are_explained_per_row(client, shop, shopify, make_session_token):
    text = f"{HEADER}\ntrail-mug,5,a,b,c,31/12/2023,yes\ntrail-mug,5,a,b\ntrail-mug,5,,,,2023-01-01,maybe\n"
    page = _import(client, make_session_token, shop, text).content.decode()
    assert "Row 2: date “31/12/2023” is not a date like 2024-05-31." in page
    assert "Row 3: has 4 columns instead of 7." in page
    assert "Row 4: verified “maybe” is not yes or no." in page
    assert shopify.graphql_calls == []  # nothing asked of Shopify for a file that is already wrong


def test_wrong_header_is_refused(client, shop, shopify, make_session_token):
    response = _import(client, make_session_token, shop, "handle,stars,text\ntrail-mug,5,Great\n")
    assert response.status_code == 400
    assert f"Row 1 (the header) must be exactly: {HEADER}." in response.content.decode()
    assert not Review.objects.exists()


def test_too_big_or_too_many_rows_is_refused_with_a_clear_error(client, shop, shopify, make_session_token):
    row = "trail-mug,5,t," + "x" * 4000 + ",a,2023-01-01,yes\n"
    big = (HEADER + "\n" + row * 600).encode()
    page = _import(client, make_session_token, shop, big).content.decode()
    assert "the limit is 2 MB" in page
    many = HEADER + "\n" + "trail-mug,5,t,b,a,2023-01-01,yes\n" * 5001
    page = _import(client, make_session_token, shop, many).content.decode()
    assert "more than 5,000 reviews" in page
    assert not Review.objects.exists()


def test_another_shop_cannot_import_or_export_into_this_one(client, shop, other_shop, shopify, make_session_token):
    review_create(shop=shop, product_id=1, product_title="Trail Mug", rating=5, body="Mine", display_name="Maya")
    review_create(shop=other_shop, product_id=1, product_title="Lamp", rating=1, body="Theirs", display_name="Olly")
    # The outsider's session imports into the outsider's shop only, through the outsider's Shopify.
    _import(client, make_session_token, other_shop, GOOD)
    assert Review.objects.for_shop(shop).count() == 1
    assert all(c["shop"] == other_shop.domain for c in shopify.graphql_calls)
    exported = b"".join(client.get(f"/app/reviews/export.csv?id_token={make_session_token(shop.domain)}")
                        .streaming_content).decode()
    assert "Mine" in exported and "Theirs" not in exported
    assert client.get("/app/reviews/export.csv").status_code in (401, 403, 302)


def test_export_streams_every_review_with_its_columns(client, shop, make_session_token):
    review = review_create(shop=shop, product_id=7, product_title="Trail Mug", rating=3, title="=SUM(A1)",
                           body="Line one,\nline two", display_name="Maya R.", incentivized=True)
    review_reply(review=review, text="Thanks!", actor="merchant")
    response = client.get(f"/app/reviews/export.csv?id_token={make_session_token(shop.domain)}")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert list(rows[0]) == ["product_id", "product_title", "rating", "title", "body", "author", "date", "verified",
                             "status", "incentivized", "reply"]
    assert rows[0] == {"product_id": "7", "product_title": "Trail Mug", "rating": "3", "title": "'=SUM(A1)",
                       "body": "Line one,\nline two", "author": "Maya R.", "date": review.created_at.date().isoformat(),
                       "verified": "no", "status": "published", "incentivized": "yes", "reply": "Thanks!"}


def test_list_links_to_export_and_import(panel_get, shop):
    page = panel_get("/app/reviews/", shop).content.decode()
    assert "/app/reviews/export.csv?id_token=" in page and "/app/reviews/import/?id_token=" in page
