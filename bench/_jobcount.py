"""Counts the webhook jobs every process enqueues and performs, for bench/webhook_processing.py.

Installed through the benchmark's settings (RQ JOB_CLASS) and `rqworker --job-class`, so the
app's code runs unchanged. Each process appends one line per job to BENCH_JOB_LOG: lines of a
few bytes written with one O_APPEND write do not interleave between processes.
"""
from __future__ import annotations

import json
import os

from rq.job import Job


def _events(func_name: str, args) -> int:
    """How many webhook events a job carries (a batch job carries a list of ids)."""
    if "webhook_event" not in (func_name or "") or not args:
        return 0
    return len(args[0]) if isinstance(args[0], (list, tuple)) else 1


def _note(kind: str, func_name: str, args) -> None:
    path = os.environ.get("BENCH_JOB_LOG")
    events = _events(func_name, args)
    if not path or not events:
        return
    line = json.dumps({"kind": kind, "func": func_name.rsplit(".", 1)[-1], "events": events}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class CountedJob(Job):
    @classmethod
    def create(cls, func, args=None, *rest, **kwargs):
        job = super().create(func, args, *rest, **kwargs)
        _note("enqueued", job.func_name, job.args)
        return job

    def perform(self):
        _note("performed", self.func_name, self.args)
        return super().perform()


def read(path: str) -> dict:
    """Totals per kind: jobs and the events they carried."""
    totals = {"enqueued": {"jobs": 0, "events": 0}, "performed": {"jobs": 0, "events": 0}}
    if not os.path.exists(path):
        return totals
    with open(path) as f:
        for raw in f:
            try:
                line = json.loads(raw)
            except ValueError:  # a process killed mid-write
                continue
            totals[line["kind"]]["jobs"] += 1
            totals[line["kind"]]["events"] += line["events"]
    return totals


def noop() -> None:
    """The bare job: what RQ costs before any of Advocate's work (webhook_processing's baseline)."""
