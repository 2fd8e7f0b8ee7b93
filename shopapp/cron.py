"""The one place that declares periodic jobs.

Production: `manage.py sweeper` (one supervised process: it outlives Redis and database
outages, and records a heartbeat `manage.py health` reads). Embedded (no Redis):
shopapp.jobs.start_embedded_scheduler reads the same list.
"""
from __future__ import annotations

from django.conf import settings

from shopapp.jobs import sweep

PERIODIC = [
    (sweep, settings.SWEEP_INTERVAL_SECONDS),
]
