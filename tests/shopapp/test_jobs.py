from __future__ import annotations

import threading

import pytest
from django.db import transaction

from shopapp import jobs

ran: list[int] = []
done = threading.Event()


def _job(n: int) -> None:
    ran.append(n)
    done.set()


def _boom() -> None:
    raise RuntimeError("job failed")


@pytest.fixture
def connection_kept(monkeypatch):
    """The sweep closes stale connections between sweepers; in a test the connection holds the test's transaction."""
    monkeypatch.setattr(jobs, "close_old_connections", lambda: None)


@pytest.mark.django_db(transaction=True)
def test_without_redis_jobs_run_on_the_in_process_worker_after_commit(settings):
    settings.REDIS_URL = ""
    settings.JOBS_INLINE = False
    ran.clear()
    done.clear()
    with transaction.atomic():
        jobs.enqueue(_job, 7)
        assert ran == []  # nothing runs before the commit
    assert done.wait(5)
    assert ran == [7]


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_does_not_stop_the_worker(settings):
    settings.REDIS_URL = ""
    settings.JOBS_INLINE = False
    ran.clear()
    done.clear()
    jobs.enqueue(_boom)
    jobs.enqueue(_job, 8)
    assert done.wait(5)
    assert ran == [8]


def test_rolled_back_transaction_enqueues_nothing(db, settings, django_capture_on_commit_callbacks):
    ran.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                jobs.enqueue(_job, 9)
                raise ValueError
        except ValueError:
            pass
    assert callbacks == [] and ran == []


def test_sweep_runs_every_sweeper_even_when_one_fails(db, monkeypatch):
    from shopapp import registry

    calls = []
    monkeypatch.setattr(registry._r, "sweepers", [])
    for func in (lambda: calls.append("a"), _boom, lambda: calls.append("c")):
        registry.register_sweeper(func)
    failures = jobs.sweep()
    assert calls == ["a", "c"]
    assert [str(exc) for exc in failures] == ["job failed"]


def test_the_embedded_scheduler_runs_the_one_sweep(settings):
    assert jobs.PERIODIC == [(jobs.sweep, settings.SWEEP_INTERVAL_SECONDS)]


# --- the supervised sweep loop (#15.7) -------------------------------------------------

def test_the_sweep_loop_survives_a_redis_outage_and_queues_the_work_once_redis_is_back(
        db, connection_kept, settings, monkeypatch, shop):
    from datetime import timedelta

    import redis
    from django.utils import timezone

    from shopapp.models import WebhookEvent
    from shopapp.webhooks import webhook_event_process

    settings.REDIS_URL, settings.JOBS_INLINE = "redis://queue", False
    event = WebhookEvent.objects.create(shop_domain=shop.domain, topic="orders/create", event_key="stuck",
                                        payload={"id": 1}, received_at=timezone.now() - timedelta(minutes=5))
    redis_up = [False, False, True, True]
    queued = []

    class Queue:
        def enqueue(self, func, *args):
            if not redis_up[0]:
                raise redis.exceptions.ConnectionError("Error 111 connecting to redis:6379. Connection refused.")
            queued.append((func, args))

    pauses = []
    monkeypatch.setattr(jobs, "_rq_queue", lambda: Queue())
    jobs.sweep_forever(interval=30, rounds=4, sleep=lambda s: (pauses.append(s), redis_up.pop(0)))

    assert pauses == [60, 120, 30, 30]  # backed off through the outage, then back to the interval
    assert queued == [(webhook_event_process, (event.pk,))]  # queued once, though two rounds ran after
    assert jobs.heartbeat_age("sweep") is not None


def test_the_sweep_loop_survives_a_database_outage(db, connection_kept, monkeypatch):
    from django.db import OperationalError

    from shopapp import registry

    down = [True]

    def needs_database():
        if down[0]:
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(registry._r, "sweepers", [needs_database])
    pauses = []
    jobs.sweep_forever(interval=10, rounds=3, sleep=lambda s: (pauses.append(s), down.clear(), down.append(False)))
    assert pauses == [20, 10, 10]


def test_a_bug_in_a_sweeper_is_logged_and_does_not_hold_the_heartbeat_back(db, connection_kept, monkeypatch):
    from shopapp import registry

    monkeypatch.setattr(registry._r, "sweepers", [_boom])
    pauses = []
    jobs.sweep_forever(interval=10, rounds=2, sleep=pauses.append)
    assert pauses == [10, 10] and jobs.heartbeat_age("sweep") is not None


def test_health_says_when_the_sweep_last_ran_and_fails_when_it_is_stale(db, settings):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import CommandError, call_command
    from django.utils import timezone

    from shopapp.models import Heartbeat

    with pytest.raises(CommandError, match="never completed"):
        call_command("health")
    jobs.heartbeat_record("sweep")
    out = StringIO()
    call_command("health", stdout=out)
    assert out.getvalue().startswith("ok: the sweep last completed a round")
    Heartbeat.objects.update(at=timezone.now() - timedelta(seconds=settings.SWEEP_STALE_SECONDS + 5))
    with pytest.raises(CommandError, match="more than"):
        call_command("health")


def test_the_sweeper_command_runs_rounds_and_records_its_heartbeat(db, connection_kept, monkeypatch):
    from django.core.management import call_command

    from shopapp import registry

    ran = []
    monkeypatch.setattr(registry._r, "sweepers", [lambda: ran.append(1)])
    monkeypatch.setattr(jobs.time, "sleep", lambda s: None)
    call_command("sweeper", "--rounds", "2", "--interval", "1")
    assert ran == [1, 1] and jobs.heartbeat_age("sweep") is not None


@pytest.mark.django_db
def test_a_row_lease_is_held_by_one_worker_given_back_and_taken_over_when_it_runs_out(shop):
    from datetime import timedelta

    from django.utils import timezone

    from reviews.models import ReviewSettings
    from shopapp.jobs import row_lease

    ReviewSettings.for_shop(shop)
    rows = ReviewSettings.objects.filter(shop=shop)
    with row_lease(rows, "metafields_lease_until", lasts=timedelta(minutes=5)) as first:
        with row_lease(rows, "metafields_lease_until", lasts=timedelta(minutes=5)) as second:
            assert first and not second  # a second worker waits its turn
        assert rows.get().metafields_lease_until is not None  # the one refused gives back nothing
    assert rows.get().metafields_lease_until is None  # given back
    rows.update(metafields_lease_until=timezone.now() - timedelta(seconds=1))  # a dead worker's claim ran out
    with row_lease(rows, "metafields_lease_until", lasts=timedelta(minutes=5)) as taken_over:
        assert taken_over
