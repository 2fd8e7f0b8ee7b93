"""The panel speaks the admin user's language: the `locale` Shopify puts on a document load, kept for
that staff member's fetch calls and later visits; English for a language Advocate does not speak."""
from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from shopapp.models import StaffMember
from shopapp.staff import staff_language, staff_names_forget
from tests.conftest import session_token
from tests.money.conftest import DEMO, connected_shop, devstore  # noqa: F401  (the devstore fixture)

pytestmark = pytest.mark.django_db


def _open(client, shop, *, locale=None, sub="42", fetch=False, path="/app/settings/"):
    token = session_token(shop.domain, sub=sub)
    if fetch:
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    extra = f"&locale={locale}" if locale is not None else ""
    return client.get(f"{path}?embedded=1&shop={shop.domain}&id_token={token}{extra}")


def test_a_document_load_speaks_the_locale_shopify_names_and_fetch_calls_keep_it(shop, client):
    response = _open(client, shop, locale="ko-KR")
    assert response.status_code == 200
    assert response["Content-Language"] == "ko"
    assert StaffMember.objects.get(shop=shop, user_id="42").locale == "ko-KR"
    staff_names_forget()  # another worker, which never saw the document load
    assert _open(client, shop, fetch=True)["Content-Language"] == "ko"
    assert _open(client, shop)["Content-Language"] == "ko"  # a load without `locale` keeps it too
    assert translation.get_language() == "en"  # nothing leaks out of the request


def test_each_staff_member_reads_their_own_language(shop, client):
    _open(client, shop, locale="ja", sub="1")
    _open(client, shop, locale="de", sub="2")
    assert _open(client, shop, fetch=True, sub="1")["Content-Language"] == "ja"
    assert _open(client, shop, fetch=True, sub="2")["Content-Language"] == "de"
    assert _open(client, shop, fetch=True, sub="3")["Content-Language"] == "en"  # never named one: English


def test_changing_the_admin_language_changes_the_panel(shop, client):
    _open(client, shop, locale="fr")
    assert _open(client, shop, locale="es")["Content-Language"] == "es"
    assert _open(client, shop, fetch=True)["Content-Language"] == "es"
    assert StaffMember.objects.get(shop=shop, user_id="42").locale == "es"


def test_a_language_advocate_does_not_speak_shows_english_and_is_kept_as_given(shop, client):
    assert _open(client, shop, locale="it")["Content-Language"] == "en"
    assert StaffMember.objects.get(shop=shop, user_id="42").locale == "it"
    assert _open(client, shop, locale="pt-BR", fetch=False)["Content-Language"] == "en"


def test_junk_in_the_locale_parameter_changes_nothing_but_the_stored_text(shop, client):
    response = _open(client, shop, locale="<script>" + "x" * 100)
    assert response.status_code == 200 and response["Content-Language"] == "en"
    assert len(StaffMember.objects.get(shop=shop, user_id="42").locale) <= 20


def test_another_shops_staff_member_with_the_same_id_keeps_their_own_language(shop, other_shop, client):
    _open(client, shop, locale="ko")
    assert _open(client, other_shop, fetch=True)["Content-Language"] == "en"
    assert staff_language(other_shop, "42", None) == "en"
    assert staff_language(shop, "42", None) == "ko"


def test_a_name_learnt_later_never_overwrites_the_language_or_the_other_way(shop):
    StaffMember.objects.create(shop=shop, user_id="42", name="Dana Reyes")
    assert staff_language(shop, "42", "ko") == "ko"
    member = StaffMember.objects.get(shop=shop, user_id="42")
    assert (member.name, member.locale) == ("Dana Reyes", "ko")


def test_the_online_tokens_locale_names_the_language_when_no_page_load_did(settings, devstore):  # noqa: F811
    settings.STAFF_NAMES_FROM_SHOPIFY = True
    shop = connected_shop(devstore)
    devstore.store.staff_locale_set(DEMO, 1, "ja")
    token = devstore.session_token(DEMO, staff=1)
    response = Client().get("/app/settings/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response["Content-Language"] == "ja"
    member = StaffMember.objects.get(shop=shop)
    assert (member.name, member.locale) == ("Sam Okafor", "ja")


def test_devstore_opens_the_app_in_the_staff_members_admin_language(devstore):  # noqa: F811
    from urllib.parse import parse_qs, urlsplit

    from devstore.server import app_frame_url
    from devstore.state import StoreError

    assert parse_qs(urlsplit(app_frame_url(devstore.store, DEMO)).query)["locale"] == ["en"]
    devstore.store.staff_locale_set(DEMO, 0, "ko")
    assert parse_qs(urlsplit(app_frame_url(devstore.store, DEMO)).query)["locale"] == ["ko"]
    assert parse_qs(urlsplit(app_frame_url(devstore.store, DEMO, staff=1)).query)["locale"] == ["en"]
    with pytest.raises(StoreError):
        devstore.store.staff_locale_set(DEMO, 0, "ko<script>")
    assert devstore.store.staff_locale(DEMO, 0) == "ko"
