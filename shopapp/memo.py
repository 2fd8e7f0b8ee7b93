"""What a worker process remembers for a few seconds on the storefront's hot paths.

A `Memo` is a bounded, thread-safe map whose entries expire: the shop behind an app proxy
request, a referral code's landing page, a product's review version and rendered pages.
Each user says how long its entries may lag a change made by another process; the process
that makes a change forgets the entry itself at once.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

from django.db import transaction

V = TypeVar("V")
_MISSING = object()


class Memo(Generic[V]):
    def __init__(self, *, seconds: float, max_items: int):
        self.seconds = seconds
        self.max_items = max_items
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] <= time.monotonic():
                return default
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._items[key] = (time.monotonic() + self.seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:  # the least recently used go first
                self._items.popitem(last=False)
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The remembered value, or `make()`'s (remembered, None included)."""
        value = self.get(key, _MISSING)
        return self.put(key, make()) if value is _MISSING else value

    def forget(self, key: Hashable | None = None) -> None:
        """Forget one key, or everything."""
        with self._lock:
            if key is None:
                self._items.clear()
            else:
                self._items.pop(key, None)


def now_and_once_committed(forget: Callable[[], None]) -> None:
    """Forget now, and again once the change commits: a request in between may have read
    (and remembered) the row as it was before."""
    forget()
    transaction.on_commit(forget)
