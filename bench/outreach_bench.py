"""Benchmark of customer outreach (issue #15).

    .venv/bin/python scripts/testservers.py run -- .venv/bin/python bench/outreach_bench.py \
        [--customers 50000] [--rate 250] [--seconds 15] [--workers 4] [--clients 16]

(``testservers.py run`` gives it a private PostgreSQL and Redis; any ``DATABASE_URL`` and
``REDIS_URL`` work.) Two measures:

1. **Notice**: 50,000 customers (generated with ``bulk_create``) get one SMS notice through the
   file SMS backend (one JSON file per message) at the configured rate; the job's work
   (``deliver_notice``) runs in a fresh child process so its peak RSS is its own
   (``tests/peak_rss.py``). Reports the achieved rate of the send phase against the configured
   one and the peak memory.
2. **Status page**: gunicorn (sync workers, ``DEBUG=0``) serves ``/status/`` from the Redis
   status cache; client processes (Python, threads, a new connection per request as gunicorn's
   sync workers close them) hammer it for a few seconds while two other processes keep the
   database busy (full-table aggregate queries in a loop). Reports requests/s and latency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_customers(n: int) -> int:
    """``n`` customers (Chinese and English), a care lead; returns the lead's id."""
    from django.contrib.auth.models import Group

    from apps.accounts.models import User
    from apps.accounts.roles import Role, sync_role_groups
    from apps.manual_orders.models import Customer

    sync_role_groups()
    lead, _ = User.objects.get_or_create(username="bench.lead", defaults={"language": "en"})
    lead.groups.add(*Group.objects.filter(name=Role.CARE_LEAD.value))
    have = Customer.objects.filter(name__startswith="bench-").count()
    if have < n:
        Customer.objects.bulk_create(
            [
                Customer(
                    name=f"bench-{i}",
                    phone=f"13{i:09d}",
                    language="en" if i % 3 == 0 else "zh-hans",
                    notify_by="sms",
                )
                for i in range(have, n)
            ],
            batch_size=5000,
        )
    return lead.pk


def run_notice(notice_id: int) -> dict:
    """In the measured child: the job's work, timed."""
    from apps.core.jobs import Progress
    from apps.core.models import JobRecord
    from apps.customer_care.services.outreach import deliver_notice

    record = JobRecord.objects.create(kind="bench", title="bench")
    t0 = time.perf_counter()
    result = deliver_notice(notice_id=notice_id, progress=Progress(record.pk))
    result["seconds"] = time.perf_counter() - t0
    return result


def bench_notice(customers: int, rate: float) -> dict:
    from apps.customer_care.models import Notice
    from apps.customer_care.outreach_choices import NoticeState
    from tests.peak_rss import measure

    lead_id = setup_customers(customers)
    notice = Notice.objects.create(
        title="bench",
        audience="all",
        body_zh="{name}，您好：订单系统正在恢复，您的订单会延迟送达。",
        body_en="Dear {name}, our order system is being restored; your order will be late.",
        by_sms=True,
        rate_per_second=rate,
        state=NoticeState.SENDING,
        created_by_id=lead_id,
    )
    sms_dir = tempfile.mkdtemp(prefix="outreach-bench-sms-")
    env = dict(os.environ, SMS_BACKEND="apps.core.sms.FileSmsBackend", SMS_FILE_PATH=sms_dir)
    report = measure("bench.outreach_bench.run_notice", env=env, timeout=3600, notice_id=notice.pk)
    if report["error"]:
        raise SystemExit(report["error"])
    result = report["result"]
    files = sum(1 for _ in Path(sms_dir).iterdir())
    from apps.customer_care.models import NoticeDelivery

    sent_at = list(
        NoticeDelivery.objects.filter(notice=notice, state="sent")
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    span = (sent_at[-1] - sent_at[0]).total_seconds() if len(sent_at) > 1 else 0.0
    return {
        "customers": customers,
        "configured_rate": rate,
        "sent": result["sent"],
        "files": files,
        "job_seconds": round(result["seconds"], 1),
        "send_span_seconds": round(span, 1),
        "achieved_rate": round((len(sent_at) - 1) / span, 1) if span else None,
        "peak_mib": round(report["peak_mib"], 1),
    }


def busy_database(stop_at: float) -> None:
    """Keep PostgreSQL busy: aggregate the customers table over and over."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        while time.time() < stop_at:
            conn.execute(
                "SELECT language, count(*), sum(length(name || phone)) FROM manual_orders_customer"
                " GROUP BY language"
            ).fetchall()


def client_process(port: int, threads: int, stop_at: float, queue) -> None:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(i: int) -> None:
        mine: list[float] = []
        lang = "en" if i % 2 else "zh-CN"
        while time.time() < stop_at:
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/status/", headers={"Accept-Language": lang})
                resp = conn.getresponse()
                resp.read()
                conn.close()
                ok = resp.status == 200
            except OSError:
                ok = False
            if ok:
                mine.append(time.perf_counter() - t0)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, errors[0]))


def _wrk(port: int, seconds: float, connections: int) -> dict:
    """wrk (a C load generator, Debian's package) as the client: a Python client on this
    2-core machine spends more CPU per request than the server and caps what is measured."""
    done = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--latency",
            "-H",
            "Accept-Language: zh-CN,zh;q=0.9",
            f"http://127.0.0.1:{port}/status/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout

    def ms(text: str) -> float:
        value, unit = (
            float(text[:-2] if text.endswith("ms") or text.endswith("us") else text[:-1]),
            (text[-2:] if text[-2:] in ("ms", "us") else text[-1:]),
        )
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    non_2xx = int(lines["Non-2xx"][-1]) if "Non-2xx" in lines else 0
    errors = (
        sum(int(x.rstrip(",")) for x in lines.get("Socket", [])[3::2]) if "Socket" in lines else 0
    )
    return {
        "client": "wrk",
        "requests_per_second": float(lines["Requests/sec:"][1]),
        "median_ms": ms(lines["50%"][1]),
        "p90_ms": ms(lines["90%"][1]),
        "p99_ms": ms(lines["99%"][1]),
        "non_2xx": non_2xx,
        "socket_errors": errors,
        "connections": connections,
    }


def bench_status(
    seconds: float,
    workers: int,
    clients: int,
    client: str = "python",
    busy_n: int = 2,
    target: str = "recovery_site.wsgi:application",
) -> dict:
    port = _free_port()
    env = dict(os.environ, ALLOWED_HOSTS="127.0.0.1", JOB_RUNNER="sync")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            target,
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for lang in ("en", "zh-CN"):  # the first visitor of each language fills the cache
            for _ in range(workers * 2):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/status/", headers={"Accept-Language": lang})
                assert conn.getresponse().status == 200
                conn.close()
        stop_at = time.time() + seconds
        busy = [
            multiprocessing.Process(target=busy_database, args=(stop_at,)) for _ in range(busy_n)
        ]
        if client == "wrk":
            for p in busy:
                p.start()
            try:
                return _wrk(port, seconds, clients) | {
                    "gunicorn_workers": workers,
                    "busy_processes": busy_n,
                    "app": target,
                }
            finally:
                for p in busy:
                    p.join(timeout=60)
        queue: multiprocessing.Queue = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(target=client_process, args=(port, 4, stop_at, queue))
            for _ in range(max(1, clients // 4))
        ]
        t0 = time.time()
        for p in busy + procs:
            p.start()
        latencies: list[float] = []
        errors = 0
        for _ in procs:
            got, errs = queue.get(timeout=seconds + 120)
            latencies.extend(got)
            errors += errs
        for p in busy + procs:
            p.join(timeout=60)
        elapsed = time.time() - t0
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 1),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
        "gunicorn_workers": workers,
        "client_threads": max(1, clients // 4) * 4,
    }


def status_in_process(n: int = 2000) -> dict:
    """The cost of one cached /status/ request in this process (Django's test Client through the
    whole middleware stack, no network): what the code asks of a core."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.get("/status/", HTTP_ACCEPT_LANGUAGE="en")  # fills the cache
    with CaptureQueriesContext(connection) as queries:
        t0 = time.process_time()
        w0 = time.perf_counter()
        for _ in range(n):
            assert client.get("/status/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
        cpu = time.process_time() - t0
        wall = time.perf_counter() - w0
    return {
        "requests": n,
        "cpu_ms_per_request": round(cpu / n * 1000, 3),
        "wall_ms_per_request": round(wall / n * 1000, 3),
        "queries": len(queries),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=250.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--only", choices=["notice", "status"], default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--busy", type=int, default=2, help="processes keeping the database busy meanwhile"
    )
    parser.add_argument(
        "--client", choices=["python", "wrk"], default="wrk" if shutil.which("wrk") else "python"
    )
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
    results = {}
    if args.only in (None, "notice"):
        results["notice"] = bench_notice(args.customers, args.rate)
        print(json.dumps(results["notice"]), flush=True)
    if args.only in (None, "status"):
        setup_customers(args.customers)
        from apps.customer_care.services import outreach

        outreach.clear_status_cache()
        from django.conf import settings

        settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
        results["status_in_process"] = status_in_process()
        print(json.dumps(results["status_in_process"]), flush=True)
        # Side by side: Django's whole request cycle (its cache middleware answering) and the
        # WSGI fast path in front of it (what production serves), alternating.
        for run in range(args.runs):
            for target in (
                "recovery_site.wsgi:django_application",
                "recovery_site.wsgi:application",
            ):
                got = bench_status(
                    args.seconds, args.workers, args.clients, args.client, args.busy, target
                )
                results.setdefault(target, []).append(got)
                print(json.dumps(got | {"run": run + 1}), flush=True)
        for target in ("recovery_site.wsgi:django_application", "recovery_site.wsgi:application"):
            runs = results[target]
            print(
                f"{target}: median of {len(runs)} runs: "
                f"{statistics.median(r['requests_per_second'] for r in runs):.0f} req/s, "
                f"median latency {statistics.median(r['median_ms'] for r in runs):.1f} ms "
                f"({args.busy} processes keeping the database busy; load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
                flush=True,
            )


if __name__ == "__main__":
    main()
