"""Panel pages: export the shop's reviews as CSV, and import reviews from a CSV file."""
from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from reviews.csvio import IMPORT_COLUMNS, MAX_BYTES, MAX_ROWS, ImportRefused, reviews_csv_lines, reviews_import
from shopapp.admin_api import ShopifyError


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text=f"Up to 2 MB and {MAX_ROWS:,} reviews, UTF-8.",
                           error_messages={"required": "Choose a CSV file to import."},
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))


@require_GET
def reviews_export(request: HttpRequest) -> StreamingHttpResponse:
    name = f"reviews-{request.shop.domain.split('.')[0]}-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(reviews_csv_lines(shop=request.shop), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def reviews_import_page(request: HttpRequest) -> HttpResponse:
    form, errors, notice, status = ImportForm(), [], "", 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_BYTES:
                    raise ImportRefused([f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is 2 MB. "
                                         "Split it into smaller files and import them one by one."])
                count = reviews_import(shop=request.shop, data=upload.read())
                notice = f"Imported {count:,} review{'s' if count != 1 else ''}. They are published and labelled imported."
            except ImportRefused as exc:
                errors, status = exc.errors, 400
            except ShopifyError:
                errors, status = ["Shopify could not be reached to look up the product handles. Nothing was "
                                  "imported; try again in a minute."], 502
        else:
            status = 400
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(request, "reviews/panel/import.html", {
        "shop": request.shop, "nav": "reviews", "form": form, "errors": errors[:200], "more": max(0, len(errors) - 200),
        "notice": notice, "columns": IMPORT_COLUMNS,
    }, status=status)
