"""Health check for supervisors and monitors: exit 0 when the sweep ran recently, 1 (and why) when not."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shopapp.jobs import heartbeat_age


class Command(BaseCommand):
    help = "Say when the periodic sweep last completed a round; fail if that is longer ago than SWEEP_STALE_SECONDS."

    def handle(self, *args, **options) -> None:
        age = heartbeat_age("sweep")
        if age is None:
            raise CommandError("the sweep has never completed a round: is `manage.py sweeper` running?")
        seconds = int(age.total_seconds())
        if seconds > settings.SWEEP_STALE_SECONDS:
            raise CommandError(f"the sweep last completed a round {seconds} s ago "
                               f"(more than {settings.SWEEP_STALE_SECONDS} s): check `manage.py sweeper` and Redis")
        self.stdout.write(f"ok: the sweep last completed a round {seconds} s ago")
