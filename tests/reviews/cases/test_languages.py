"""A case in the customer's language: the reply the merchant starts from a template, its email, the answer page."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from reviews.cases.conversation import (
    answer_link, case_message_send, case_reply_send, reply_template_filled, reply_template_texts, reply_templates,
)
from reviews.cases.models import Case, ReplyTemplate
from shopapp.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def korean_case(make_review):
    review = make_review(1, first_name="지민")
    Order.objects.filter(pk=review.order_line.order_id).update(customer_locale="ko-KR")
    return Case.objects.get(review=review)


def test_a_template_the_merchant_kept_is_offered_in_the_customers_language(korean_case, shop):
    details = next(t for t in reply_templates(shop) if t.key == "details")
    filled = reply_template_filled(details, korean_case)
    assert filled["subject"] == "Trail Mug에 대해 조금 더 알려 주시겠어요?"
    assert filled["body"].startswith("지민님, 안녕하세요.\n\nTrail Mug 리뷰를 남겨 주셔서 감사합니다.")
    assert filled["body"].endswith(f"{shop.name} 드림")


def test_the_merchants_own_version_in_that_language_wins_and_their_edited_text_stays_theirs(korean_case, shop):
    apology = next(t for t in reply_templates(shop) if t.key == "apology")
    apology.translations = {"ko": {"subject": "{product} 건으로 연락드려요"}}
    apology.body = "Dear {first_name}, our apologies. {remedy}"
    apology.save()
    filled = reply_template_filled(apology, korean_case)
    assert filled["subject"] == "Trail Mug 건으로 연락드려요"
    assert filled["body"] == "Dear 지민, our apologies. [describe what you offer]"


def test_the_reply_email_and_the_answer_page_speak_korean(client, korean_case, run_jobs):
    with run_jobs():
        message = case_reply_send(case=korean_case, subject="Trail Mug 관련", body="불편을 드려 죄송합니다.",
                                  actor="Owner")
    case_message_send(message.pk)
    sent = mail.outbox[-1]
    assert "대화가 이어지도록 여기에서 답장해 주세요:" in sent.body
    assert '<html lang="ko"' in sent.alternatives[0][0] and ">답장하기</a>" in sent.alternatives[0][0]
    page = client.get(answer_link(korean_case).removeprefix(settings.APP_URL), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Trail Mug 리뷰에 관한 대화예요." in page and "답장 보내기" in page and "답장 내용" in page


def test_the_panel_offers_each_template_in_every_other_language_and_stores_only_the_changes(
        client, make_session_token, panel_get, shop):
    page = panel_get("/app/cases/settings/", shop).content.decode()
    assert 'name="details-tr-ja-subject"' in page and 'value="{product}について詳しく教えていただけますか？"' in page
    details = next(t for t in reply_templates(shop) if t.key == "details")
    fields = {"action": "template-details", "details-name": details.name, "details-subject": details.subject,
              "details-body": details.body}
    for code in ("ko", "ja", "de", "fr", "es"):  # as the page shows them
        fields[f"details-tr-{code}-subject"], fields[f"details-tr-{code}-body"] = reply_template_texts(details, code)
    fields["details-tr-de-subject"] = "Erzählen Sie uns mehr über {product}?"
    response = client.post(f"/app/cases/settings/?id_token={make_session_token(shop.domain)}", fields)
    assert response.status_code == 200
    details.refresh_from_db()
    assert details.translations == {"de": {"subject": "Erzählen Sie uns mehr über {product}?"}}
    fields["details-tr-fr-body"] = "Bonjour {prénom}"
    refused = client.post(f"/app/cases/settings/?id_token={make_session_token(shop.domain)}", fields)
    assert refused.status_code == 400 and "fr" not in ReplyTemplate.objects.get(pk=details.pk).translations
