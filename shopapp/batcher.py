"""Work a request hands over and a thread of the same worker process does in batches.

Used where one round trip per request costs more than the rest of the request: referral
clicks (one INSERT per batch) and stored webhooks handed to the job queue (one job per
batch). Each subclass says how long items may wait (`max_wait_ms`; 0 or less: at once, in the
request) and how to `write` a batch. A batch is written after at most that delay, sooner when
it is full, and at exit if the owner registers `flush` with atexit; a failed write keeps its
items for the next try.
What a killed process had not written yet is lost, so each user must be able to bear that
(clicks) or re-drive it (webhook events left in `received` are picked up by the sweep).
"""
from __future__ import annotations

import logging
import os
import threading

from django.db import close_old_connections

log = logging.getLogger(__name__)


class WriteBehindBatcher:
    max_pending = 20_000  # if writes keep failing, keep this many and drop the oldest beyond

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: list = []
        self._lock = threading.Lock()
        self._owner_pid = 0  # the process whose writer thread runs (gunicorn forks workers)
        self._full = threading.Event()

    def max_wait_ms(self) -> int:
        raise NotImplementedError

    def batch_size(self) -> int:
        return 500

    def write(self, items: list) -> None:
        raise NotImplementedError

    def add(self, item) -> None:
        if self.max_wait_ms() <= 0:
            self.write([item])
            return
        with self._lock:
            self._items.append(item)
            full = len(self._items) >= self.batch_size()
            if self._owner_pid != os.getpid():
                self._owner_pid = os.getpid()
                threading.Thread(target=self._run, name=self.name, daemon=True).start()
        if full:
            self._full.set()  # the writer takes it now; the request does not wait for it

    def flush(self) -> None:
        with self._lock:
            items, self._items = self._items, []
        if not items:
            return
        try:
            self.write(items)
        except Exception:
            log.exception("%s: could not write %d items; keeping them for the next try", self.name, len(items))
            with self._lock:
                self._items = (items + self._items)[-self.max_pending:]

    def _run(self) -> None:
        while True:
            self._full.wait(max(self.max_wait_ms(), 10) / 1000)
            self._full.clear()
            close_old_connections()
            self.flush()
