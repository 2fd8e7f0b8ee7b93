"""Every panel page, opened by a staff member whose admin speaks Korean (or Japanese, German, French,
Spanish), shows no English: every word on it is either translated or data (a customer's name, a
product, a code). This catches what the catalogue tests cannot: a string built in Python and never
marked, a label stored in English, a date or a number written the English way.

An English word is one that Advocate's English texts use (the catalogues' msgids) and that the
language's own translations never use: "Status" on a German page is German too."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from tests.shopapp.test_catalogues import _VisibleText, _catalog, _texts

pytestmark = pytest.mark.django_db
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]

# Words no language translates: names of products and services, units and codes.
NAMES = {"Advocate", "Shopify", "Flow", "NPS", "CSV", "JSON", "USD", "EUR", "KRW", "JPY", "ID", "URL", "HTML", "SMTP",
         "Google", "Klaviyo", "Omnibus", "Dawn", "SEO", "GDPR", "CCPA", "API", "Email", "Plus", "PDF", "JPEG", "PNG",
         "WebP", "SVG", "CFR", "FTC", "UTC", "Liquid", "JSON-LD", "Schema.org", "Gmail", "Outlook", "DKIM", "SPF",
         "DMARC", "POS", "Yotpo", "Judge.me", "Okendo", "Stamped", "Loox", "AND", "OR", "Merchant", "Center",
         "Klaviyo", "https", "http", "English", "Deutsch", "Français", "Español", "RRGGBB", "rrggbb"}
SAME_EMAIL = "Self-referral: same email address as the advocate (after normalising)."
LATIN_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’.-]*[A-Za-zÀ-ÿ]")


@pytest.fixture
def busy_shop(shop, django_capture_on_commit_callbacks):
    """A shop with something on every page: reviews (one unhappy, so a case), an NPS answer, referrals."""
    from referrals.models import Advocate, Referral
    from reviews.nps.models import NpsSurvey
    from reviews.services import review_create
    from tests.referrals.helpers import customer, order
    from tests.reviews.cases.conftest import make_order

    type(shop).objects.filter(pk=shop.pk).update(email="owner@shop.test", currency="USD")
    shop.refresh_from_db()
    placed, line = make_order(shop)
    _second, other_line = make_order(shop)
    with django_capture_on_commit_callbacks(execute=True):
        review_create(shop=shop, product_id=line.product_id, product_title=line.title, rating=1, title="Broken",
                      body="Cracked", display_name="Maya R.", order_line=line, customer=placed.customer)
        review_create(shop=shop, product_id=other_line.product_id, product_title=other_line.title, rating=5,
                      title="Lovely", body="Great", display_name="Maya R.", order_line=other_line,
                      customer=placed.customer)
    NpsSurvey.objects.create(shop=shop, order=placed, customer=placed.customer, channel="email", status="sent",
                             sent_at=timezone.now(), score=9, answered_at=timezone.now(), comment="Great")
    maya = Advocate.objects.create(shop=shop, customer=customer(shop, first_name="Maya"), code="MAYA-0001")
    friend = customer(shop, first_name="Sam")
    Referral.objects.create(shop=shop, advocate=maya, order=order(shop, friend, total="80.00"), friend=friend,
                            via=Referral.Via.CODE, status=Referral.Status.FLAGGED, order_total=Decimal("80.00"),
                            reward_amount=Decimal("10.00"), currency="USD",
                            fraud_reasons=[{"rule": "self_referral", "reason": SAME_EMAIL}])
    return shop


def _pages(shop) -> list[str]:
    from referrals.models import Referral
    from reviews.cases.models import Case
    from reviews.models import Review

    return ["/", "/?range=365", "/app/activity/", "/app/settings/", "/app/storefront/", "/app/history/",
            "/app/privacy/", "/app/reviews/", "/app/reviews/settings/", "/app/reviews/import/",
            f"/app/reviews/{Review.objects.filter(shop=shop).first().pk}/", "/app/cases/", "/app/cases/settings/",
            f"/app/cases/{Case.objects.filter(shop=shop).first().pk}/", "/app/reviews/nps/", "/app/reviews/lookback/",
            "/app/referrals/", "/app/referrals/settings/", f"/app/referrals/{Referral.objects.get(shop=shop).pk}/",
            "/app/referrals/past-buyers/"]


def _data_words(shop) -> set[str]:
    """Words the shop's own data puts on the pages: names, products, codes, addresses."""
    from referrals.models import Advocate
    from shopapp.models import Customer, OrderLine

    words = set()
    values = [shop.name, shop.domain, shop.email]
    values += [v for c in Customer.objects.filter(shop=shop) for v in (c.first_name, c.last_name, c.email)]
    values += list(OrderLine.objects.filter(order__shop=shop).values_list("title", flat=True))
    values += list(Advocate.objects.filter(shop=shop).values_list("code", flat=True))
    values += ["Maya R.", "Broken", "Cracked", "Lovely", "Great", "owner@shop.test"]
    for value in values:
        words |= set(LATIN_WORD.findall(value or ""))
    return words


class _PanelText(_VisibleText):
    """The page's own words: not what a field holds (the merchant's texts, in the shop's language) nor what
    an element marked with another language says (the folds of the merchant's texts in other languages)."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language, self._stack, self._skipping = language, [], 0

    def handle_starttag(self, tag, attrs):
        own = dict(attrs)
        skip = tag == "textarea" or (own.get("lang") not in (None, "", self.language))
        if tag not in VOID:
            self._stack.append(skip)
            self._skipping += skip
        if not self._skipping:
            super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag not in VOID and self._stack:
            self._skipping -= self._stack.pop()
        super().handle_endtag(tag)

    def handle_data(self, data):
        if not self._skipping:
            super().handle_data(data)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _words(texts) -> set[str]:
    return {re.sub(r"['’]s$", "", w).lower() for text in texts for w in LATIN_WORD.findall(text or "")}


def _english_not_in(language: str) -> set[str]:
    """The words of Advocate's English texts that the language's translations never use (nor its month and
    day names as Babel writes them: Spanish 'may' and 'ago' are May and August)."""
    from babel import Locale

    catalog = [m for m in _catalog(language) if m.id]
    english = _words(t for m in catalog for t in _texts(m.id))
    calendar = Locale.parse(language)
    names = [name for kind in (calendar.months, calendar.days) for context in kind.values()
             for width in context.values() for name in width.values()]
    return english - _words(t for m in catalog for t in _texts(m.string)) - _words(names)


def _english_on(html: str, allowed: set[str], language: str = "ko", english: set[str] | None = None) -> list[str]:
    parser = _PanelText(language)
    parser.feed(html)
    found = []
    for piece in parser.found:
        for word in LATIN_WORD.findall(piece):
            word = re.sub(r"['’]s$", "", word)  # Advocate's
            if english is not None and word.lower() not in english:
                continue
            if word in allowed or word in NAMES or "@" in word or re.fullmatch(r"[A-Z0-9-]{2,}", word):
                continue
            found.append(word)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_panel_page_speaks_the_admin_users_language(busy_shop, client, language):
    from tests.conftest import session_token

    allowed = _data_words(busy_shop)
    english_words = _english_not_in(language)
    english = {}
    for path in _pages(busy_shop):
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path}{sep}embedded=1&shop={busy_shop.domain}&locale={language}"
                              f"&id_token={session_token(busy_shop.domain)}")
        assert response.status_code == 200, path
        assert response["Content-Language"] == language
        words = _english_on(response.content.decode(), allowed, language, english_words)
        if words:
            english[path] = sorted(set(words))
    assert english == {}


def test_the_check_finds_english_that_was_left(busy_shop):
    # A German page's "Status" is German; its "Settings" is English left over.
    assert _english_on("<p>Status Settings</p>", set(), "de", {"settings"}) == ["Settings"]
    assert _english_on("<p>주문 <b>Orders</b> Trail Mug</p><button aria-label='Close'>x</button>",
                       {"Trail", "Mug"}) == ["Orders", "Close"]
    # The merchant's texts in a field, and a fold in another language, are not the page's words.
    assert _english_on('<textarea>Hi there</textarea><fieldset lang="de"><p>Hallo</p></fieldset><p>Left</p>',
                       set()) == ["Left"]
