"""Referral clicks written behind the response, in batches.

A friend's click must answer fast, and one INSERT and commit per click costs more than the
rest of the request. Each worker process keeps the clicks it served for at most
CLICK_WRITE_BEHIND_MS and a thread writes them in one batch (sooner when a batch is full,
and when the process exits). A worker killed without warning loses at most that window
of clicks; attribution never depends on them (it comes from the order's discount code or
landing URL), and the advocate's own clicks, which a fraud rule compares with, are written at
once. CLICK_WRITE_BEHIND_MS=0 writes every click immediately (as the unit tests do).
"""
from __future__ import annotations

import atexit
import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections, connection

from referrals.models import Click

log = logging.getLogger(__name__)

BATCH = 500
MAX_PENDING = 20_000  # if the database is down, keep this many and drop the oldest beyond

_COLUMNS = ("shop_id", "advocate_id", "at", "ip_hash", "user_agent", "landing_path", "referrer_host", "own")


def _insert_sql() -> str:
    quote = connection.ops.quote_name
    return (f"INSERT INTO {quote(Click._meta.db_table)} ({', '.join(quote(c) for c in _COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})")


def clicks_insert(rows: list[tuple]) -> None:
    """Write click rows (tuples in _COLUMNS order, `at` already adapted) in one statement batch."""
    with connection.cursor() as cursor:
        cursor.executemany(_insert_sql(), rows)


class ClickLog:
    def __init__(self) -> None:
        self._rows: list[tuple] = []
        self._lock = threading.Lock()
        self._owner_pid = 0  # the process whose flusher thread runs (gunicorn forks workers)
        self._full = threading.Event()

    def add(self, row: tuple) -> None:
        if settings.CLICK_WRITE_BEHIND_MS <= 0:
            clicks_insert([row])
            return
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= BATCH
            if self._owner_pid != os.getpid():
                self._owner_pid = os.getpid()
                threading.Thread(target=self._run, name="click-log", daemon=True).start()
        if full:
            self._full.set()  # the flusher writes it now; the request does not wait for it

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            clicks_insert(rows)
        except Exception:
            log.exception("could not write %d referral clicks; keeping them for the next try", len(rows))
            with self._lock:
                self._rows = (rows + self._rows)[-MAX_PENDING:]

    def _run(self) -> None:
        while True:
            self._full.wait(max(settings.CLICK_WRITE_BEHIND_MS, 100) / 1000)
            self._full.clear()
            close_old_connections()
            self.flush()


click_log = ClickLog()
atexit.register(click_log.flush)
