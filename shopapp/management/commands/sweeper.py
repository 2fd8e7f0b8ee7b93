"""The periodic sweep as one long-running process, for a supervisor (systemd, a Procfile) to keep up."""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from shopapp.jobs import sweep_forever


class Command(BaseCommand):
    help = "Run the periodic sweep every SWEEP_INTERVAL_SECONDS, riding out Redis and database outages."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=None, help="seconds between rounds")
        parser.add_argument("--rounds", type=int, default=None, help="stop after this many rounds (tests)")

    def handle(self, *args, interval: float | None, rounds: int | None, **options) -> None:
        logging.basicConfig(level=logging.INFO)
        sweep_forever(interval=interval or settings.SWEEP_INTERVAL_SECONDS, rounds=rounds)
