"""Run Advocate in one process for development and the demo: web server, jobs, periodic sweep.

With REDIS_URL set, jobs go to RQ and this only serves the web (run rqworker and sweeper
beside it). Without, jobs run on an in-process worker thread and the periodic sweep on
a timer thread, so nothing else is needed.
"""
from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Advocate with its jobs in one process (development and demo)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--migrate", action="store_true", help="apply migrations first")

    def handle(self, *args, addrport: str, migrate: bool, **options):
        if migrate:
            self.stdout.write("Applying database migrations…")
            call_command("migrate", interactive=False, verbosity=0)
        if not settings.REDIS_URL:
            from shopapp.jobs import start_embedded_scheduler

            start_embedded_scheduler()
            self.stdout.write(f"Jobs run in-process; periodic sweep every {settings.SWEEP_INTERVAL_SECONDS}s.")
        else:
            self.stdout.write("Jobs go to Redis: run `manage.py rqworker default` and `manage.py sweeper`.")
        call_command("runserver", addrport, use_reloader=False, use_threading=True, skip_checks=False)
