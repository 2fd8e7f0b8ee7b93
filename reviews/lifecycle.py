"""What happens to a shop's review requests when it uninstalls Advocate and when it comes back."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from reviews.models import ReviewRequest
from shopapp.models import Shop

UNINSTALLED = "Advocate was uninstalled"
# A merchant who reinstalls within a week (a mistaken uninstall, a plan change) expects the
# requests that were waiting to go out; a customer should not be asked about an order that
# came due longer ago than that.
RESUME_WITHIN_DAYS = 7


def review_requests_pause(shop: Shop) -> int:
    """Uninstall hook: waiting requests are cancelled and reminders dropped, at once."""
    S = ReviewRequest.Status
    requests = ReviewRequest.objects.for_shop(shop)
    requests.filter(status=S.SENT, reminder_sent_at__isnull=True).exclude(reminder_due_at=None).update(
        reminder_due_at=None)
    return requests.filter(status=S.SCHEDULED).update(status=S.CANCELLED, skip_reason=UNINSTALLED)


def review_requests_resume(shop: Shop, *, reinstalled: bool) -> int:
    """Reconnect hook: on reinstall, requests the uninstall paused resume if they came due lately."""
    if not reinstalled:
        return 0
    S = ReviewRequest.Status
    now = timezone.now()
    window = RESUME_WITHIN_DAYS * settings.ADVOCATE_DAY
    requests = ReviewRequest.objects.for_shop(shop)
    paused = Q(status=S.CANCELLED, skip_reason=UNINSTALLED) | Q(status=S.SCHEDULED)  # scheduled: a late webhook
    requests.filter(paused, due_at__lt=now - window).update(
        status=S.CANCELLED, skip_reason=f"{UNINSTALLED} when it came due")
    return requests.filter(paused, due_at__gte=now - window).update(status=S.SCHEDULED, skip_reason="")
