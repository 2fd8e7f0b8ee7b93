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
    calls = []
    monkeypatch.setattr(jobs, "_sweepers", [lambda: calls.append("a"), _boom, lambda: calls.append("c")])
    jobs.sweep()
    assert calls == ["a", "c"]


def test_rqcron_loads_the_same_periodic_jobs_the_embedded_scheduler_runs(settings):
    import fakeredis
    from rq.cron import CronScheduler

    from shopapp.cron import PERIODIC

    scheduler = CronScheduler(connection=fakeredis.FakeRedis())
    scheduler.load_config_from_file("shopapp.cron")
    loaded = [(job.func, job.interval) for job in scheduler.get_jobs()]
    assert loaded == [(jobs.sweep, settings.SWEEP_INTERVAL_SECONDS)] == [(f, i) for f, i in PERIODIC]
