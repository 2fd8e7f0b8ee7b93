"""Webhook processing end to end: a burst of mixed events through intake and two rqworkers.

The production set-up on one machine: Advocate under gunicorn on PostgreSQL (DATABASE_URL),
its own Redis server (started here on a free port, so it can be restarted), two
`rqworker --with-scheduler` and the periodic sweep (`manage.py sweeper`), with devstore
answering every Shopify call without a rate limit and receiving the emails. devstore's
checkout, fulfilment and refunds produce the events (customers/create, orders/create,
orders/paid, fulfillments/create, orders/fulfilled, fulfillments/update, refunds/create);
they are fired at /webhooks from a separate process at 32 connections, signed as Shopify
signs them, every tenth delivered twice.

First the baseline in the same run: as many no-op jobs through the same queue and workers
(what RQ itself costs: a fork per job). Then two rounds: a clean one, then one where, once a
third of the events are done (or 30 s have passed), one worker is killed (SIGKILL, with the
job it is running) and Redis is restarted empty; a supervisor restarts what died, as systemd
would. Each round reports events tried per second, receipt-to-done p50/p99 (from the rows'
received_at and finished_at), CPU per event, and webhook jobs enqueued and performed per
event (1.0 is the target apart from retries). Afterwards the database and devstore are
checked: events lost, events not done, emails sent twice, Shopify discount codes created
twice. The last line is one JSON object of named figures and
their targets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_processing \\
        .venv/bin/python bench/webhook_processing.py [--events 500]   # --events 10000 for the full run

An event whose worker was killed mid-job stays `processing` until the sweep gives it back
(after 10 minutes), and one that arrived before its order waits for its retry (30 s, 60 s,
120 s...); `--settle` says how long to wait for stragglers (default 240 s). Those left are
reported in `not_done_by_status`; `lost` (never stored) and `gave_up` (failed for good) are
the work lost.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import _jobcount  # noqa: E402
from bench._common import (PY, ROOT, cpu_seconds, describe, free_port, gunicorn, load, report,  # noqa: E402
                           server_pids, wait_http)

DOMAIN = "demo-outfitters.myshopify.com"
API_KEY = "advocate-bench-client-id"
API_SECRET = "advocate-bench-client-secret-0123456789abcdef"


class Supervisor:
    """Keeps named processes running, restarting any that exit, as systemd does in production."""

    def __init__(self, env: dict, logdir: Path) -> None:
        self.env, self.logdir = env, logdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.argv: dict[str, list[str]] = {}
        self.restarts = Counter()
        self.web_pids: list[int] = []

    def start(self, name: str, argv: list[str]) -> None:
        self.argv[name] = argv
        log = open(self.logdir / f"{name}.log", "ab")
        # Its own process group: a kill takes the worker and the job it is running (RQ's work horse).
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def check(self) -> None:
        for name, proc in list(self.procs.items()):
            if proc.poll() is not None:
                self.restarts[name] += 1
                self.start(name, self.argv[name])

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class Redis:
    """A private redis-server without persistence: a restart loses every queued job."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.workdir, self.proc = free_port(), workdir, None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no",
                                      "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(self.port)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def devstore_start(app_url: str):
    """devstore in this process, its Admin API answering without a cost limit."""
    try:
        from devstore.server import start
    except ImportError as exc:
        raise SystemExit(f"devstore's dependencies are missing ({exc}): pip install -e '.[devstore]'")
    store = start(port=0, app_url=app_url, api_key=API_KEY, api_secret=API_SECRET, data_dir=None, smtp_port=0,
                  retry_base=0.5)
    store.seed()
    # devstore writes a reply's headers and body separately: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK (40 ms a call), which is devstore's cost, not Shopify's.
    store._httpd.RequestHandlerClass.disable_nagle_algorithm = True
    unlimited = {"maximumAvailable": 1e9, "currentlyAvailable": 1e9, "restoreRate": 1e9}
    store.store.bucket_take = lambda domain, requested: (True, unlimited)
    return store


def events_generate(store, *, events: int, round_: str) -> list:
    """Orders placed, fulfilled, some delivered or refunded in devstore; the webhooks it would
    send, kept instead of sent (each order has a new customer, so each email goes to one order)."""
    captured: list = []
    delivering = list(store.store.listeners)
    store.store.listeners[:] = [captured.append]
    try:
        products = [p for p in store.store.shop(DOMAIN)["products"].values() if not p.get("gift_card")]
        i = 0
        while len(captured) < events:
            order = store.place_order(DOMAIN, lines=[(products[i % len(products)]["id"], 1)],
                                      email=f"bench-{round_}-{i}@example.com", first_name=f"Shopper{i}", last_name="Bench")
            store.fulfil(DOMAIN, order["id"])
            if i % 7 == 3:
                store.deliver(DOMAIN, order["id"])
            if i % 5 == 4:
                store.refund(DOMAIN, order["id"])
            i += 1
    finally:
        store.store.listeners[:] = delivering
    return captured


def requests_build(deliveries: list, app_url: str) -> list[bytes]:
    from bench._load import build_request
    from devstore.webhooks import headers_for

    # Shopify delivers some events twice, under the same event id and a new webhook id.
    burst = deliveries + [dataclasses.replace(d, id=str(uuid.uuid4())) for d in deliveries[::10]]
    return [build_request("POST", f"{app_url}/webhooks", headers_for(d, API_SECRET), d.body) for d in burst]


def progress(keys: set[tuple[str, str]]) -> Counter:
    """Status of this round's events, from the database."""
    from shopapp.models import WebhookEvent

    rows = WebhookEvent.objects.filter(shop_domain=DOMAIN).values_list("topic", "event_key", "status", "next_attempt_at")
    # A failed event is either waiting for its retry (an order's fulfilment that arrived before
    # the order backs off 30 s, 60 s, 120 s...) or given up: only the second is lost work.
    return Counter(
        ("failed_retry_pending" if retry else "failed_gave_up") if status == WebhookEvent.Status.FAILED else status
        for topic, key, status, retry in rows if (topic, key) in keys)


def _pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def bare_jobs(redis_url: str, n: int, *, timeout: float) -> dict:
    """The baseline in the same run: n no-op jobs through the same queue and workers."""
    from redis import Redis as Connection
    from rq import Queue
    from rq.job import Job

    queue = Queue("default", connection=Connection.from_url(redis_url))
    jobs = queue.enqueue_many([Queue.prepare_data("bench._jobcount.noop") for _ in range(n)])
    ids = [job.id for job in jobs]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fetched = [job for job in Job.fetch_many(ids, connection=queue.connection) if job]
        if len(fetched) == n and all(job.ended_at for job in fetched):
            break
        time.sleep(0.5)
    ended = [job for job in fetched if job.ended_at]
    latencies = sorted((job.ended_at - job.enqueued_at).total_seconds() * 1000 for job in ended)
    span = (max(j.ended_at for j in ended) - min(j.enqueued_at for j in ended)).total_seconds() if ended else 0

    return {"jobs_per_s": len(ended) / span if span else 0.0, "p50_ms": _pct(latencies, 0.5),
            "p99_ms": _pct(latencies, 0.99), "done": len(ended)}


def round_run(*, name: str, store, app_url: str, args, supervisor: Supervisor, redis: Redis, job_log: str,
              fault: bool) -> dict:
    from django.db import connection

    from shopapp.models import WebhookEvent

    deliveries = events_generate(store, events=args.events, round_=name)
    keys = {(d.topic, d.event_id) for d in deliveries}
    requests = requests_build(deliveries, app_url)
    jobs_before = _jobcount.read(job_log)
    print(f"== {name}: {len(requests)} deliveries of {len(keys)} events at {args.concurrency} connections", flush=True)
    cpu_before = _cpu(supervisor)
    started = time.monotonic()
    intake = load(f"{app_url}/webhooks", requests, args.concurrency)
    print(describe("intake", intake), flush=True)
    faulted_at = first_pass = None
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        supervisor.check()
        counts = progress(keys)
        done = counts.get(WebhookEvent.Status.DONE, 0)
        # Mid-way: a third done, or after --fault-after seconds if the backlog drains slower than that.
        if fault and faulted_at is None and (done >= len(keys) / 3 or time.monotonic() - started > args.fault_after):
            print(f"   {done} done: killing worker-1 and restarting Redis (empty)", flush=True)
            supervisor.kill("worker-1")
            redis.stop()
            redis.start()
            faulted_at = done
        waiting = counts.get(WebhookEvent.Status.RECEIVED, 0) + counts.get(WebhookEvent.Status.PROCESSING, 0)
        if first_pass is None and sum(counts.values()) == len(keys) and not waiting:
            # Every event has been tried once; what is left waits for its retry (an order's
            # fulfilment that arrived before the order), which backs off for 30 s and more.
            first_pass = time.monotonic() - started
            cpu_first_pass = _cpu(supervisor)
        if done == len(keys):
            break
        time.sleep(0.5)
        connection.close()  # a fresh snapshot each poll
    if first_pass is None:
        first_pass, cpu_first_pass = time.monotonic() - started, _cpu(supervisor)
    counts = progress(keys)
    jobs_after = _jobcount.read(job_log)
    rows = [row for row in WebhookEvent.objects.filter(shop_domain=DOMAIN, status=WebhookEvent.Status.DONE)
            .values_list("topic", "event_key", "received_at", "finished_at") if (row[0], row[1]) in keys]
    latencies = sorted((finished - received).total_seconds() * 1000 for _, _, received, finished in rows)
    first = min(r[2] for r in rows) if rows else None
    last = max(r[3] for r in rows) if rows else None
    span = (last - first).total_seconds() if rows else 0

    stored = sum(counts.values())
    result = {
        "events": len(keys), "deliveries": len(requests), "intake_statuses": intake["statuses"],
        "done": counts.get(WebhookEvent.Status.DONE, 0), "not_done": stored - counts.get(WebhookEvent.Status.DONE, 0),
        "not_done_by_status": Counter({k: v for k, v in counts.items() if k != WebhookEvent.Status.DONE}),
        "lost": len(keys) - stored,
        "gave_up": counts.get("failed_gave_up", 0),
        # Tried once each, per second from the burst's start: the rate the workers get through a backlog.
        "events_per_s": len(keys) / first_pass,
        # Done, per second from the first receipt to the last done, retries' back-off included.
        "done_per_s": len(rows) / span if span else 0.0,
        **{f"{part}_cpu_ms": (cpu_first_pass[part] - cpu_before[part]) * 1000 / len(keys) for part in cpu_before},
        "p50_ms": _pct(latencies, 0.5), "p99_ms": _pct(latencies, 0.99),
        "jobs_enqueued_per_event": (jobs_after["enqueued"]["events"] - jobs_before["enqueued"]["events"]) / len(keys),
        "jobs_performed_per_event": (jobs_after["performed"]["events"] - jobs_before["performed"]["events"]) / len(keys),
        "job_batches_enqueued": jobs_after["enqueued"]["jobs"] - jobs_before["enqueued"]["jobs"],
    }
    print(f"   {name}: {result['done']}/{result['events']} done, {result['events_per_s']:.1f} events/s tried once, "
          f"CPU ms per event: workers {result['workers_cpu_ms']:.0f}, devstore {result['devstore_cpu_ms']:.0f}, "
          f"web {result['web_cpu_ms']:.0f}; "
          f"receipt-to-done p50 {result['p50_ms']:.0f} ms p99 {result['p99_ms']:.0f} ms, "
          f"{result['jobs_enqueued_per_event']:.2f} jobs enqueued and {result['jobs_performed_per_event']:.2f} "
          f"performed per event; not done {dict(result['not_done_by_status'])}, lost {result['lost']}", flush=True)
    return result


def _cpu(supervisor: Supervisor) -> dict:
    """CPU seconds so far: the workers (with the work horses they forked and waited for), this
    process (devstore answers the Admin API and takes the mail here) and gunicorn. Not
    PostgreSQL's: each work horse's connection is a backend that exits, taking its count along."""
    workers = [p.pid for name, p in supervisor.procs.items() if name.startswith("worker")]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"workers": cpu_seconds(workers, children=True), "devstore": usage.ru_utime + usage.ru_stime,
            "web": cpu_seconds(supervisor.web_pids)}


def side_effects(store) -> dict:
    """Things that must happen once per event, counted from devstore (emails, discount codes)."""
    from referrals.models import Advocate
    from reviews.models import ReviewRequest

    mails = Counter((tuple(sorted(m.get("to") or [])) if isinstance(m.get("to"), list) else m.get("to"), m.get("subject"))
                    for m in store.mailbox())
    codes = Counter(d.get("code") for d in store.discount_codes(DOMAIN))
    return {
        "emails": sum(mails.values()),
        "emails_twice": sum(n - 1 for n in mails.values() if n > 1),
        "review_requests_sent": ReviewRequest.objects.filter(shop__domain=DOMAIN, sent_at__isnull=False).count(),
        "discount_codes": sum(codes.values()),
        "discount_codes_twice": sum(n - 1 for n in codes.values() if n > 1),
        "advocates": Advocate.objects.filter(shop__domain=DOMAIN).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="events per round (the issue's full run: 10000)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers")
    parser.add_argument("--settle", type=float, default=240, help="seconds to wait for a round's events to be done")
    parser.add_argument("--mail-wait", type=float, default=25, help="seconds to let due emails go out at the end")
    parser.add_argument("--fault-after", type=float, default=30,
                        help="seconds into the second round to kill a worker and restart Redis, if a third is not done by then")
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs (the path is printed)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of its own (e.g. .../bench_processing).")
    workdir = Path(tempfile.mkdtemp(prefix="advocate-bench-processing-"))
    redis = Redis(workdir)
    redis.start()
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    store = devstore_start(app_url)
    job_log = str(workdir / "jobs.log")
    os.environ.update({
        "REDIS_URL": redis.url, "SHOPIFY_API_KEY": API_KEY, "SHOPIFY_API_SECRET": API_SECRET, "APP_URL": app_url,
        "SHOPIFY_UPSTREAM_URL": store.url, "APP_BRIDGE_URL": f"{store.url}/app-bridge.js", "PRODUCTION": "0",
        "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(store.smtp_port), "ADVOCATE_VAR_DIR": str(workdir / "var"),
        # One "day" is a second, so review requests fall due during the run and their emails go out.
        "ADVOCATE_DAY_SECONDS": "1", "SWEEP_INTERVAL_SECONDS": "10", "BENCH_JOB_LOG": job_log,
    })
    print("== migrating and resetting the benchmark shop", flush=True)
    from bench._common import django_env

    env = django_env()
    env["DJANGO_SETTINGS_MODULE"] = "bench.processing_settings"
    from shopapp.models import Shop, WebhookEvent

    Shop.objects.filter(domain=DOMAIN).delete()
    WebhookEvent.objects.filter(shop_domain=DOMAIN).delete()
    supervisor = Supervisor(env, workdir)
    worker = [PY, "manage.py", "rqworker", "default", "--with-scheduler", "--job-class", "bench._jobcount.CountedJob"]
    rounds = {}
    try:
        with gunicorn(env, workers=args.workers, port=app_port) as base:
            supervisor.web_pids = server_pids(base)
            supervisor.start("worker-1", worker)
            supervisor.start("worker-2", worker)
            supervisor.start("sweep", [PY, "manage.py", "sweeper"])
            response = store.install(DOMAIN)
            if response.status_code != 200:
                raise SystemExit(f"installing Advocate on devstore answered {response.status_code}")
            print(f"== bare jobs: {args.events} no-op jobs through the same queue and workers", flush=True)
            bare = bare_jobs(redis.url, args.events, timeout=args.settle)
            print(f"   bare: {bare['done']} done, {bare['jobs_per_s']:.1f} jobs/s, enqueue-to-done p50 "
                  f"{bare['p50_ms']:.0f} ms p99 {bare['p99_ms']:.0f} ms", flush=True)
            for name, fault in (("clean", False), ("faults", True)):
                rounds[name] = round_run(name=name, store=store, app_url=app_url, args=args, supervisor=supervisor,
                                         redis=redis, job_log=job_log, fault=fault)
            print(f"== letting due emails go out ({args.mail_wait:.0f} s)", flush=True)
            end = time.monotonic() + args.mail_wait
            while time.monotonic() < end:
                supervisor.check()
                time.sleep(1)
            effects = side_effects(store)
    finally:
        supervisor.stop()
        store.stop()
        redis.stop()
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"side effects: {effects}; restarts {dict(supervisor.restarts)}")
    clean, faults = rounds["clean"], rounds["faults"]
    report("webhook_processing", {
        "events": clean["events"], "events_per_s": clean["events_per_s"], "done_per_s": clean["done_per_s"],
        # Against the bare job in the same run (the machine is shared): what Advocate's work adds to RQ's own.
        "bare_jobs_per_s": bare["jobs_per_s"], "bare_p50_ms": bare["p50_ms"], "bare_p99_ms": bare["p99_ms"],
        "ratio": clean["events_per_s"] / bare["jobs_per_s"] if bare["jobs_per_s"] else 0.0,
        "p99_ratio": clean["p99_ms"] / bare["p99_ms"] if bare["p99_ms"] else 0.0,
        # CPU per event in the clean round (in the other, a killed worker takes its count with it).
        **{key: clean[key] for key in clean if key.endswith("_cpu_ms")},
        "p50_ms": clean["p50_ms"], "p99_ms": clean["p99_ms"],
        "jobs_per_event": clean["jobs_enqueued_per_event"], "jobs_performed_per_event": clean["jobs_performed_per_event"],
        "faults_events_per_s": faults["events_per_s"], "faults_done_per_s": faults["done_per_s"], "faults_p50_ms": faults["p50_ms"], "faults_p99_ms": faults["p99_ms"],
        "faults_jobs_per_event": faults["jobs_enqueued_per_event"],
        "faults_jobs_performed_per_event": faults["jobs_performed_per_event"],
        "lost": clean["lost"] + faults["lost"], "gave_up": clean["gave_up"] + faults["gave_up"],
        "not_done": clean["not_done"] + faults["not_done"],
        "not_done_by_status": dict(clean["not_done_by_status"] + faults["not_done_by_status"]),
        "emails": effects["emails"], "emails_twice": effects["emails_twice"],
        "review_requests_sent": effects["review_requests_sent"],
        "discount_codes": effects["discount_codes"], "discount_codes_twice": effects["discount_codes_twice"],
        "restarts": dict(supervisor.restarts),
    }, at_most={"jobs_per_event": 1.0, "lost": 0, "gave_up": 0, "emails_twice": 0, "discount_codes_twice": 0})


if __name__ == "__main__":
    main()
