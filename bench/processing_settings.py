"""Advocate's settings, plus a job class that counts webhook jobs (bench/webhook_processing.py only)."""
from shopapp.settings import *  # noqa: F401,F403

RQ = {"JOB_CLASS": "bench._jobcount.CountedJob"}
