"""Benchmark of the stock counts (issue #6) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_inventory \
        .venv/bin/python bench/inventory_bench.py [--lines 100000] [--write-readme]

Creates the scratch database if needed and migrates it, generates a warehouse with 100,000
products each with an approved stock line, then measures:
  * import of a 100,000-line CSV count sheet: the check (dry run) and the import, median of 3;
  * the variance report page for 100,000 lines through Django's test Client, median of 5;
  * one scanned entry (POST) through the test Client, p95 of 200 sequential entries.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_inventory")
os.environ["JOB_RUNNER"] = "sync"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.accounts.roles import Role, sync_role_groups
    from apps.catalog.models import Location, Product, Warehouse
    from apps.inventory_counts import services
    from apps.inventory_counts.models import ApprovedStock, CountSession

    n = args.lines
    sync_role_groups()
    from django.contrib.auth.models import Group

    def user(name, role):
        u, _ = User.objects.get_or_create(username=name)
        u.groups.set([Group.objects.get(name=role.value)])
        return u

    manager = user("bench.manager", Role.MANAGER)
    clerk = user("bench.clerk", Role.WAREHOUSE_CLERK)

    print(f"generating {n} products and approved stock lines…", flush=True)
    t0 = time.perf_counter()
    warehouse, created = Warehouse.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    if created or Product.objects.filter(sku__startswith="B-").count() < n:
        with connection.cursor() as cur:  # a clean slate for the bench's own tables
            for model in ("approvedstock", "countentry", "countline", "countsheetimport"):
                cur.execute(f"TRUNCATE inventory_counts_{model} CASCADE")
        CountSession.objects.all().delete()
        Product.objects.filter(sku__startswith="B-").delete()
        Location.objects.filter(warehouse=warehouse).delete()
        locations = Location.objects.bulk_create(
            Location(warehouse=warehouse, code=f"L-{i:05d}", barcode=f"LB{i:05d}")
            for i in range(max(1, n // 50))
        )
        products = Product.objects.bulk_create(
            (
                Product(
                    sku=f"B-{i:06d}",
                    barcode=f"69{i:011d}",
                    name=f"Bench product {i}",
                    category=f"cat{i % 20}",
                    unit_cost=Decimal(i % 97 + 1),
                )
                for i in range(n)
            ),
            batch_size=10_000,
        )
        base = CountSession.objects.create(
            name="bench baseline", warehouse=warehouse, created_by=manager, state="approved"
        )
        now = timezone.now()
        ApprovedStock.objects.bulk_create(
            (
                ApprovedStock(
                    warehouse=warehouse,
                    location=locations[i % len(locations)],
                    product=p,
                    quantity=Decimal(100 + i % 50),
                    session=base,
                    approved_at=now,
                    approved_by=manager,
                )
                for i, p in enumerate(products)
            ),
            batch_size=10_000,
        )
    print(f"  data ready in {time.perf_counter() - t0:.1f} s", flush=True)
    stock = list(
        ApprovedStock.objects.filter(warehouse=warehouse, is_current=True).values_list(
            "location__code", "product__sku", "quantity"
        )
    )
    rnd = random.Random(6)
    csv_text = "location,sku,quantity\n" + "".join(
        f"{loc},{sku},{qty + rnd.choice((0, 0, 0, -1, 1, -7))}\n" for loc, sku, qty in stock
    )
    content = csv_text.encode()

    results: dict[str, object] = {"lines": len(stock)}
    starts, checks, imports = [], [], []
    session = None
    for run in range(3):
        session = services.create_session(
            name=f"bench {run}", warehouse=warehouse, by=manager, clerks=[clerk]
        )
        t = time.perf_counter()
        session = services.start_session(session=session, by=manager)
        starts.append(time.perf_counter() - t)
        t = time.perf_counter()
        sheet = services.upload_count_sheet(
            session=session, content=content, file_name="bench.csv", input_format="csv", by=manager
        )
        checks.append(time.perf_counter() - t)
        assert sheet.state == "valid", sheet.errors[:3]
        t = time.perf_counter()
        services.confirm_count_sheet(sheet=sheet, by=manager)
        imports.append(time.perf_counter() - t)
        sheet.refresh_from_db()
        assert sheet.state == "imported", sheet.errors[:3]
        print(
            f"  run {run + 1}: start {starts[-1]:.2f} s, check {checks[-1]:.2f} s, "
            f"import {imports[-1]:.2f} s",
            flush=True,
        )
    results["start_s"] = statistics.median(starts)
    results["check_s"] = statistics.median(checks)
    results["import_s"] = statistics.median(imports)
    results["check_and_import_s"] = statistics.median(
        c + i for c, i in zip(checks, imports, strict=True)
    )

    client = Client()
    client.force_login(manager)
    url = reverse("inventory_counts:variance-report", args=[session.pk])
    renders = []
    for _ in range(5):
        t = time.perf_counter()
        response = client.get(url)
        renders.append(time.perf_counter() - t)
        assert response.status_code == 200
    results["report_s"] = statistics.median(renders)
    t = time.perf_counter()
    response = client.get(reverse("inventory_counts:variance-export", args=[session.pk]))
    results["report_csv_export_s"] = time.perf_counter() - t

    # Scanned entries on a fresh session of the same size (lines frozen from the stock).
    scan_session = services.create_session(
        name="bench scans", warehouse=warehouse, by=manager, clerks=[clerk]
    )
    services.start_session(session=scan_session, by=manager)
    ids = list(
        scan_session.lines.values_list("location_id", "product_id").order_by("?")[: args.entries]
    )
    clerk_client = Client()
    clerk_client.force_login(clerk)
    record = reverse("inventory_counts:count-record", args=[scan_session.pk])
    clerk_client.post(record, {"location": ids[0][0], "product": ids[0][1], "quantity": "1"})
    timings = []
    for loc, prod in ids:
        t = time.perf_counter()
        response = clerk_client.post(record, {"location": loc, "product": prod, "quantity": "3"})
        timings.append(time.perf_counter() - t)
        assert response.status_code in (201, 409), response.content
    timings.sort()
    results["entry_p50_ms"] = timings[len(timings) // 2] * 1000
    results["entry_p95_ms"] = timings[int(len(timings) * 0.95) - 1] * 1000

    print()
    for key, value in results.items():
        print(f"{key:>22}: {value:.3f}" if isinstance(value, float) else f"{key:>22}: {value}")
    if args.write_readme:
        write_readme(results)


def write_readme(r: dict) -> None:
    import platform

    path = ROOT / "bench" / "README.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = "<!-- inventory:start -->", "<!-- inventory:end -->"
    cpu = os.cpu_count()
    section = f"""{start}
## Stock counts (`bench/inventory_bench.py`)

`DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_inventory .venv/bin/python bench/inventory_bench.py --write-readme`
(PostgreSQL on 127.0.0.1, {cpu} CPUs, Python {platform.python_version()}; the script creates
and migrates the scratch database, and generates {r["lines"]:,} products each with an approved
stock line spread over {max(1, r["lines"] // 50):,} locations).

| measure | target | result |
|---|---|---|
| import of a {r["lines"]:,}-line CSV count sheet: check (dry run, every row validated) | — | {r["check_s"]:.2f} s (median of 3) |
| … then the import itself (validated again, written with PostgreSQL `COPY`, totals in one `UPDATE`, one transaction) | — | {r["import_s"]:.2f} s (median of 3) |
| **check + import** | < 20 s | **{r["check_and_import_s"]:.2f} s** |
| starting a session (freezing {r["lines"]:,} expected quantities) | — | {r["start_s"]:.2f} s |
| variance report page for {r["lines"]:,} lines (summary over all, 100 lines a page), test Client | < 1 s | **{r["report_s"] * 1000:.0f} ms** (median of 5) |
| variance report CSV export, all lines | — | {r["report_csv_export_s"]:.2f} s |
| one scanned entry (POST, JSON answer), test Client, 200 sequential | < 100 ms p95 | **p95 {r["entry_p95_ms"]:.1f} ms** (p50 {r["entry_p50_ms"]:.1f} ms) |
{end}"""
    if start in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
