"""The one place that declares periodic jobs.

Production: `manage.py rqcron shopapp.cron` (one scheduler process). Embedded (no
Redis): shopapp.jobs.start_embedded_scheduler reads the same list.
"""
from __future__ import annotations

from django.conf import settings
from rq import cron

from shopapp.jobs import sweep

PERIODIC = [
    (sweep, settings.SWEEP_INTERVAL_SECONDS),
]

for _func, _interval in PERIODIC:
    cron.register(_func, queue_name="default", interval=_interval)
