"""Staff members by name: who the panel's session token names, asked of Shopify once.

The session token carries only a user id (`sub`). Exchanging it for an online access token makes
Shopify say who that is (`associated_user`); the name and email are kept, the token is not. A
staff member is asked about once; if Shopify cannot say, again after an hour. The histories keep
storing "staff <id>"; `actor_label` turns that into the name when it shows them.

The panel speaks the staff member's admin language (`staff_language`): Shopify names it in the
`locale` parameter of every document load of the panel, and in the online token's user. Fetch calls
carry no such parameter, so the language last named is kept on their StaffMember row.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from shopapp.languages import DEFAULT_LANGUAGE, language_of
from shopapp.memo import Memo
from shopapp.models import Shop, StaffMember
from shopapp.shopify import http_client, shopify_app

log = logging.getLogger(__name__)

ASK_AGAIN = timedelta(hours=1)
STAFF_ID = re.compile(r"staff \d+")  # how the histories name a staff member
_known: Memo[bool] = Memo(seconds=600, max_items=10_000)  # (shop, user) already named: no SQL per request
_names: Memo[str] = Memo(seconds=60, max_items=10_000)  # for lists that show many actors
# (shop, user) -> the admin locale kept for them: a change reaches every worker within a minute
_locales: Memo[str] = Memo(seconds=60, max_items=10_000)
LOCALE_MAX = StaffMember._meta.get_field("locale").max_length


def staff_names_forget() -> None:
    _known.forget()
    _names.forget()
    _locales.forget()


def staff_language(shop: Shop, user_id: str, locale: str | None) -> str:
    """The panel's language for this staff member: the admin `locale` this request names (kept for
    their fetch calls and visits to come), else the one kept, else English. A locale Advocate does
    not speak yet ('it', 'pt-BR') is kept as given and shown in English."""
    key = f"{shop.pk}:{user_id}"
    named = (locale or "").strip()[:LOCALE_MAX]
    if named and user_id and _locales.get(key) != named:
        _locale_keep(shop, user_id, named)
        _locales.put(key, named)
    elif not named and user_id:
        named = _locales.get(key)
        if named is None:
            named = StaffMember.objects.filter(shop=shop, user_id=user_id).values_list("locale", flat=True).first() or ""
            _locales.put(key, named)
    return language_of(named) or DEFAULT_LANGUAGE


def _locale_keep(shop: Shop, user_id: str, locale: str) -> None:
    """Store the staff member's locale (a row of their own if they have none yet; never their name)."""
    if StaffMember.objects.filter(shop=shop, user_id=user_id).exclude(locale=locale).update(locale=locale):
        return
    try:
        StaffMember.objects.get_or_create(shop=shop, user_id=user_id, defaults={
            "locale": locale, "asked_at": timezone.now() - ASK_AGAIN})
    except IntegrityError:  # two first requests at once: the other one stored it
        pass


def staff_remember(shop: Shop, user_id: str, id_token) -> None:
    """Learn the staff member's name once (an online token exchange); never fails the request."""
    key = f"{shop.pk}:{user_id}"
    if not user_id or not settings.STAFF_NAMES_FROM_SHOPIFY or _known.get(key):
        return
    member = StaffMember.objects.filter(shop=shop, user_id=user_id).first()
    if member and (member.name or timezone.now() - member.asked_at < ASK_AGAIN):
        _known.put(key, True)
        return
    name, email, locale = "", "", ""
    try:
        result = shopify_app().exchange_using_token_exchange("online", id_token=id_token, http_client=http_client())
        user = result.access_token.user if result.ok and result.access_token else None
        if user:
            name, email = f"{user.first_name} {user.last_name}".strip(), user.email or ""
            locale = (getattr(user, "locale", "") or "")[:LOCALE_MAX]
        else:
            log.info("no staff name for %s on %s: %s", user_id, shop.domain, result.log.detail if result.log else "")
    except Exception as exc:  # the panel opens whatever Shopify answers here
        log.warning("staff name for %s on %s: %s", user_id, shop.domain, exc)
    try:
        member, _created = StaffMember.objects.update_or_create(shop=shop, user_id=user_id, defaults={
            "name": name[:200], "email": email[:254], "asked_at": timezone.now()})
        if locale and not member.locale:  # the document load's `locale` is the fresher word on it
            StaffMember.objects.filter(pk=member.pk, locale="").update(locale=locale)
            _locales.forget(key)
    except IntegrityError:  # two first requests at once: the other one stored it
        pass
    _known.put(key, True)
    _names.forget(key)


def actor_label(shop: Shop | None, actor: str) -> str:
    """"staff 123" -> the staff member's name (or "Staff member 123" until it is known); others as stored."""
    if not actor.startswith("staff ") or shop is None:
        return actor
    user_id = actor.removeprefix("staff ")
    key = f"{shop.pk}:{user_id}"
    name = _names.get(key)
    if name is None:
        name = StaffMember.objects.filter(shop=shop, user_id=user_id).values_list("name", flat=True).first() or ""
        _names.put(key, name)
    return name or f"Staff member {user_id}"
