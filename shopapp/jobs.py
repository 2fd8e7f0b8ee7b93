"""Background jobs: RQ when REDIS_URL is set, otherwise an in-process worker thread.

Jobs are plain functions that load rows by id and call a service; every one may run
twice. The database is the source of truth, so the periodic sweep re-drives anything
whose job was lost with Redis or a killed worker.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from shopapp import registry
from shopapp.models import FollowUp, Heartbeat

log = logging.getLogger(__name__)


def sweep() -> list[Exception]:
    """The one periodic job: every registered sweeper, each failure logged, none fatal.

    Returns the failures, so the sweeper loop can tell an outage (back off) from a bug."""
    failures: list[Exception] = []
    for func in registry.sweepers():
        try:
            func()
        except Exception as exc:
            failures.append(exc)
            log.exception("sweeper %s failed", func.__qualname__)
        finally:
            close_old_connections()
    return failures


def enqueue_unqueued(rows: QuerySet, func: Callable[[int], Any], *, limit: int = 500) -> int:
    """Queue `func(pk)` for the due `rows` not queued in the last JOB_QUEUED_HOLD_SECONDS, and mark them.

    A row already waiting in the queue is not queued again (the queue once held 2,582 jobs
    for 1,063 events). Rows a live worker holds locked are skipped. The jobs go to the queue
    before the marks commit: if Redis refuses them, the marks roll back and the next sweep
    tries again, instead of the rows waiting out the hold."""
    now = timezone.now()
    hold = timedelta(seconds=settings.JOB_QUEUED_HOLD_SECONDS)
    with transaction.atomic():
        pks = list(
            rows.filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - hold))
            .select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:limit]
        )
        rows.model.objects.filter(pk__in=pks).update(queued_at=now)
        for pk in pks:
            _dispatch(func, (pk,))
    return len(pks)


def heartbeat_record(name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


def heartbeat_age(name: str) -> timedelta | None:
    """How long ago `name` last completed a round; None if it never did."""
    at = Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
    return timezone.now() - at if at else None


# --- follow-ups: what must happen after a state change ------------------------------

def follow_ups_record(after: str, *args: Any) -> None:
    """Record each registered follow-up of `after` in the caller's transaction, and run it after commit.

    The row commits with the change or not at all; a step that fails, or whose job is lost
    with Redis or a killed worker, is retried by the sweep with backoff, never only logged."""
    for name in registry.follow_ups(after):
        row = FollowUp.objects.create(after=after, name=name, args=list(args), queued_at=timezone.now())
        enqueue(follow_up_run, row.pk)


def follow_up_run(follow_up_id: int) -> None:
    """Job: run one pending follow-up; the row lock keeps a second worker from running it at once."""
    with transaction.atomic():
        row = (FollowUp.objects.select_for_update(skip_locked=True)
               .filter(pk=follow_up_id, status=FollowUp.Status.PENDING).first())
        if row is None:
            return  # done already, or a live worker is running it
        func = registry.follow_ups(row.after).get(row.name)
        try:
            with transaction.atomic():
                if func is None:
                    raise LookupError(f"no follow-up {row.name!r} is registered for {row.after!r}")
                func(*row.args)
        except Exception as exc:
            log.warning("follow-up %s failed: %s", row, exc)
            attempts = row.attempts + 1
            gave_up = attempts >= settings.FOLLOW_UP_MAX_ATTEMPTS
            FollowUp.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000], queued_at=None,
                status=FollowUp.Status.FAILED if gave_up else FollowUp.Status.PENDING,
                next_attempt_at=timezone.now() + backoff(attempts),
            )
            return
        FollowUp.objects.filter(pk=row.pk).update(
            status=FollowUp.Status.DONE, attempts=F("attempts") + 1, last_error="", finished_at=timezone.now())


FOLLOW_UP_KEEP_DONE = timedelta(days=7)


def follow_ups_redrive() -> int:
    """Sweeper: queue the pending follow-ups that are due (failed before, or whose job was lost),
    and forget the ones done more than a week ago (failed ones stay for someone to look at)."""
    now = timezone.now()
    FollowUp.objects.filter(status=FollowUp.Status.DONE, finished_at__lt=now - FOLLOW_UP_KEEP_DONE).delete()
    due = FollowUp.objects.filter(status=FollowUp.Status.PENDING, next_attempt_at__lte=now)
    return enqueue_unqueued(due, follow_up_run)


@contextmanager
def row_lease(rows: QuerySet, field: str, *, lasts: timedelta) -> Iterator[bool]:
    """A claim on a row that one worker at a time can hold (one sync per shop, say): yields whether
    this worker got it and gives it back afterwards. A worker that dies holding it loses it when
    `lasts` has passed."""
    moment = timezone.now()
    free = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": moment})
    taken = bool(rows.filter(free).update(**{field: moment + lasts}))
    try:
        yield taken
    finally:
        if taken:
            rows.update(**{field: None})


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


# --- the supervised sweep loop -------------------------------------------------------

def _is_outage(exc: BaseException) -> bool:
    """Redis or the database unreachable: wait and try again, never die."""
    import redis

    return isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, DatabaseError,
                            ConnectionError, TimeoutError))


def sweep_forever(*, interval: float, max_backoff: float = 300.0, rounds: int | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> None:
    """Sweep every `interval` seconds; through an outage of Redis or the database, back off and go on.

    rq's cron loop died on the first Redis ConnectionError and left failed events failed until
    someone restarted it; this loop outlives the outage (and systemd restarts it if it dies).
    A round that met an outage records no heartbeat, so the health check sees the gap."""
    failures = 0
    done = 0
    while rounds is None or done < rounds:
        done += 1
        try:
            outages = [exc for exc in sweep() if _is_outage(exc)]
            if outages:
                raise outages[0]
            heartbeat_record("sweep")
            failures = 0
            pause = interval
        except Exception as exc:
            if not _is_outage(exc):
                raise
            failures += 1
            pause = min(interval * 2 ** failures, max_backoff)
            log.warning("sweep met an outage (%s); next try in %.0f s", exc, pause)
            close_old_connections()
        sleep(pause)


def enqueue(func: Callable[..., Any], *args: Any) -> None:
    """Run `func(*args)` in a worker once the current transaction commits."""
    transaction.on_commit(lambda: _dispatch(func, args))


def _dispatch(func: Callable[..., Any], args: tuple) -> None:
    if settings.REDIS_URL:
        _rq_queue().enqueue(func, *args)
    elif settings.JOBS_INLINE:
        _run(func, args)
    else:
        _embedded().put((func, args))


_queues: dict[tuple, Any] = {}


def _rq_queue():
    """The RQ queue, built once per process so its Redis connection pool is reused."""
    import django_rq

    # JOBS_INLINE with Redis: RQ runs the job at once, through Redis (the tests).
    key = (settings.REDIS_URL, settings.JOBS_INLINE)
    if key not in _queues:
        _queues[key] = django_rq.get_queue("default", is_async=not settings.JOBS_INLINE)
    return _queues[key]


def _run(func: Callable[..., Any], args: tuple) -> None:
    try:
        func(*args)
    except Exception:
        log.exception("job %s%r failed", func.__qualname__, args)


class _EmbeddedWorker:
    """One daemon thread that runs jobs in order: the demo's stand-in for rqworker."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        threading.Thread(target=self._loop, name="advocate-jobs", daemon=True).start()

    def put(self, item: tuple) -> None:
        self._idle.clear()
        self._queue.put(item)

    def _loop(self) -> None:
        while True:
            func, args = self._queue.get()
            close_old_connections()
            _run(func, args)
            close_old_connections()
            if self._queue.empty():
                self._idle.set()

    def wait_idle(self, timeout: float) -> bool:
        return self._idle.wait(timeout)


_worker: _EmbeddedWorker | None = None
_worker_lock = threading.Lock()


def _embedded() -> _EmbeddedWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _EmbeddedWorker()
        return _worker


def wait_for_jobs(timeout: float = 10.0) -> bool:
    """Block until the in-process worker has nothing left (demo and end-to-end tests)."""
    return _worker is None or _worker.wait_idle(timeout)


# The one place that declares periodic jobs. Production: `manage.py sweeper` (one supervised
# process that outlives Redis and database outages and records a heartbeat `manage.py health`
# reads). Embedded (no Redis): start_embedded_scheduler below.
PERIODIC = [
    (sweep, settings.SWEEP_INTERVAL_SECONDS),
]


def start_embedded_scheduler(interval: float | None = None) -> threading.Thread:
    """Run the periodic jobs on a timer, in-process (no Redis)."""
    def loop() -> None:
        last: dict[Callable, float] = {}
        while True:
            now = time.monotonic()
            for func, every in PERIODIC:
                every = interval or every
                if now - last.get(func, 0.0) >= every:
                    last[func] = now
                    _embedded().put((func, ()))
            time.sleep(0.2)

    thread = threading.Thread(target=loop, name="advocate-scheduler", daemon=True)
    thread.start()
    return thread
