"""Referral clicks written behind the response, in batches.

A friend's click must answer fast, and one INSERT and commit per click costs more than the
rest of the request. Each worker process keeps the clicks it served for at most
CLICK_BATCH_MAX_WAIT_MS and a thread writes them in one batch (sooner when a batch is full,
and when the process exits). A worker killed without warning loses at most that window
of clicks; attribution never depends on them (it comes from the order's discount code or
landing URL), and the advocate's own clicks, which a fraud rule compares with, are written at
once. CLICK_BATCH_MAX_WAIT_MS=0 writes every click immediately (as the unit tests do).
The batching itself is shopapp.batcher.
"""
from __future__ import annotations

import atexit

from django.conf import settings
from django.db import connection

from referrals.models import Click
from shopapp.batcher import WriteBehindBatcher

BATCH = 500

_COLUMNS = ("shop_id", "advocate_id", "at", "ip_hash", "user_agent", "landing_path", "referrer_host", "own")


def _insert_sql() -> str:
    quote = connection.ops.quote_name
    return (f"INSERT INTO {quote(Click._meta.db_table)} ({', '.join(quote(c) for c in _COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})")


def clicks_insert(rows: list[tuple]) -> None:
    """Write click rows (tuples in _COLUMNS order, `at` already adapted) in one statement batch."""
    with connection.cursor() as cursor:
        cursor.executemany(_insert_sql(), rows)


class ClickLog(WriteBehindBatcher):
    def __init__(self) -> None:
        super().__init__("click-log")

    def max_wait_ms(self) -> int:
        return settings.CLICK_BATCH_MAX_WAIT_MS

    def batch_size(self) -> int:
        return BATCH

    def write(self, rows: list[tuple]) -> None:
        clicks_insert(rows)


click_log = ClickLog()
atexit.register(click_log.flush)
