"""The cases' sweeper: lost alerts and unsent replies re-driven, due digests sent, remedies retried."""
from __future__ import annotations


import logging
from datetime import datetime, timedelta

from django.utils import timezone

from reviews.cases.models import Case, CaseMessage, CaseSettings, Remedy
from shopapp.models import Shop

from reviews.cases.conversation import case_message_send, remedy_deliver
from reviews.cases.remedies import remedies_due
from reviews.cases.services import RETRY_AFTER, case_alert_send, case_digest_send

log = logging.getLogger(__name__)

def cases_sweep(now: datetime | None = None) -> None:
    """Re-drive lost alerts and unsent replies; send due digests; retry remedies."""
    now = now or timezone.now()
    lost = Case.objects.filter(alerted_at__isnull=True, created_at__lte=now - RETRY_AFTER,
                               created_at__gte=now - timedelta(days=2),
                               shop__case_settings__alert_mode=CaseSettings.AlertMode.AT_ONCE,
                               shop__uninstalled_at__isnull=True)
    for pk in list(lost.values_list("pk", flat=True)[:200]):
        case_alert_send(pk)
    digest_shops = Shop.objects.installed().filter(case_settings__alert_mode=CaseSettings.AlertMode.DIGEST,
                                                   cases__alerted_at__isnull=True).distinct()
    for shop in list(digest_shops[:200]):
        case_digest_send(shop=shop, now=now)
    unsent = CaseMessage.objects.filter(direction=CaseMessage.Direction.OUT, sent_at__isnull=True,
                                        created_at__lte=now - RETRY_AFTER, created_at__gte=now - timedelta(days=2),
                                        case__shop__uninstalled_at__isnull=True)
    for pk in list(unsent.values_list("pk", flat=True)[:200]):
        case_message_send(pk)
    remedies_due(now=now)
    # A worker that died between Shopify's answer and remedy_deliver left a done remedy untold.
    untold = Remedy.objects.filter(status=Remedy.Status.DONE, kind__in=Remedy.REMOTE, delivery__isnull=True,
                                   done_at__lte=now - RETRY_AFTER, done_at__gte=now - timedelta(days=2),
                                   case__redacted_at__isnull=True, case__shop__uninstalled_at__isnull=True)
    for pk in list(untold.values_list("pk", flat=True)[:200]):
        remedy_deliver(remedy_id=pk)
