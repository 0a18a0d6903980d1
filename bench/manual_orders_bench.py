"""Benchmark of manual orders (issue #5) on PostgreSQL and gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_manual_orders \
        .venv/bin/python bench/manual_orders_bench.py [--orders 1000000] [--runs 3] [--reuse]

Creates the scratch database if needed and migrates it, generates 100,000 customers, 2,000
priced products and 1,000,000 manual orders (one line each) set-based in SQL
(INSERT ... SELECT generate_series), starts gunicorn with 4 workers on 127.0.0.1 and lets 20
concurrent clients (threads, one keep-alive connection and a signed-in session each) measure:
  * order submission (POST /orders/new/, a new idempotency key each time);
  * the order list (GET /orders/ and a state filter, newest first);
  * search (by order number prefix, by phone prefix, by customer name).
Prints p50/p95 per kind for each run and the median of the runs' p95.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_manual_orders")
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

CLIENTS = 20
PASSWORD = "Bench-password-42"
CUSTOMERS = 100_000
PRODUCTS = 2_000


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def generate(n_orders: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from apps.accounts.models import User
    from apps.accounts.roles import Role, sync_role_groups

    sync_role_groups()
    user, _ = User.objects.get_or_create(username="bench.operator", defaults={"language": "en"})
    user.set_password(PASSWORD)
    user.save()
    user.groups.set([Group.objects.get(name=Role.EMERGENCY_LEAD.value)])
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM manual_orders_manualorder")
        if c.fetchone()[0] >= n_orders:
            print(f"reusing {n_orders:,} orders")
            return
        t0 = time.perf_counter()
        c.execute(
            "TRUNCATE manual_orders_orderline, manual_orders_orderevent, manual_orders_manualorder,"
            " manual_orders_customer, manual_orders_productprice CASCADE"
        )
        c.execute("DELETE FROM catalog_product WHERE sku LIKE 'B-%%'")
        c.execute(
            "INSERT INTO catalog_warehouse (code, name) VALUES ('BW1','Bench east'),"
            "('BW2','Bench south') ON CONFLICT (code) DO NOTHING"
        )
        c.execute(
            f"""INSERT INTO catalog_product (sku, barcode, name, category, unit, unit_cost, active)
            SELECT 'B-' || lpad(i::text, 5, '0'), '', '商品 ' || i, 'bench', 'pcs', 5, true
            FROM generate_series(1, {PRODUCTS}) i"""
        )
        c.execute(
            """INSERT INTO manual_orders_productprice (product_id, price, currency, updated_at)
            SELECT id, 10 + (id % 90), 'CNY', now() FROM catalog_product WHERE sku LIKE 'B-%%'"""
        )
        c.execute(
            f"""INSERT INTO manual_orders_customer (name, phone, email, city, address, other_addresses,
                vip, language, notify_by, created_at)
            SELECT '客户' || i, '139' || lpad(i::text, 8, '0'), 'c' || i || '@example.com', '上海',
                   '上海市人民路 ' || i || ' 号', '', i % 50 = 0, 'zh-hans', 'email', now()
            FROM generate_series(1, {CUSTOMERS}) i"""
        )
        c.execute("SELECT min(id) FROM manual_orders_customer")
        first_customer = c.fetchone()[0]
        c.execute("SELECT min(id) FROM catalog_product WHERE sku LIKE 'B-%%'")
        first_product = c.fetchone()[0]
        c.execute("SELECT id FROM catalog_warehouse WHERE code = 'BW1'")
        warehouse = c.fetchone()[0]
        states = "ARRAY['delivered','delivered','delivered','delivered','dispatched','delivered','cancelled','allocated','confirmed','captured']"
        c.execute(
            f"""INSERT INTO manual_orders_manualorder (id, number, idempotency_key, customer_id, channel,
                order_type, received_at, email_reference, delivery_city, delivery_address, notes, state,
                total, stock_short, warehouse_id, carrier, tracking_number, allocation_overridden,
                created_by_id, created_at, state_changed_at, push_state, push_reason)
            SELECT i, 'M' || to_char(now() - (({n_orders} - i) || ' seconds')::interval, 'YYYYMMDD') || '-' || lpad(i::text, 7, '0'),
                   md5('bench' || i)::uuid, {first_customer} + (i::bigint * 7919) % {CUSTOMERS},
                   (ARRAY['phone','email','other'])[1 + i % 3], 'standard',
                   now() - (({n_orders} - i) || ' seconds')::interval, '', '上海', '上海市人民路 1 号', '',
                   ({states})[1 + i % 10], 20 + i % 200, false,
                   CASE WHEN i % 10 IN (0,1,2,3,4,5,7) THEN {warehouse} END, 'YTO', '', false,
                   {user.pk}, now() - (({n_orders} - i) || ' seconds')::interval, now(),
                   CASE WHEN i % 10 = 6 THEN 'skipped' ELSE 'pending' END, ''
            FROM generate_series(1, {n_orders}) i"""
        )
        c.execute(
            f"""INSERT INTO manual_orders_orderline (order_id, product_id, sku, name, quantity, list_price,
                unit_price, price_override_reason, line_total, holds_stock)
            SELECT o.id, {first_product} + o.id % {PRODUCTS}, 'B-' || lpad((1 + o.id % {PRODUCTS})::text, 5, '0'),
                   '商品', 1, o.total, o.total, '', o.total, o.state IN ('captured','confirmed','allocated')
            FROM manual_orders_manualorder o"""
        )
        c.execute(
            "SELECT setval(pg_get_serial_sequence('manual_orders_manualorder','id'), "
            "(SELECT max(id) FROM manual_orders_manualorder))"
        )
        c.execute(f"SELECT setval('manual_orders_number_seq', {n_orders + 1})")
        c.execute("ANALYZE")
        print(f"generated {n_orders:,} orders in {time.perf_counter() - t0:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One staff member: a keep-alive connection with a signed-in session."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str, float]:
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Accept-Language": "en",
        }
        data = None
        if body is not None:
            data = urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Referer"] = f"http://127.0.0.1:{self.conn.port}/"
        t0 = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        elapsed = time.perf_counter() - t0
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, text, elapsed

    def login(self) -> None:
        self.request("GET", "/accounts/login/")
        status, _, _ = self.request(
            "POST", "/accounts/login/", {"username": "bench.operator", "password": PASSWORD}
        )
        assert status == 302, f"login failed: {status}"


def entry_body(rng: random.Random, product_ids: dict[str, int]) -> dict:
    customer_phone_no = rng.randint(1, CUSTOMERS)
    skus = [f"B-{rng.randint(1, PRODUCTS):05d}", f"B-{rng.randint(1, PRODUCTS):05d}"]
    return {
        "idempotency_key": str(uuid.uuid4()),
        "customer": "",  # filled in by the caller (an id)
        "channel": "phone",
        "order_type": "standard",
        "received_at": time.strftime("%Y-%m-%d %H:%M"),
        "delivery_city": "上海",
        "delivery_address": f"上海市人民路 {customer_phone_no} 号",
        "new_language": "zh-hans",
        "new_notify_by": "email",
        "confirm_duplicate": "on",
        "line_sku": skus,
        # The page posts the product it resolved for each line; the text alone is refused.
        "line_product": [str(product_ids[sku]) for sku in skus],
        "line_qty": ["1", "2"],
    }


def run_round(
    port: int,
    customer_ids: list[int],
    product_ids: dict[str, int],
    per_client: int,
    seed: int,
    think: float,
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"submit": [], "list": [], "search": []}
    lock = threading.Lock()
    errors: list[str] = []
    numbers = [f"M{time.strftime('%Y%m%d')}-00{n}" for n in range(10, 99)]

    def worker(i: int) -> None:
        rng = random.Random(seed * 100 + i)
        client = Client(port)
        client.login()

        def pause() -> None:
            # A member of staff reads, types and talks between two requests.
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))

        for _ in range(per_client):
            pause()
            body = entry_body(rng, product_ids)
            body["customer"] = str(rng.choice(customer_ids))
            status, _, t = client.request("POST", "/orders/new/", body)
            if status != 302:
                errors.append(f"submit {status}")
            with lock:
                timings["submit"].append(t)
            pause()
            path = rng.choice(
                ["/orders/", "/orders/?state=allocated", "/orders/?channel=email&state=delivered"]
            )
            status, html, t = client.request("GET", path)
            if status != 200:
                errors.append(f"list {status}")
            with lock:
                timings["list"].append(t)
            pause()
            q = rng.choice(
                [
                    rng.choice(numbers),
                    "139" + f"{rng.randint(1, CUSTOMERS):08d}"[:5],
                    f"客户{rng.randint(1, CUSTOMERS)}",
                ]
            )
            status, html, t = client.request("GET", "/orders/?" + urlencode({"q": q}))
            if status != 200:
                errors.append(f"search {status}")
            with lock:
                timings["search"].append(t)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    if errors:
        print("errors:", errors[:10], len(errors))
    return timings


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--per-client", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause of a client between requests (s)"
    )
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
    generate(args.orders)
    from apps.catalog.models import Product
    from apps.manual_orders.models import Customer

    customer_ids = list(Customer.objects.order_by("?").values_list("pk", flat=True)[:2000])
    product_ids = dict(Product.objects.filter(sku__startswith="B-").values_list("sku", "pk"))

    port = free_port()
    env = dict(
        os.environ,
        JOB_RUNNER="sync",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        ALLOWED_HOSTS="127.0.0.1",
        AXES_FAILURE_LIMIT="1000",
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "recovery_site.wsgi",
            "-w",
            str(args.workers),
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
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        warm = Client(port)
        warm.login()
        for path in ("/orders/", "/orders/new/", "/orders/?q=139"):
            for _ in range(args.workers * 2):
                warm.request("GET", path)
        results: dict[str, list[float]] = {"submit": [], "list": [], "search": []}
        for run in range(args.runs + 1):
            saturated = run == args.runs  # a last run without pauses: the server at its limit
            t0 = time.perf_counter()
            timings = run_round(
                port,
                customer_ids,
                product_ids,
                args.per_client,
                seed=run,
                think=0 if saturated else args.think,
            )
            elapsed = time.perf_counter() - t0
            n = sum(len(v) for v in timings.values())
            if saturated:
                print(
                    f"saturation (no pauses): {n / elapsed:.0f} requests/s; "
                    + "; ".join(
                        f"{k} p50={pct(v, 50):.0f} ms p95={pct(v, 95):.0f} ms"
                        for k, v in timings.items()
                    )
                )
                continue
            line = []
            for kind, values in timings.items():
                p95 = pct(values, 95)
                results[kind].append(p95)
                line.append(
                    f"{kind}: n={len(values)} p50={pct(values, 50):.0f} ms p95={p95:.0f} ms"
                )
            print(f"run {run + 1} ({n / elapsed:.0f} requests/s): " + "; ".join(line))
        print(
            "median of runs, p95: "
            + ", ".join(f"{k} {statistics.median(v):.0f} ms" for k, v in results.items())
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


if __name__ == "__main__":
    main()
