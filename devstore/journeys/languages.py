"""The languages journey of the demo smoke run: a buyer on the Korean storefront reads Advocate in Korean.

지민 (seeded with the ko-KR locale) orders a blanket; the order carries `customer_locale`; the review
request arrives in Korean, its star opens the form in Korean, the thank-you page thanks her in
Korean, the store's reviews page (the app proxy, asked for the Korean storefront as a theme block
asks) names her review a verified buyer's in Korean, so does Advocate's reviews block on the product's
page of the Korean storefront (/ko/), and her referral invitation and the landing
page her link opens (in a Korean browser) are Korean too. tests/e2e/test_languages_journey.py runs it.
"""
from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass

import httpx

from devstore import theme
from devstore.demo import SHOP, Demo, StepFailed, _wait, smoke_step
from devstore.journeys.reviews import _chosen_stars, _star_link, _storefront_review
from devstore.server import PROXY_PREFIX, DevStore

KOREAN_BUYER = "jimin@example.com"
PRODUCT = "camp-blanket"
REQUEST_SUBJECT = "주문하신 상품은 어떠셨나요?"
INVITATION_SUBJECT = "친구에게"


@dataclass
class KoreanJourney:
    order_id: int
    product_id: int
    title: str
    request: dict  # the email as devstore's mailbox holds it
    form: str  # the review page the star opened
    thanks: str
    storefront: str  # the review as the Korean storefront's reviews page lists it
    product_page: str  # the product's page on the Korean storefront, Advocate's block on it
    invitation: dict
    landing: str  # the friend's landing page, in a Korean browser


def _mail(store: DevStore, to: str, subject: str) -> dict | None:
    found = [m for m in store.mailbox() if to in m["to"] and subject in m["subject"]]
    return found[-1] if found else None


def korean_journey(store: DevStore, app_url: str, domain: str = SHOP, *, timeout: float = 90) -> KoreanJourney:
    customer = store.customer(domain, KOREAN_BUYER)
    product = store.store.product(domain, PRODUCT)
    order = store.place_order(domain, lines=[(PRODUCT, 1)], customer_id=customer["id"])
    if order.get("customer_locale") != "ko-KR":
        raise StepFailed(f"devstore placed 지민's order with locale {order.get('customer_locale')!r}, not ko-KR")
    store.fulfil(domain, order["id"])

    # 1. The request arrives in Korean; a five-star click opens the form in Korean.
    _wait(lambda: _mail(store, KOREAN_BUYER, REQUEST_SUBJECT) is not None, "the Korean review request", timeout)
    request = _mail(store, KOREAN_BUYER, REQUEST_SUBJECT)
    if not (request["text"] or "").startswith("지민님, 안녕하세요."):
        raise StepFailed("the review request does not greet 지민 in Korean")
    star = _star_link(request, 5)
    form = httpx.get(star, timeout=30)
    prefix, checked = _chosen_stars(form.text)
    if '<html lang="ko"' not in form.text or "상품은 마음에 드셨나요?" not in form.text or checked != ["5"]:
        raise StepFailed("the star link did not open the Korean form with five stars chosen")

    # 2. She posts her review; the thank-you page is Korean.
    title = f"정말 따뜻해요 {uuid.uuid4().hex[:4]}"
    page_url = star.split("?", 1)[0]
    posted = httpx.post(page_url, data={f"{prefix}-rating": "5", f"{prefix}-title": title,
                                        f"{prefix}-body": "캠핑 갈 때마다 챙겨요. 부드럽고 따뜻해요."}, timeout=30)
    if posted.status_code != 302:
        raise StepFailed(f"posting the Korean review answered {posted.status_code}")
    thanks = httpx.get(httpx.URL(page_url).join(posted.headers["location"]), timeout=30).text
    if "리뷰를 남겨 주셔서 감사합니다" not in thanks or "지금 게시되었어요." not in thanks:
        raise StepFailed("the thank-you page does not thank 지민 in Korean")

    # 3. The Korean storefront's reviews page shows it as a verified buyer's, in Korean.
    def listed() -> str:
        page = httpx.get(f"{store.url}/shops/{domain}{PROXY_PREFIX}/reviews/{product['id']}?locale=ko", timeout=30)
        items = re.findall(r'<li class="advocate-review">(.*?)</li>', page.text, re.S) if page.status_code == 200 else []
        return next((item for item in items if html.escape(title) in item), "")

    _wait(lambda: bool(listed()), "the Korean review on the store's reviews page", timeout)
    storefront = listed()
    if "구매 인증" not in storefront or "별 5개 중 5개" not in storefront:
        raise StepFailed("the store's reviews page does not mark the review as a verified buyer's in Korean")

    # 3b. The product's page on the Korean storefront: Advocate's reviews block (placed as the theme editor
    # does) renders her review from the metafield Advocate's sync wrote, in Korean.
    with store.store.lock:
        shop_theme = store.store.shop(domain)["theme"]
        if "reviews" not in [handle for handle, _ in theme.app_blocks(shop_theme)]:
            theme.add_block(shop_theme, "reviews")

    def product_page() -> str:
        page = httpx.get(f"{store.url}/shops/{domain}/ko/products/{PRODUCT}", timeout=30)
        rendered = page.status_code == 200 and "data-advocate-rendered" in page.text
        return page.text if rendered and html.escape(title) in page.text else ""

    _wait(lambda: bool(product_page()), "her review in the Korean storefront's reviews block", timeout)
    korean_page = product_page()
    if not all(words in korean_page for words in ('<html lang="ko"', "고객 리뷰", "5점 만점에", "구매 인증", "locale=ko")):
        raise StepFailed("the Korean storefront's reviews block is not in Korean")

    # 4. Her referral invitation is Korean, and her link greets a Korean friend in Korean.
    _wait(lambda: _mail(store, KOREAN_BUYER, INVITATION_SUBJECT) is not None, "the Korean referral invitation",
          timeout)
    invitation = _mail(store, KOREAN_BUYER, INVITATION_SUBJECT)
    link = re.search(r"(https?://\S+/r/[A-Z0-9-]+)", invitation["text"] or "")
    if not link:
        raise StepFailed("the Korean invitation carries no referral link")
    landing = httpx.get(link.group(1), headers={"Accept-Language": "ko-KR,ko;q=0.9"}, timeout=30).text
    if "지민님이" not in landing or "할인받고 쇼핑하기" not in landing:
        raise StepFailed("the referral landing page is not Korean for a Korean friend")
    return KoreanJourney(order_id=order["id"], product_id=product["id"], title=title, request=request,
                         form=form.text, thanks=thanks, storefront=storefront, product_page=korean_page,
                         invitation=invitation, landing=landing)


@smoke_step("languages: a Korean buyer's request, form, thank-you page, storefront reviews, the Korean storefront's "
            "reviews block and referral link in Korean")
def _smoke_korean(demo: Demo) -> None:
    korean_journey(demo.store, demo.app_url)
