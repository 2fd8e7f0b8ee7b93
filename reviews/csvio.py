"""Reviews as CSV: export all of a shop's reviews (streamed) and import reviews from another
app, all rows or none. The import format is documented in README.md ("Importing reviews").

Imported reviews keep their dates, are labelled imported (source "import") and are never tied
to an order line: a file's `verified` column shows as "Verified (imported)", because Advocate
cannot check it.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Iterator

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _, pgettext

from reviews.models import Review
from reviews.services import product_rating_refresh
from shopapp.admin_api import AdminClient
from shopapp.languages import number_format
from shopapp.models import Shop

EXPORT_COLUMNS = ["product_id", "product_title", "rating", "title", "body", "author", "date", "verified", "status",
                  "incentivized", "reply"]
IMPORT_COLUMNS = ["product_handle", "rating", "title", "body", "author", "date", "verified"]
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
HANDLES_PER_QUERY = 25
HANDLE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,254}$")
YES, NO = {"yes", "true", "1", "y"}, {"no", "false", "0", "n", ""}


class ImportRefused(Exception):
    """The whole file was refused; `errors` say which rows and what to do."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


# --- export ------------------------------------------------------------------------------

class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets: shopper text must not.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def reviews_csv_lines(*, shop: Shop) -> Iterator[str]:
    """The shop's reviews as CSV lines, header first, read from the database in chunks."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)  # the BOM makes spreadsheet apps read UTF-8
    reviews = Review.objects.for_shop(shop).order_by("pk").only(
        "product_id", "product_title", "rating", "title", "body", "display_name", "created_at", "order_line_id",
        "imported_verified", "status", "incentivized", "reply")
    for review in reviews.iterator(chunk_size=500):
        verified = "yes" if review.verified else ("imported" if review.imported_verified else "no")
        yield writer.writerow([_cell(v) for v in (
            review.product_id, review.product_title, review.rating, review.title, review.body, review.author,
            review.created_at.date().isoformat(), verified, review.status, "yes" if review.incentivized else "no",
            review.reply)])


# --- import ------------------------------------------------------------------------------

@dataclass
class ImportRow:
    number: int
    handle: str
    rating: int
    title: str
    body: str
    author: str
    day: date
    verified: bool
    product: dict = field(default_factory=dict)


def reviews_import(*, shop: Shop, data: bytes) -> int:
    """Import every row of a CSV file, or none: ImportRefused names each bad row."""
    rows = _parse(data)
    _resolve_products(shop, rows)
    with transaction.atomic():
        Review.objects.bulk_create([_review(shop, row) for row in rows], batch_size=500)
        for product in {row.product["id"]: row.product for row in rows}.values():
            product_rating_refresh(shop=shop, product_id=product["id"], product_title=product["title"])
    return len(rows)


def _review(shop: Shop, row: ImportRow) -> Review:
    when = timezone.make_aware(datetime.combine(row.day, time(12)), timezone.get_current_timezone())
    return Review(shop=shop, product_id=row.product["id"], product_title=row.product["title"][:255],
                  rating=row.rating, title=row.title, body=row.body, display_name=row.author,
                  source=Review.Source.IMPORT, imported_verified=row.verified, status=Review.Status.PUBLISHED,
                  published_at=when, created_at=when, updated_at=timezone.now())


def _parse(data: bytes) -> list[ImportRow]:
    if len(data) > MAX_BYTES:
        raise ImportRefused([_("The file is %(size)s MB; the limit is 2 MB. Split it into smaller files and import "
                               "them one by one.") % {"size": number_format(round(len(data) / 1024 / 1024, 1))}])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused([_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if header != IMPORT_COLUMNS:
        found = ",".join(header) or pgettext("a CSV file's header that is empty", "nothing")
        raise ImportRefused([_("Row 1 (the header) must be exactly: %(columns)s. Found: %(found)s.") % {
            "columns": ",".join(IMPORT_COLUMNS), "found": found}])
    rows, errors = [], []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines (a trailing newline) are not rows
        if len(rows) + len(errors) >= MAX_ROWS:
            raise ImportRefused([_("The file has more than %(max)s reviews. Split it into files of at most %(max)s "
                                   "rows and import them one by one.") % {"max": number_format(MAX_ROWS)}])
        row, problems = _row(number, cells)
        if problems:
            errors.append(_("Row %(number)s: %(problems)s") % {"number": number, "problems": " ".join(problems)})
        else:
            rows.append(row)
    if errors:
        raise ImportRefused(errors)
    if not rows:
        raise ImportRefused([_("The file has a header but no reviews. Add one review per row below the header.")])
    return rows


def _row(number: int, cells: list[str]) -> tuple[ImportRow | None, list[str]]:
    if len(cells) != len(IMPORT_COLUMNS):
        return None, [_("has %(found)s columns instead of %(wanted)s. Put quotes around text that contains "
                        "commas or line breaks.") % {"found": len(cells), "wanted": len(IMPORT_COLUMNS)}]
    handle, rating, title, body, author, day, verified = (c.strip() for c in cells)
    problems = []
    if not HANDLE.match(handle.lower()):
        problems.append(_("product_handle “%(handle)s” is not a product handle (like trail-mug). Copy the handle "
                          "from the product's page in Shopify admin.") % {"handle": handle})
    if rating not in {"1", "2", "3", "4", "5"}:
        problems.append(_("rating “%(rating)s” is not a whole number from 1 to 5. Use 1, 2, 3, 4 or 5.") % {
            "rating": rating})
    for name, value, limit in (("title", title, 120), ("body", body, 5000), ("author", author, 60)):
        if len(value) > limit:
            problems.append(_("%(column)s has %(count)s characters; shorten it to %(limit)s.") % {
                "column": name, "count": number_format(len(value)), "limit": number_format(limit)})
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        parsed = None
        problems.append(_("date “%(day)s” is not a date like 2024-05-31. Use the YYYY-MM-DD form.") % {"day": day})
    if parsed and parsed > timezone.localdate():
        problems.append(_("date %(day)s is in the future. Use the date the review was written.") % {"day": day})
    if verified.lower() not in YES | NO:
        problems.append(_("verified “%(value)s” is not yes or no. Use yes, no, or leave it empty.") % {
            "value": verified})
    if problems:
        return None, problems
    return ImportRow(number, handle.lower(), int(rating), title, body, author, parsed, verified.lower() in YES), []


def _resolve_products(shop: Shop, rows: list[ImportRow]) -> None:
    """Each row's product, by exact handle, from the shop's Admin API; unknown handles refuse the file."""
    handles = sorted({row.handle for row in rows})
    found: dict[str, dict] = {}
    for start in range(0, len(handles), HANDLES_PER_QUERY):
        found.update(products_by_handle(shop, handles[start:start + HANDLES_PER_QUERY]))
    errors = [_("Row %(number)s: no product with the handle “%(handle)s” in your store. Check the handle in "
                "Shopify admin (Products, then the product's search engine listing).") % {
                    "number": row.number, "handle": row.handle} for row in rows if row.handle not in found]
    if errors:
        raise ImportRefused(errors)
    for row in rows:
        row.product = found[row.handle]


def products_by_handle(shop: Shop, handles: list[str]) -> dict[str, dict]:
    """{handle: {"id", "title"}} for the handles the shop has, in one aliased query."""
    params = ", ".join(f"$q{i}: String!" for i in range(len(handles)))
    fields = " ".join(f"p{i}: products(first: 5, query: $q{i}) {{ nodes {{ legacyResourceId handle title }} }}"
                      for i in range(len(handles)))
    variables = {f"q{i}": f"handle:'{h}'" for i, h in enumerate(handles)}
    data = AdminClient(shop).query(f"query advocateProductsByHandle({params}) {{ {fields} }}", variables,
                                   cost=len(handles) * 3)
    found = {}
    for i, handle in enumerate(handles):
        # The search matches loosely; only an exact handle counts.
        for node in (data.get(f"p{i}") or {}).get("nodes") or []:
            if node.get("handle") == handle:
                found[handle] = {"id": int(node["legacyResourceId"]), "title": node.get("title") or handle}
    return found
