from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from reviews.cases.models import Case, CaseMessage, CaseSettings, ReplyTemplate

pytestmark = pytest.mark.django_db


def _post(client, make_session_token, shop, path, data, **token):
    return client.post(f"{path}?id_token={make_session_token(shop.domain, **token)}", data)


@pytest.fixture
def case(make_review):
    return Case.objects.get(review=make_review(1, title="Cracked mug"))


def test_inbox_lists_cases_with_status_age_and_overdue_first_response(panel_get, shop, make_review, case):
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(hours=30))
    fresh = Case.objects.get(review=make_review(2, title="Lid loose", shopify_id=5, email="liam@example.com"))
    page = panel_get("/app/cases/", shop).content.decode()
    assert "Cracked mug" in page and "Lid loose" in page
    assert 'class="overdue"' in page and "Overdue by 6.0 h" in page and "Due in 24.0 h" in page
    overdue = panel_get("/app/cases/?overdue=yes", shop).content.decode()
    assert "Cracked mug" in overdue and "Lid loose" not in overdue
    searched = panel_get("/app/cases/?q=liam", shop).content.decode()
    assert "Lid loose" in searched and "Cracked mug" not in searched
    Case.objects.filter(pk=fresh.pk).update(status="resolved")
    assert "Lid loose" not in panel_get("/app/cases/?status=active", shop).content.decode()


def test_inbox_empty_state_and_nav_badge(panel_get, shop, make_review):
    assert "No cases yet" in panel_get("/app/cases/", shop).content.decode()
    make_review(1)
    page = panel_get("/", shop).content.decode()
    assert '>Inbox <span class="badge" aria-label="1 open">1</span>' in page


def test_another_shops_case_is_a_404_and_cannot_be_acted_on(panel_get, client, make_session_token, other_shop, case):
    assert panel_get(f"/app/cases/{case.pk}/", other_shop).status_code == 404
    response = _post(client, make_session_token, other_shop, f"/app/cases/{case.pk}/", {"action": "status", "to": "closed"})
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == "new"
    assert "Cracked mug" not in panel_get("/app/cases/", other_shop).content.decode()
    assert _post(client, make_session_token, other_shop, f"/app/cases/open/{case.review_id}/", {}).status_code == 404


def test_case_page_shows_review_order_customer_history_and_conversation(panel_get, shop, case):
    page = panel_get(f"/app/cases/{case.pk}/", shop).content.decode()
    assert "The mug arrived cracked." in page and "Trail Mug" in page and "30.00 USD" in page
    assert "Maya Rivera" in page and "1 order" in page and "Referrals: none" in page
    assert "No private messages yet." in page


def test_case_page_puts_its_primary_action_mark_resolved_last_after_the_others(panel_get, shop, case):
    page = panel_get(f"/app/cases/{case.pk}/", shop).content.decode()
    group = page[page.index('<div class="button-group">'):page.index("</div>", page.index('<div class="button-group">'))]
    buttons = re.findall(r'<button class="button( primary)?" type="submit" name="action" value="\w+">([^<]+)</button>', group)
    assert buttons == [("", "Assign to me"), ("", "Mark open"), ("", "Mark waiting for customer"), ("", "Mark closed"),
                       (" primary", "Mark resolved")]


def test_case_page_says_a_remedy_is_the_customers_to_keep(panel_get, shop, case):
    page = panel_get(f"/app/cases/{case.pk}/", shop).content.decode()
    assert "A remedy is the customer's to keep, whatever they do with their review." in page


def test_assign_reply_and_log_who_did_it(client, make_session_token, shop, case, django_capture_on_commit_callbacks):
    _post(client, make_session_token, shop, f"/app/cases/{case.pk}/", {"action": "assign", "to": "me"}, sub="7")
    assert Case.objects.get(pk=case.pk).assignee == "staff 7"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                         {"action": "reply", "subject": "Sorry", "body": "We will replace it."}, sub="7")
    page = response.content.decode()
    assert response.status_code == 200 and "Reply sent to the customer" in page
    assert len(mail.outbox) == 1 and "We will replace it." in mail.outbox[0].body
    assert "Waiting for customer" in page and "by Staff member 7" in page  # until Shopify names them (tests/shopapp/test_staff.py)


def test_invalid_transition_shows_a_clear_message_and_changes_nothing(client, make_session_token, shop, case):
    Case.objects.filter(pk=case.pk).update(status="closed")
    response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/", {"action": "status", "to": "resolved"})
    assert response.status_code == 400
    assert "cannot become “resolved”. Reopen it first." in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_empty_reply_keeps_the_subject_and_shows_the_error(client, make_session_token, shop, case):
    response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                     {"action": "reply", "subject": "Kept subject", "body": ""})
    assert response.status_code == 400
    assert 'value="Kept subject"' in response.content.decode() and "This field is required." in response.content.decode()


def test_template_fills_placeholders(panel_get, shop, case):
    page = panel_get(f"/app/cases/{case.pk}/?template=apology", shop).content.decode()
    assert "Hi Maya," in page and "Trail Mug" in page and "{first_name}" not in page
    assert "you do not need to change or remove it" in page


def test_choosing_a_template_keeps_what_was_typed(client, make_session_token, shop, case):
    response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                     {"action": "template:apology", "subject": "Your mug", "body": "I read your review <today>."})
    page = response.content.decode()
    assert response.status_code == 200 and "“Apology” added below what you wrote" in page
    assert 'value="Your mug"' in page  # the merchant's subject, not the template's
    assert "I read your review &lt;today&gt;.\n\nHi Maya," in page  # their words first, escaped, then the template
    assert not CaseMessage.objects.filter(case=case).exists()  # nothing was sent
    empty = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                  {"action": "template:apology", "subject": "", "body": ""}).content.decode()
    assert "Hi Maya," in empty and "below what you wrote" not in empty
    gone = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                 {"action": "template:nope", "subject": "S", "body": "Kept words"}).content.decode()
    assert "That template no longer exists." in gone and "Kept words" in gone


def test_public_reply_is_saved_escaped_and_removable(client, make_session_token, shop, case):
    response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                     {"action": "public", "reply": "<b>Sorry</b>, we sent a new mug."})
    assert "Public reply saved." in response.content.decode()
    assert "&lt;b&gt;Sorry&lt;/b&gt;" in response.content.decode()
    case.review.refresh_from_db()
    assert case.review.reply == "<b>Sorry</b>, we sent a new mug."
    assert Case.objects.get(pk=case.pk).first_response_at is not None
    _post(client, make_session_token, shop, f"/app/cases/{case.pk}/", {"action": "public", "reply": ""})
    case.review.refresh_from_db()
    assert case.review.reply == ""


def test_remedy_form_refuses_a_bad_amount_and_records_a_refund_note(client, make_session_token, shop, case):
    bad = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/", {"action": "remedy", "kind": "refund", "amount": "-3"})
    assert bad.status_code == 400 and "greater than or equal to 0" in bad.content.decode()
    ok = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
               {"action": "remedy", "kind": "refund", "amount": "12.50", "note": "Partial refund"})
    assert "Refund done in Shopify recorded." in ok.content.decode() and "12.50 USD" in ok.content.decode()


def test_merchant_opens_a_case_by_hand_from_any_review(client, make_session_token, shop, make_review):
    review = make_review(5, body="Great but the box was wet")
    response = _post(client, make_session_token, shop, f"/app/cases/open/{review.pk}/", {})
    case = Case.objects.get(review=review)
    assert response.status_code == 302 and f"/app/cases/{case.pk}/" in response["Location"]
    assert case.reason == "manual"


def test_settings_save_and_refuse_bad_input_with_values_kept(client, make_session_token, panel_get, shop):
    assert "Apology" in panel_get("/app/cases/settings/", shop).content.decode()
    bad = _post(client, make_session_token, shop, "/app/cases/settings/", {
        "action": "settings", "rating_threshold": "3", "keywords": "broken", "alert_recipients": "owner@x.test, nope",
        "alert_mode": "digest", "first_response_hours": "12"})
    assert bad.status_code == 400 and "“nope” is not an email address." in bad.content.decode()
    assert "owner@x.test, nope" in bad.content.decode()
    ok = _post(client, make_session_token, shop, "/app/cases/settings/", {
        "action": "settings", "rating_threshold": "3", "keywords": "broken", "alert_recipients": "owner@x.test",
        "alert_mode": "digest", "first_response_hours": "12", "pause_tag": "advocate-case-open"})
    assert "Case settings saved." in ok.content.decode()
    config = CaseSettings.for_shop(shop)
    assert (config.rating_threshold, config.alert_mode, config.first_response_hours) == (3, "digest", 12)


def test_templates_are_editable_and_unknown_placeholders_refused(client, make_session_token, panel_get, shop):
    panel_get("/app/cases/settings/", shop)
    bad = _post(client, make_session_token, shop, "/app/cases/settings/", {
        "action": "template-details", "details-name": "Details", "details-subject": "Hi {nickname}",
        "details-body": "Tell us more"})
    assert bad.status_code == 400 and "Unknown placeholder {nickname}." in bad.content.decode()
    _post(client, make_session_token, shop, "/app/cases/settings/", {
        "action": "template-details", "details-name": "Details", "details-subject": "Hi {first_name}",
        "details-body": "Tell us more about {product}"})
    assert ReplyTemplate.objects.get(shop=shop, key="details").body == "Tell us more about {product}"


def test_review_page_offers_to_open_a_case_or_links_to_it(panel_get, shop, make_review, case):
    calm = make_review(5, body="Lovely")
    assert "Open a case" in panel_get(f"/app/reviews/{calm.pk}/", shop).content.decode()
    page = panel_get(f"/app/reviews/{case.review_id}/", shop).content.decode()
    assert f"/app/cases/{case.pk}/" in page and "Open a case" not in page


def test_retry_of_a_failed_remedy_from_another_case_or_garbage_is_a_404(client, make_session_token, shop, case, make_review):
    from decimal import Decimal

    from reviews.cases.models import Remedy

    other = Case.objects.get(review=make_review(1, shopify_id=9, email="x@example.com"))
    theirs = Remedy.objects.create(case=other, kind="discount", amount=Decimal("5"), currency="USD", status="failed",
                                   actor="x")
    for value in (str(theirs.pk), "abc"):
        response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/", {"action": "retry", "remedy": value})
        assert response.status_code == 404
    assert Remedy.objects.get(pk=theirs.pk).status == "failed"


def test_a_reply_with_an_unfilled_placeholder_is_refused_naming_it_and_keeps_the_text(
        panel_get, client, make_session_token, shop, case, django_capture_on_commit_callbacks):
    page = panel_get(f"/app/cases/{case.pk}/?template=apology", shop).content.decode()
    assert "[describe what you offer]" in page  # the Apology template, as the merchant gets it
    from reviews.cases.conversation import reply_templates, template_fill

    apology = next(t for t in reply_templates(shop) if t.key == "apology")
    body = template_fill(apology.body, case) + "\n\nSigned, [your name]"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                         {"action": "reply", "subject": "About {product}", "body": body})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Replace “{product}”, “[describe what you offer]”, “[your name]” with your own words" in page
    assert "Thank you for telling us about your Trail Mug" in page and "Signed, [your name]" in page
    assert mail.outbox == [] and not case.messages.exists()
    assert Case.objects.get(pk=case.pk).status == "new"


def test_a_filled_in_template_is_sent(client, make_session_token, shop, case, django_capture_on_commit_callbacks):
    from reviews.cases.conversation import reply_templates, template_fill

    apology = next(t for t in reply_templates(shop) if t.key == "apology")
    body = template_fill(apology.body, case, remedy="a new mug, on its way today. [Sic] notes stay.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, make_session_token, shop, f"/app/cases/{case.pk}/",
                         {"action": "reply", "subject": template_fill(apology.subject, case), "body": body})
    assert response.status_code == 200 and len(mail.outbox) == 1
    assert "a new mug, on its way today." in mail.outbox[0].body and "[describe" not in mail.outbox[0].body
