"""Uploads within and beyond the limits (issue 12 §4): peak memory and time of each check.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_uploads \
        .venv/bin/python bench/upload_bench.py [--write-readme]

Creates and migrates the scratch database, a warehouse with 200 bins and 500 products and a
counting session, then runs each check the way a worker does (the job's service) in a fresh
process and reads that process's peak RSS with ``getrusage(RUSAGE_CHILDREN)``
(``tests/peak_rss.py``). Limits are the settings' defaults.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_uploads")
os.environ["JOB_RUNNER"] = "sync"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DEFAULT_LANGUAGE", "en")


NOTE = "The reference check (django-import-export `ModelResource`) keeps ~1.2 KB a row in its results (85 MiB at 10,000 rows, ~200 MiB extrapolated at the 100,000-row limit) and queries the database for every row: 8–16 ms a row on this shared machine, so a 100,000-row file takes 13–27 minutes — on a worker, with progress. A set-based reference import (as the count sheets have) is the fix if such files become common."


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def products_csv(rows: int) -> bytes:
    lines = ["sku,name,price,unit,active"]
    lines += [f"B-{n:07d},Tea {n},{n % 500}.50,box,1" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from apps.accounts.models import User
    from apps.accounts.roles import Role, sync_role_groups
    from apps.catalog.models import Location, Product, Warehouse
    from apps.inventory_counts import services
    from apps.inventory_counts.models import CountSheetImport
    from apps.manual_orders.models import ReferenceImport
    from tests.hostile_files import count_sheet_csv, large_products_csv, zip_bomb_xlsx
    from tests.peak_rss import measure

    sync_role_groups()
    from django.contrib.auth.models import Group

    def user(name, role):
        u, _ = User.objects.get_or_create(username=name, defaults={"language": "en"})
        u.groups.set([Group.objects.get(name=role.value)])
        return u

    manager, clerk = user("bench_manager", Role.MANAGER), user("bench_clerk", Role.WAREHOUSE_CLERK)
    warehouse, _ = Warehouse.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    for i in range(200):
        Location.objects.get_or_create(warehouse=warehouse, code=f"M-{i:03d}")
    for i in range(500):
        Product.objects.get_or_create(sku=f"M-SKU-{i:04d}", defaults={"name": f"Item {i}"})
    session = services.create_session(
        name="bench uploads", warehouse=warehouse, by=manager, clerks=[clerk]
    )
    session = services.start_session(session=session, by=manager)
    locations = [f"M-{i:03d}" for i in range(200)]
    skus = [f"M-SKU-{i:04d}" for i in range(500)]
    rows, cells = settings.UPLOAD_MAX_ROWS, settings.UPLOAD_MAX_CELLS

    def sheet(content: bytes, fmt: str) -> dict:
        s = CountSheetImport.objects.create(
            session=session,
            content=content,
            original_name=f"bench.{fmt}",
            input_format=fmt,
            created_by=manager,
        )
        return {"func": "apps.inventory_counts.services.check_count_sheet", "sheet_id": s.pk}

    def reference(content: bytes, kind: str = "products") -> dict:
        r = ReferenceImport.objects.create(
            kind=kind,
            content=content,
            original_name="bench.csv",
            input_format="csv",
            created_by=manager,
        )
        return {"func": "apps.manual_orders.services.check_reference", "import_id": r.pk}

    limit_mb = settings.UPLOAD_MAX_UNCOMPRESSED_BYTES // 2**20

    def at_limits() -> bytes:
        width = cells // rows
        content = count_sheet_csv(rows, locations=locations, skus=skus, extra_columns=width - 3)
        room = settings.UPLOAD_MAX_UNCOMPRESSED_BYTES - len(content) - 2**20
        return content.replace(b",n", b"," + b"n" * (room // (rows * (width - 3))))

    cases = [
        (
            "zip-bomb count sheet .xlsx, 1.1 MB → 330 MB of XML (3,000,000 rows)",
            lambda: sheet(zip_bomb_xlsx(3_000_000), "xlsx"),
        ),
        (
            "count sheet .xlsx of 170,000 rows, 0.1 MB → 19 MB of XML",
            lambda: sheet(zip_bomb_xlsx(170_000), "xlsx"),
        ),
        (
            "products reference CSV, 21 MB (~950,000 rows)",
            lambda: reference(large_products_csv(21)),
        ),
        (
            "products reference CSV, 19 MB (~860,000 rows)",
            lambda: reference(large_products_csv(19)),
        ),
        (
            f"count sheet CSV at the limits: {rows:,} rows × {cells // rows} columns, "
            f"{limit_mb - 1} MB",
            lambda: sheet(at_limits(), "csv"),
        ),
        (
            # One query or more per row (import-export's ModelResource): 100,000 rows take
            # half an hour on a busy 2-core machine, so a tenth of the limit is measured.
            f"products reference CSV: {rows // 10:,} rows × 5 columns (valid)",
            lambda: reference(products_csv(rows // 10)),
        ),
    ]
    results = []
    for label, make in cases:
        kwargs = make()
        func = kwargs.pop("func")
        started = time.perf_counter()
        report = measure(func, env=dict(os.environ), timeout=1800, **kwargs)
        elapsed = time.perf_counter() - started
        outcome = report["error"] or report["result"]
        if func.endswith("check_count_sheet"):
            s = CountSheetImport.objects.get(pk=kwargs["sheet_id"])
            outcome = s.errors[0]["errors"][0] if s.errors else f"{s.state}, {s.total_rows} rows"
        else:
            r = ReferenceImport.objects.get(pk=kwargs["import_id"])
            outcome = (
                r.errors[0]["error"] if r.state == "failed" else f"{r.state}, {r.total_rows} rows"
            )
        results.append((label, report["peak_mib"], elapsed, outcome))
        print(
            f"{label}: peak {report['peak_mib']:.0f} MiB, {elapsed:.1f} s — {outcome}", flush=True
        )

    table = [
        "| file | worker peak RSS | time | outcome |",
        "|---|---|---|---|",
        *[
            f"| {label} | **{peak:.0f} MiB** | {elapsed:.1f} s | {outcome} |"
            for label, peak, elapsed, outcome in results
        ],
    ]
    if args.write_readme:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        section = "\n".join(
            [
                "<!-- uploads:start -->",
                "## Uploads (`bench/upload_bench.py`)",
                "",
                "`DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_uploads "
                ".venv/bin/python bench/upload_bench.py --write-readme` (2 CPUs, PostgreSQL on "
                "127.0.0.1; each check runs as the worker runs it, in a fresh process whose peak RSS "
                "is read with `getrusage(RUSAGE_CHILDREN)`; a bare Django process is ~73 MiB). "
                f"Limits: the defaults, {rows:,} rows, {settings.UPLOAD_MAX_COLUMNS} columns, "
                f"{cells:,} cells, {settings.UPLOAD_MAX_UNCOMPRESSED_BYTES // 2**20} MB unpacked. "
                "Target: under 256 MiB for any file.",
                "",
                *table,
                "",
                NOTE,
                "<!-- uploads:end -->",
            ]
        )
        if "<!-- uploads:start -->" in text:
            text = re.sub(
                r"<!-- uploads:start -->.*<!-- uploads:end -->", section, text, flags=re.S
            )
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        readme.write_text(text)


if __name__ == "__main__":
    main()
