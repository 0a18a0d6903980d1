"""Benchmark the change journal: recovery point under load, its memory, and point-in-time restore.

Run it on a PostgreSQL with ``wal_level=logical``, e.g. the private cluster of the tests::

    .venv/bin/python scripts/testservers.py run -- \\
        .venv/bin/python bench/journal_bench.py --orders 200000 --rate 200 --seconds 120

It migrates recovery_site's database (``DATABASE_URL``), fills the order system
(``ORDER_SYSTEM_DATABASE_URL``) with orders / order_items / payments, starts the real
``manage.py run_journal`` process, writes ``--rate`` orders a second (each one transaction: an
order, three items, a payment) for ``--seconds``, takes a full backup of orders + transactions
while the writes go on, then measures:

* the recovery point of every journaled transaction: from its commit time (as PostgreSQL
  decoded it) to the moment its segment was durable and recorded (``JournalSegment.created_at``);
* the journal process's peak RSS (``VmHWM``);
* a full restore of the backups alone, and a point-in-time restore to ``--pitr-after`` seconds
  after the backup, each into an empty database, ``--repeat`` times alternating (medians; wall
  and this process's CPU, where the restore runs).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from backup_bench import DATA, SCHEMA  # noqa: E402

WRITE = """
WITH o AS (
  INSERT INTO orders (customer_id, status, total) VALUES (%(c)s, 'paid', 42.50) RETURNING id
), i AS (
  INSERT INTO order_items (order_id, product_id, qty, unit_price, line_total)
  SELECT o.id, p, 1, 14.17, 14.17 FROM o, (VALUES (1), (2), (3)) v(p)
)
INSERT INTO payments (order_id, amount, method, paid_at) SELECT o.id, 42.50, 'card', now() FROM o
"""


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=200_000)
    ap.add_argument("--rate", type=int, default=200, help="order transactions per second")
    ap.add_argument("--seconds", type=int, default=120, help="how long the writes go on")
    ap.add_argument("--backup-at", type=int, default=15, help="seconds into the writes")
    ap.add_argument("--pitr-after", type=int, default=60, help="seconds after the backup")
    ap.add_argument(
        "--scopes",
        default="orders,transactions",
        help="scopes to back up, then restore (full and point in time), comma-separated",
    )
    ap.add_argument(
        "--profile", help="write a CPU-time cProfile of the first point-in-time restore here"
    )
    ap.add_argument(
        "--repeat", type=int, default=3, help="restores of each kind, alternating (medians)"
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="journal_bench_"))
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="recovery_site.settings",
        BACKUP_LOCAL_DIR=str(tmp / "local"),
        BACKUP_REMOTE_DIR=str(tmp / "remote"),
        BACKUP_REMOTE_OPTIONS=json.dumps({"location": str(tmp / "remote")}),
        BACKUP_MASTER_KEYS=f"bench:{key}",
        BACKUP_KEY_FILE="",
        JOB_RUNNER="sync",
        JOURNAL_SLOT_NAME="bench_journal",
        BACKUP_NAME_STYLE="ascii",
    )
    (tmp / "local").mkdir()
    (tmp / "remote").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True
    )

    import django

    django.setup()
    import psycopg
    from django.conf import settings
    from django.utils import timezone

    from apps.backups import services
    from apps.backups.journal.pitr import start_point_in_time_restore
    from apps.backups.models import BackupScope, JournalSegment, JournalState, RestoreRun

    order_url = settings.ORDER_SYSTEM_DATABASE_URL
    with psycopg.connect(order_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = 'bench_journal'"
        )
        conn.execute("DROP TABLE IF EXISTS customers, products CASCADE")
        t0 = time.perf_counter()
        conn.execute(SCHEMA)
        conn.execute("DROP TABLE IF EXISTS journal_bench_mark")
        conn.execute("CREATE TABLE journal_bench_mark (at timestamptz PRIMARY KEY)")
        conn.execute(DATA.format(n=args.orders))
        conn.execute("VACUUM ANALYZE")
        print(f"seeded {args.orders} orders in {time.perf_counter() - t0:.1f} s", flush=True)
    JournalState.objects.all().delete()
    JournalSegment.objects.all().delete()

    journal = subprocess.Popen(
        [sys.executable, "manage.py", "run_journal"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not JournalState.objects.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the journal did not start")
        time.sleep(0.2)

    stop = threading.Event()
    written = [0]

    def writer(share: float) -> None:
        with psycopg.connect(order_url, autocommit=True) as conn:
            interval = 1.0 / (args.rate * share)
            next_at = time.monotonic()
            n = 0
            while not stop.is_set():
                conn.execute(WRITE, {"c": n % 50000})
                n += 1
                written[0] += 1
                next_at += interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    threads = [threading.Thread(target=writer, args=(0.5,)) for _ in range(2)]
    start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(args.backup_at)
    scopes = [BackupScope.objects.get(slug=s) for s in args.scopes.split(",")]
    t0 = time.perf_counter()
    # As the scheduler does: the scopes in one job that reads one moment of the order system,
    # so the full restore of them together is the baseline (the same tables, keys and checks).
    backups = services.start_backups([(s, services.default_kind(s)) for s in scopes])
    backup_seconds = time.perf_counter() - t0
    for b in backups:
        b.refresh_from_db()
        assert b.state == "complete", b.error
    backup_done = max(b.finished_at for b in backups)
    print(f"backup under load: {backup_seconds:.1f} s", flush=True)
    remaining = args.seconds - (time.monotonic() - start)
    if remaining > 0:
        time.sleep(remaining)
    stop.set()
    for t in threads:
        t.join()
    achieved_rate = written[0] / (time.monotonic() - start)
    # Let the journal catch up with the last commits, then read its peak memory. The slot only
    # ever confirms up to a commit decoded in its own database (WAL of other databases, such
    # as recovery_site's own writes, can leave the server's insert position ahead of it for
    # good): so commit a mark after the position waited for, in a table nobody journals.
    with psycopg.connect(order_url, autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        conn.execute("INSERT INTO journal_bench_mark VALUES (now())")
        while not conn.execute(
            "SELECT confirmed_flush_lsn >= %s::pg_lsn FROM pg_replication_slots"
            " WHERE slot_name = 'bench_journal'",
            (target,),
        ).fetchone()[0]:
            time.sleep(0.2)
    status = Path(f"/proc/{journal.pid}/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    journal.terminate()
    journal.wait(timeout=30)

    from apps.backups import engine

    keyring = services.get_keyring()
    lags = []
    segments = list(JournalSegment.objects.order_by("end_lsn"))
    for seg in segments:
        _m, txns = engine.read_segment(seg.local_path, keyring)
        lags += [(seg.created_at - t.commit_time).total_seconds() for t in txns]
    journal_bytes = sum(s.size for s in segments)

    def scratch(name: str) -> str:
        with psycopg.connect(admin_url(order_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return with_db(order_url, name)

    # Restores of the chosen scopes into empty databases, alternating full and point in time,
    # each timed in wall and this process's CPU (the restore runs here: a target URL is given).
    until = backup_done + timezone.timedelta(seconds=args.pitr_after)
    full_runs: list[tuple[float, float]] = []
    pitr_runs: list[tuple[float, float]] = []
    pit: dict = {}
    full_mode = "together"
    pitr_error = ""
    n = 0
    while len(pitr_runs) < args.repeat:
        # The scopes' backups come from different moments under load, so restored together
        # the newer payments may reference orders the older orders backup lacks: the full
        # restore then fails its foreign-key check (only the journal can fill that gap). The
        # time then is that of each scope restored alone into its own empty database, summed.
        wall = cpu = 0.0
        groups = [scopes] if full_mode == "together" else [[s] for s in scopes]
        for i, group in enumerate(groups):
            full_url = scratch(f"bench_restore_full{i}")
            c0, t0 = time.process_time(), time.perf_counter()
            restore = services.start_restore(scopes=group, target_url=full_url)
            wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
            full = RestoreRun.objects.get(pk=restore.pk)
            if full.state != "complete" and full_mode == "together" and len(scopes) > 1:
                full_mode = "each scope alone (together: foreign-key check failed)"
                print(f"full restore together failed: {full.error}", flush=True)
                break
            assert full.state == "complete", full.error or (full.job and full.job.error)
        else:
            full_runs.append((wall, cpu))
        if len(full_runs) <= n:
            continue  # retried per scope in the next round

        pitr_url = scratch("bench_restore_pitr")
        c0, t0 = time.process_time(), time.perf_counter()
        profiler = cProfile.Profile(time.process_time) if args.profile and not pitr_runs else None
        if profiler is not None:
            profiler.enable()
        restore = start_point_in_time_restore(scopes=scopes, until=until, target_url=pitr_url)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        pitr_runs.append((time.perf_counter() - t0, time.process_time() - c0))
        restore = RestoreRun.objects.get(pk=restore.pk)
        if restore.state != "complete":
            pitr_error = restore.error or (restore.job and restore.job.error) or "?"
            print(f"point-in-time restore failed: {pitr_error}", flush=True)
            break
        pit = restore.report["point_in_time"]
        print(
            f"restore {n + 1}: full {full_runs[-1][0]:.2f} s (cpu {full_runs[-1][1]:.2f}),"
            f" pitr {pitr_runs[-1][0]:.2f} s (cpu {pitr_runs[-1][1]:.2f})",
            flush=True,
        )
        n += 1
    full_seconds = statistics.median(w for w, _ in full_runs) if full_runs else float("nan")
    pitr_seconds = statistics.median(w for w, _ in pitr_runs) if pitr_runs else float("nan")

    result = {
        "orders": args.orders,
        "rate_asked": args.rate,
        "rate_achieved": round(achieved_rate, 1),
        "seconds": args.seconds,
        "transactions_journaled": len(lags),
        "segments": len(segments),
        "journal_bytes": journal_bytes,
        "recovery_point_p50_s": round(statistics.median(lags), 3),
        "recovery_point_p99_s": round(pct(lags, 0.99), 3),
        "recovery_point_max_s": round(max(lags), 3),
        "journal_peak_rss_mib": round(peak_kb / 1024, 1),
        "backup_under_load_s": round(backup_seconds, 2),
        "scopes": args.scopes,
        "full_restore_s": round(full_seconds, 2),
        "pitr_s": round(pitr_seconds, 2),
        "pitr_ratio": round(pitr_seconds / full_seconds, 2),
        "full_restore_mode": full_mode,
        "full_runs_wall_cpu": [[round(w, 2), round(c, 2)] for w, c in full_runs],
        "pitr_runs_wall_cpu": [[round(w, 2), round(c, 2)] for w, c in pitr_runs],
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "pitr_error": pitr_error,
        "pitr_transactions_replayed": pit.get("transactions"),
        "pitr_loaded_with_table": pit.get("loaded_with_table"),
        "pitr_after_s": args.pitr_after,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
