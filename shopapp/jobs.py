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
from typing import Any, Callable

from django.conf import settings
from django.db import close_old_connections, transaction

log = logging.getLogger(__name__)

_sweepers: list[Callable[[], Any]] = []


def register_sweeper(func: Callable[[], Any]) -> Callable[[], Any]:
    """Add a function to the periodic sweep (each app re-drives its own due work)."""
    _sweepers.append(func)
    return func


def sweep() -> None:
    """The one periodic job: every registered sweeper, each failure logged, none fatal."""
    for func in list(_sweepers):
        try:
            func()
        except Exception:
            log.exception("sweeper %s failed", func.__qualname__)
        finally:
            close_old_connections()


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


def start_embedded_scheduler(interval: float | None = None) -> threading.Thread:
    """Run the periodic jobs from shopapp.cron on a timer, in-process (no Redis)."""
    from shopapp.cron import PERIODIC

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
