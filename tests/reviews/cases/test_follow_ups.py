"""A case for a negative review is a follow-up row the sweep retries, never a hook that only logs (#16.8)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.cases import services as case_services
from reviews.cases.models import Case
from shopapp import jobs
from shopapp.models import FollowUp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connection_kept(monkeypatch):
    """The sweep closes stale connections between sweepers; in a test the connection holds the test's transaction."""
    monkeypatch.setattr(jobs, "close_old_connections", lambda: None)


def _sweep(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        jobs.sweep()


def test_a_case_that_failed_to_open_is_retried_by_the_sweep_until_it_opens(
        make_review, monkeypatch, django_capture_on_commit_callbacks):
    reason_for = case_services.case_reason_for

    def database_hiccup(review, config):
        raise RuntimeError("could not serialize access")

    monkeypatch.setattr(case_services, "case_reason_for", database_hiccup)
    review = make_review(1)
    assert not Case.objects.filter(review=review).exists()
    step = FollowUp.objects.get()
    assert (step.status, step.attempts) == (FollowUp.Status.PENDING, 1)
    assert "could not serialize access" in step.last_error

    monkeypatch.setattr(case_services, "case_reason_for", reason_for)
    _sweep(django_capture_on_commit_callbacks)
    assert not Case.objects.filter(review=review).exists()  # not due yet: backoff
    FollowUp.objects.update(next_attempt_at=timezone.now())
    _sweep(django_capture_on_commit_callbacks)
    assert Case.objects.get(review=review).reason == Case.Reason.RATING
    assert FollowUp.objects.get().status == FollowUp.Status.DONE


def test_a_case_whose_job_was_lost_with_redis_is_opened_by_the_sweep(
        make_review, monkeypatch, settings, django_capture_on_commit_callbacks):
    enqueue = jobs.enqueue
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args: None)  # the job never reaches a worker
    review = make_review(1)
    monkeypatch.setattr(jobs, "enqueue", enqueue)
    assert not Case.objects.filter(review=review).exists()

    _sweep(django_capture_on_commit_callbacks)
    assert not Case.objects.filter(review=review).exists()  # maybe still in the queue: not queued twice
    FollowUp.objects.update(queued_at=timezone.now() - timedelta(seconds=settings.JOB_QUEUED_HOLD_SECONDS + 1))
    _sweep(django_capture_on_commit_callbacks)
    assert Case.objects.filter(review=review).exists()


def test_a_step_that_keeps_failing_gives_up_and_stays_visible(make_review, monkeypatch, settings):
    settings.FOLLOW_UP_MAX_ATTEMPTS = 1

    def broken(review, config):
        raise RuntimeError("bug")

    monkeypatch.setattr(case_services, "case_reason_for", broken)
    make_review(1)
    step = FollowUp.objects.get()
    assert (step.status, step.after, step.name) == (FollowUp.Status.FAILED, "review_saved",
                                                    "cases.open_for_negative_review")


def test_a_positive_review_runs_its_follow_up_and_opens_nothing(make_review):
    make_review(5, body="Lovely mug")
    assert FollowUp.objects.get().status == FollowUp.Status.DONE and not Case.objects.exists()


def test_done_follow_ups_are_forgotten_after_a_week_and_failed_ones_are_kept(make_review, monkeypatch, settings):
    make_review(5, body="Lovely mug")
    settings.FOLLOW_UP_MAX_ATTEMPTS = 1
    monkeypatch.setattr(case_services, "case_reason_for", lambda review, config: 1 / 0)
    make_review(1)
    FollowUp.objects.update(finished_at=timezone.now() - timedelta(days=8), created_at=timezone.now() - timedelta(days=8))
    jobs.follow_ups_redrive()
    assert list(FollowUp.objects.values_list("status", flat=True)) == [FollowUp.Status.FAILED]
