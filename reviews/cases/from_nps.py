"""A detractor's case: an NPS answer of 0 to 6 opens a case in the same inbox as unhappy reviews.

The answer's follow-up (reviews.nps.services.nps_answered_subscribe) runs this after the answer
commits and is retried until it succeeds, so an unhappy customer never silently gets no case; the
case's uniqueness per answer makes a second run, or two answers at once, open one case. A score
changed later is noted on the case; an answer raised out of the detractor range does not close it
(the shop decides that). A score never changes what a customer is offered for a review.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction

from reviews.cases.models import Case, CaseSettings
from reviews.cases.services import CUSTOMER_ACTOR, SYSTEM_ACTOR, case_alert_send, case_flow_refs, case_log
from reviews.nps.models import DETRACTOR_UP_TO, NpsSurvey
from shopapp.flow import flow_trigger_queue
from shopapp.jobs import enqueue


def on_nps_answered(survey: NpsSurvey) -> None:
    """The NPS hook: a detractor's first answer opens a case; a later change is noted on it."""
    if survey.score is None:
        return
    case = Case.objects.filter(nps_survey=survey).first()
    if case is not None:
        _note_change(case, survey)
        return
    if survey.score <= DETRACTOR_UP_TO and survey.shop.is_installed:
        case_open_for_nps(survey)


def case_open_for_nps(survey: NpsSurvey) -> tuple[Case | None, bool]:
    """Open the answer's case (one per answer): (case, created); (None, False) when the answer was erased."""
    try:
        with transaction.atomic():
            # The answer's row, locked: an erasure committed since it was read leaves nothing to open a case
            # for, and one arriving now waits for this case, which it then erases too.
            live = NpsSurvey.objects.select_for_update().filter(pk=survey.pk, redacted_at__isnull=True).first()
            if live is None:
                return None, False
            survey.customer_id = live.customer_id
            case = Case.objects.create(shop=survey.shop, nps_survey=survey, customer_id=live.customer_id,
                                       reason=Case.Reason.NPS, rating_at_open=survey.score)
            case_log(case, "opened", "", SYSTEM_ACTOR, data={"reason": Case.Reason.NPS, "score": survey.score})
            refs = case_flow_refs(case)
            flow_trigger_queue(shop=survey.shop, handle="advocate-case-opened", key=f"case-opened:{case.pk}",
                               payload={**refs, "Rating": survey.score, "Case number": case.pk},
                               customer_shopify_id=refs["customer_id"])
    except IntegrityError:  # the same answer followed up twice at once
        return Case.objects.get(nps_survey=survey), False
    if CaseSettings.for_shop(survey.shop).alert_mode == CaseSettings.AlertMode.AT_ONCE:
        enqueue(case_alert_send, case.pk)
    return case, True


def _note_change(case: Case, survey: NpsSurvey) -> None:
    """A line when the customer changes their score (the case shows their comment as it is now)."""
    last = case.events.filter(action="score_updated").order_by("-pk").values_list("data", flat=True).first()
    if (last or {}).get("score") == survey.score or (last is None and survey.score == case.rating_at_open):
        return  # the comment changed, or the same follow-up ran twice
    case_log(case, "score_updated", "", CUSTOMER_ACTOR, data={"score": survey.score})

