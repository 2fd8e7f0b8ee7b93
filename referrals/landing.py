"""The friend's landing page on the click path, kept in memory for a few seconds per code.

A shared link is clicked in bursts (a post, a group chat). Each worker process keeps, per
code, what the page needs and the page a friend sees, for `CARD_SECONDS`; a click then costs
one rate-limit increment and one insert. Changes to an advocate, the program or the shop
drop the card in the process that made them (signals) and reach the other processes within
`CARD_SECONDS`: a paused link keeps working that long at most.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.signals import post_delete, post_save
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import get_language

from referrals.models import Advocate, ProgramSettings
from referrals.services import advocate_for_code, discount_url
from shopapp.catalog import featured_products
from shopapp.languages import DEFAULT_LANGUAGE, shopper_language
from shopapp.memo import Memo
from shopapp.models import Shop

CARD_SECONDS = 10
MAX_CARDS = 10_000  # unknown codes are cached too (as None): bound what junk links can fill


@dataclass(frozen=True)
class LandingCard:
    advocate_id: int
    shop_id: int
    code: str
    language: str  # the advocate's: what a friend whose browser names none of Advocate's languages reads
    context: dict
    pages: dict[str, str] = field(default_factory=dict)  # the page a friend sees, per language, made on first ask

    def page(self, language: str) -> str:
        page = self.pages.get(language)
        if page is None:
            with translation.override(language):
                page = self.pages[language] = render_to_string("referrals/landing.html", landing_context(**self.context))
        return page


_cards: Memo[LandingCard | None] = Memo(seconds=CARD_SECONDS, max_items=MAX_CARDS)


def normalise(code: str) -> str:
    return (code or "").strip().upper()


def landing_card(code: str) -> LandingCard | None:
    """The card for a live advocate's code; None when the code is unknown, paused or the program is off."""
    key = normalise(code)
    return _cards.get_or_make(key, lambda: _card_build(key))


def _card_build(code: str) -> LandingCard | None:
    advocate = advocate_for_code(code)
    if advocate is None or advocate.status != Advocate.Status.ACTIVE:
        return None
    program = ProgramSettings.for_shop(advocate.shop)
    if not program.enabled or advocate.code_state != Advocate.CodeState.CREATED:
        return None  # the full view explains (off, or the code is still being made)
    context = {"advocate": advocate, "program": program, "own": False, "go_url": discount_url(advocate),
               "share_path": "", "products": landing_products(advocate)}
    return LandingCard(advocate_id=advocate.pk, shop_id=advocate.shop_id, code=advocate.code,
                       language=shopper_language(advocate.shop, customer=advocate.customer), context=context)


def landing_products(advocate: Advocate) -> list[dict]:
    """A few of the shop's best sellers for the friend, each opened through the advocate's discount link,
    so the discount comes along whichever the friend picks."""
    return [{"title": card.title, "image_url": card.image_url, "price": card.price,
             "link": discount_url(advocate, to=f"/products/{card.handle}") if card.handle else card.url}
            for card in featured_products(advocate.shop)]


def landing_context(*, advocate: Advocate, program: ProgramSettings, own: bool, go_url: str, share_path: str,
                    products: list) -> dict:
    """What the landing page shows, its words in the active language."""
    return {"shop": advocate.shop, "advocate": advocate, "program": program, "own": own,
            "offer": program.offer_label(advocate.shop.currency),
            "landing_text": program.landing_text_in(get_language() or DEFAULT_LANGUAGE),
            "go_url": go_url, "share_path": share_path, "products": products}


def landing_cards_forget(*, code: str | None = None) -> None:
    """Drop one code's card, or every card (a program or shop changed)."""
    _cards.forget(None if code is None else normalise(code))


def _advocate_changed(sender, instance: Advocate, **kwargs) -> None:
    landing_cards_forget(code=instance.code)


def _all_changed(sender, **kwargs) -> None:
    landing_cards_forget()


post_save.connect(_advocate_changed, sender=Advocate, dispatch_uid="landing-advocate-saved")
post_delete.connect(_advocate_changed, sender=Advocate, dispatch_uid="landing-advocate-deleted")
post_save.connect(_all_changed, sender=ProgramSettings, dispatch_uid="landing-program-saved")
post_save.connect(_all_changed, sender=Shop, dispatch_uid="landing-shop-saved")
