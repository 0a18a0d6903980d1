"""Benchmarks of issue 16 (drills and training).

1. ``rehearse_restore`` on N demo orders: backups of every scope, then the rehearsal (each scope
   restored through the backups app into a scratch database in foreign-key order, verified, the
   database dropped); its total RTO is compared with the sum of the backups' own restore times
   (the engine's ``restore_file`` of the same files, in the same order, into an empty database).
2. The training readiness matrix for 2,000 staff × 20 courses: ``readiness_matrix()`` and the
   matrix page (test Client, first page of 100 people), time and queries.

Run it on private servers (it creates its own databases there and drops them afterwards)::

    .venv/bin/python scripts/testservers.py run -- .venv/bin/python bench/drills_bench.py \\
        --orders 200000 --write-readme
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _db_url(base: str, name: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def _recreate(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = _db_url(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = _db_url(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup(tmp: Path) -> dict[str, str]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("run through scripts/testservers.py (or set DATABASE_URL to a PostgreSQL server)")
    urls = {
        "site": _db_url(base, "bench_drills_site"),
        "orders": _db_url(base, "bench_drills_orders"),
        "scratch": _db_url(base, "bench_drills_orders_rehearsal"),
        "plain": _db_url(base, "bench_drills_orders_from_backup_00000000"),
    }
    for key in ("site", "orders"):
        _recreate(urls[key])
    os.environ.update(
        DATABASE_URL=urls["site"],
        ORDER_SYSTEM_DATABASE_URL=urls["orders"],
        BACKUP_SCRATCH_TARGETS=f'{{"rehearsal": "{urls["scratch"]}"}}',
        BACKUP_LOCAL_DIR=str(tmp / "local"),
        BACKUP_REMOTE_DIR=str(tmp / "remote"),
        BACKUP_REMOTE_OPTIONS=f'{{"location": "{tmp / "remote"}"}}',
        BACKUP_MASTER_KEYS=f"bench:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        BACKUP_KEY_FILE="",
        ORDER_SYSTEM_LOG_DIR=str(tmp / "logs"),
        JOB_RUNNER="sync",
        DJANGO_SETTINGS_MODULE="recovery_site.settings",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return urls


def _checkpoint(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def bench_rehearsal(
    urls: dict[str, str], orders: int, rehearsal_rounds: int = 2
) -> dict[str, object]:
    from django.test import override_settings

    from apps.backups import demo_order_system, engine
    from apps.backups import services as backups
    from apps.backups.models import BackupScope
    from apps.drills import services

    t0 = time.monotonic()
    demo_order_system.seed_postgres(urls["orders"], orders=orders)
    demo_order_system.write_logs(os.environ["ORDER_SYSTEM_LOG_DIR"], days=3, lines=2000)
    seeded = time.monotonic() - t0
    scopes = list(BackupScope.objects.order_by("position"))
    runs = {}
    for scope in scopes:
        run = backups.start_backup(scope=scope)
        run.refresh_from_db()
        assert run.state == "complete", run.error
        runs[scope.slug] = run
    # The backups' own restore times: the engine alone, same files, same (foreign-key) order.
    ordered = services.restore_order(runs, scopes)
    _recreate(urls["plain"])
    plain = {}
    try:
        for scope in ordered:
            report = engine.restore_file(
                backups.verified_file_for(runs[scope.slug]),
                target_url=urls["plain"],
                keyring=backups.get_keyring(),
                restore_logs_to=tempfile.mkdtemp() if scope.is_logs else None,
            )
            plain[scope.slug] = report.duration_seconds
    finally:
        _drop(urls["plain"])
    # The backups app's own restore of the same backups (restore + its checks, a RestoreRun each)
    # and the rehearsal, alternating which goes first, each after a CHECKPOINT: the WAL that
    # one 1M-order restore leaves would otherwise be flushed during whichever runs next.
    app: dict[str, float] = {}
    rehearsals = []
    rounds = []
    # Both run the way production runs them. JOB_RUNNER=sync (set above so the backups finish
    # before we go on) runs an in_caller job INSIDE the transaction that queues it: the whole
    # rehearsal then sat in start_rehearsal's transaction (scope rows locked, one xid open on the
    # site database) while each app restore had only its own short one. rq and thread, the runners
    # deployed, run an in_caller job in the caller after the commit, so both paths run alike.
    with override_settings(JOB_RUNNER="thread"):
        for n in range(rehearsal_rounds):
            phases = ["app", "rehearsal"] if n % 2 == 0 else ["rehearsal", "app"]
            for phase in phases:
                _checkpoint(urls["orders"])
                if phase == "app":
                    _recreate(urls["plain"])
                    this = {}
                    try:
                        for scope in ordered:
                            t0 = time.monotonic()
                            restore = backups.start_restore(
                                scopes=[scope],
                                target_url=urls["plain"],
                                backups={scope.slug: runs[scope.slug]},
                            )
                            this[scope.slug] = time.monotonic() - t0
                            restore.refresh_from_db()
                            assert restore.state == "complete", restore.error
                    finally:
                        _drop(urls["plain"])
                    app_total = sum(this.values())
                else:
                    rehearsal = services.start_rehearsal(
                        by=None, target="rehearsal", in_caller=True
                    )
                    assert rehearsal.state == "passed", rehearsal.error
                    rehearsals.append(rehearsal)
            rounds.append(
                {"first": phases[0], "app": app_total, "rehearsal": rehearsal.rto_seconds}
            )
            app = app or this
    rehearsal = rehearsals[0]
    per_scope = {r["scope"]: r for r in rehearsal.scopes}
    return {
        "seeded": seeded,
        "order": [s.slug for s in ordered],
        "plain": plain,
        "app": app,
        "per_scope": per_scope,
        "rto": rehearsal.rto_seconds,
        "rpo": rehearsal.rpo_seconds,
        "dropped": rehearsal.scratch_dropped,
        "rounds": rounds,
    }


def bench_matrix(people: int, courses: int, runs: int) -> dict[str, object]:
    from datetime import timedelta

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.accounts.roles import Role
    from apps.drills.models import Certificate, Course
    from apps.drills.selectors import readiness_matrix

    roles = [Role.TECH_SUPPORT, Role.BUSINESS_SUPPORT, Role.LOGISTICS, Role.WAREHOUSE_CLERK]
    Course.objects.update(is_active=False)
    made = Course.objects.bulk_create(
        Course(
            code=f"bench-{n}",
            title_zh=f"课程 {n}",
            title_en=f"Course {n}",
            required_for=[r.value for r in roles],  # every course required of every person
        )
        for n in range(courses)
    )
    users = User.objects.bulk_create(
        User(username=f"bench{n:05d}", first_name="Staff", last_name=str(n)) for n in range(people)
    )
    groups = {r: Group.objects.get(name=r.value) for r in roles}
    through = User.groups.through
    through.objects.bulk_create(
        through(user_id=u.pk, group_id=groups[roles[n % len(roles)]].pk)
        for n, u in enumerate(users)
    )
    today = timezone.localdate()
    offsets = [200, 20, -5]  # current, expiring, expired; every 4th cell missing
    Certificate.objects.bulk_create(
        Certificate(
            user_id=u.pk,
            course_id=c.pk,
            issued_on=today - timedelta(days=100),
            expires_on=today + timedelta(days=offsets[(i + j) % 3]),
        )
        for i, u in enumerate(users)
        for j, c in enumerate(made)
        if (i + j) % 4
    )
    build, page, queries, build_cpu, page_cpu = [], [], [], [], []
    manager = User.objects.create(username="bench-manager")
    manager.groups.add(Group.objects.get(name=Role.MANAGER.value))
    client = Client()
    client.force_login(manager)
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as q:
            matrix = readiness_matrix()
        build.append(time.perf_counter() - t0)
        build_cpu.append(time.process_time() - c0)
        queries.append(len(q))
        t0, c0 = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as q:
            response = client.get("/drills/training/matrix/")
        page.append(time.perf_counter() - t0)
        page_cpu.append(time.process_time() - c0)
        page_queries = len(q)
        assert response.status_code == 200
    assert len(matrix.rows) == people and len(matrix.courses) == courses
    return {
        "cells": people * courses,
        "totals": matrix.totals,
        "build_ms": statistics.median(build) * 1000,
        "page_ms": statistics.median(page) * 1000,
        "queries": max(queries),
        "page_queries": page_queries,
        "build_cpu_ms": statistics.median(build_cpu) * 1000,
        "page_cpu_ms": statistics.median(page_cpu) * 1000,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-rehearsal", action="store_true")
    parser.add_argument("--rehearsal-rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        urls = setup(Path(tmp))
        try:
            if not args.skip_rehearsal:
                r = bench_rehearsal(urls, args.orders, args.rehearsal_rounds)
                print(f"seeded {args.orders} orders in {r['seeded']:.1f} s; order {r['order']}")
                total_plain = sum(r["plain"].values())
                total_app = sum(r["app"].values())
                for slug in r["order"]:
                    s = r["per_scope"][slug]
                    print(
                        f"{slug}: rehearsal RTO {s['rto_seconds']:.2f} s (backups app restore "
                        f"{r['app'][slug]:.2f} s, engine alone {r['plain'][slug]:.2f} s), "
                        f"RPO {s['rpo_seconds']:.0f} s"
                    )
                print(
                    f"TOTAL rehearsal RTO {r['rto']:.2f} s vs backups app restores "
                    f"{total_app:.2f} s = {r['rto'] / total_app:.2f}x, vs engine alone "
                    f"{total_plain:.2f} s = {r['rto'] / total_plain:.2f}x; RPO {r['rpo']:.0f} s; "
                    f"scratch dropped {r['dropped']}"
                )
                for n, rnd in enumerate(r["rounds"], start=1):
                    print(
                        f"round {n} ({rnd['first']} first): rehearsal RTO {rnd['rehearsal']:.2f} s"
                        f" vs backups app restores {rnd['app']:.2f} s"
                        f" = {rnd['rehearsal'] / rnd['app']:.2f}x"
                    )
                ratios = [rnd["rehearsal"] / rnd["app"] for rnd in r["rounds"]]
                print(
                    f"median ratio over {len(ratios)} rounds: {statistics.median(ratios):.2f}x;"
                    f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
                )
            m = bench_matrix(args.people, args.courses, args.runs)
            print(
                f"matrix {args.people} x {args.courses} ({m['cells']} cells, {m['totals']}): "
                f"build {m['build_ms']:.0f} ms wall / {m['build_cpu_ms']:.0f} ms CPU, "
                f"page {m['page_ms']:.0f} ms wall / {m['page_cpu_ms']:.0f} ms CPU "
                f"(median of {args.runs}), {m['queries']} queries (page: {m['page_queries']}); "
                f"load average {m['load']:.1f} on {os.cpu_count()} CPUs"
            )
        finally:
            from django.db import connections

            connections.close_all()
            _drop(urls["site"])
            _drop(urls["orders"])


if __name__ == "__main__":
    main()
