"""A demo of the company's order-processing system: its schema and fast, reproducible data.

Only the demo and the tests use this module. The backup engine never imports it: it works on
table names and database introspection, so it runs unchanged against the real system.
Data is generated set-based in the database (generate_series / recursive CTEs), so millions of
orders take minutes, not hours; the same N always gives the same rows.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg

from .engine import EngineError, gateway

TABLES = ["customers", "products", "orders", "order_items", "payments"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "华",
    "建国",
    "晓东",
    "子涵",
    "欣怡",
    "浩然",
    "雨桐",
]
CITIES = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "重庆",
    "天津",
    "苏州",
    "长沙",
    "郑州",
    "青岛",
    "沈阳",
]
STREETS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "长江路",
    "新华街",
    "文化路",
    "朝阳路",
    "滨江大道",
]
CATEGORIES = ["家电", "数码", "服装", "食品", "图书", "家居", "美妆", "运动"]
PRODUCT_WORDS = ["智能", "经典", "便携", "高端", "家用", "轻薄", "无线", "加厚", "有机", "限量"]
PRODUCT_NOUNS = [
    "电饭煲",
    "耳机",
    "T恤",
    "茶叶",
    "笔记本",
    "台灯",
    "面霜",
    "跑鞋",
    "保温杯",
    "背包",
]
STATUSES = ["paid", "paid", "paid", "shipped", "delivered", "delivered", "cancelled", "pending"]
METHODS = ["alipay", "wechat", "card", "bank_transfer"]

PG_SCHEMA = """
DROP TABLE IF EXISTS payments, order_items, orders, products, customers CASCADE;
CREATE TABLE customers (
    id bigint PRIMARY KEY, name text NOT NULL, phone text NOT NULL, email text,
    city text NOT NULL, address text NOT NULL, vip boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL);
CREATE TABLE products (
    id bigint PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, category text NOT NULL,
    price numeric(12,2) NOT NULL CHECK (price >= 0), unit text NOT NULL DEFAULT '件',
    active boolean NOT NULL DEFAULT true);
CREATE TABLE orders (
    id bigint PRIMARY KEY, order_no text NOT NULL UNIQUE, customer_id bigint NOT NULL,
    status text NOT NULL, total numeric(12,2) NOT NULL, ship_city text NOT NULL,
    ship_address text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE order_items (
    id bigint PRIMARY KEY, order_id bigint NOT NULL, product_id bigint NOT NULL,
    qty integer NOT NULL CHECK (qty > 0), unit_price numeric(12,2) NOT NULL,
    line_total numeric(12,2) NOT NULL);
CREATE TABLE payments (
    id bigint PRIMARY KEY, order_id bigint NOT NULL, amount numeric(12,2) NOT NULL,
    method text NOT NULL, paid_at timestamptz NOT NULL);
"""

PG_CONSTRAINTS = """
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers(id);
ALTER TABLE order_items ADD CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders(id);
ALTER TABLE order_items ADD CONSTRAINT order_items_product_fk FOREIGN KEY (product_id) REFERENCES products(id);
ALTER TABLE payments ADD CONSTRAINT payments_order_fk FOREIGN KEY (order_id) REFERENCES orders(id);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_created_idx ON orders (created_at);
CREATE INDEX order_items_order_idx ON order_items (order_id);
CREATE INDEX payments_order_idx ON payments (order_id);
ANALYZE;
"""


def _pg_array(items: list[str] | str) -> str:
    values = list(items)
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pg_data(n_orders: int, n_customers: int, n_products: int) -> list[str]:
    """Set-based INSERTs; every 'random' choice is a pure function of the row number."""
    s, g, c, st = _pg_array(SURNAMES), _pg_array(GIVEN), _pg_array(CITIES), _pg_array(STREETS)
    cat, w, nn = _pg_array(CATEGORIES), _pg_array(PRODUCT_WORDS), _pg_array(PRODUCT_NOUNS)
    stat, meth = _pg_array(STATUSES), _pg_array(METHODS)
    h = "abs(hashint8({x}::bigint))"  # deterministic pseudo-random
    return [
        f"""INSERT INTO customers
        SELECT i, ({s})[1 + {h.format(x="i")} % {len(SURNAMES)}] || ({g})[1 + {h.format(x="i*7")} % {len(GIVEN)}],
               '1' || (30 + {h.format(x="i*3")} % 60)::text || lpad(({h.format(x="i*11")} % 100000000)::text, 8, '0'),
               'c' || i || '@example.cn',
               ({c})[1 + {h.format(x="i*5")} % {len(CITIES)}],
               ({st})[1 + {h.format(x="i*13")} % {len(STREETS)}] || (1 + {h.format(x="i*17")} % 999) || '号',
               {h.format(x="i*19")} % 20 = 0,
               timestamptz '2024-01-01' + (({h.format(x="i*23")} % 600) || ' days')::interval
        FROM generate_series(1, {n_customers}) AS i""",
        f"""INSERT INTO products
        SELECT i, 'SKU-' || lpad(i::text, 6, '0'),
               ({w})[1 + i % {len(PRODUCT_WORDS)}] || ({nn})[1 + (i / {len(PRODUCT_WORDS)}) % {len(PRODUCT_NOUNS)}] || ' ' || i,
               ({cat})[1 + {h.format(x="i*29")} % {len(CATEGORIES)}],
               round((5 + {h.format(x="i*31")} % 99500 / 100.0)::numeric, 2), '件', i % 50 <> 0
        FROM generate_series(1, {n_products}) AS i""",
        # Three items per order; prices come from the product so totals add up.
        f"""CREATE TEMP TABLE _items AS
        SELECT i AS id, (i - 1) / 3 + 1 AS order_id, 1 + {h.format(x="i*37")} % {n_products} AS product_id,
               1 + {h.format(x="i*41")} % 4 AS qty
        FROM generate_series(1, {n_orders * 3}) AS i""",
        """INSERT INTO order_items
        SELECT t.id, t.order_id, t.product_id, t.qty, p.price, p.price * t.qty
        FROM _items t JOIN products p ON p.id = t.product_id ORDER BY t.id""",
        f"""INSERT INTO orders
        SELECT o.i, 'SO' || to_char(date '2026-11-01' + (o.i % 25), 'YYYYMMDD') || lpad(o.i::text, 9, '0'),
               1 + {h.format(x="o.i*43")} % {n_customers},
               ({stat})[1 + {h.format(x="o.i*47")} % {len(STATUSES)}],
               s.total,
               ({c})[1 + {h.format(x="o.i*53")} % {len(CITIES)}],
               ({st})[1 + {h.format(x="o.i*59")} % {len(STREETS)}] || (1 + {h.format(x="o.i*61")} % 999) || '号',
               timestamptz '2026-11-01' + (o.i % 2160000 || ' seconds')::interval
        FROM generate_series(1, {n_orders}) AS o(i)
        JOIN (SELECT order_id, sum(line_total) AS total FROM order_items GROUP BY order_id) s
          ON s.order_id = o.i""",
        f"""INSERT INTO payments
        SELECT row_number() OVER (ORDER BY id), id, total,
               ({meth})[1 + {h.format(x="id*67")} % {len(METHODS)}], created_at + interval '2 minutes'
        FROM orders WHERE status NOT IN ('pending', 'cancelled')""",
        "DROP TABLE _items",
    ]


def seed_postgres(url: str, *, orders: int) -> dict[str, int]:
    customers, products = max(10, orders // 5), max(20, min(20000, orders // 20))
    with psycopg.connect(url, autocommit=False) as conn:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute(PG_SCHEMA)
            for statement in _pg_data(orders, customers, products):
                cur.execute(statement)
            cur.execute(PG_CONSTRAINTS)
            counts = {}
            for table in TABLES:
                cur.execute(f"SELECT count(*) FROM {table}")
                row = cur.fetchone()
                counts[table] = row[0] if row else 0
        conn.commit()
    return counts


SQLITE_SCHEMA = """
DROP TABLE IF EXISTS payments; DROP TABLE IF EXISTS order_items; DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS products; DROP TABLE IF EXISTS customers;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL,
    email TEXT, city TEXT NOT NULL, address TEXT NOT NULL, vip INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    category TEXT NOT NULL, price NUMERIC NOT NULL, unit TEXT NOT NULL DEFAULT '件',
    active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE orders (id INTEGER PRIMARY KEY, order_no TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id), status TEXT NOT NULL,
    total NUMERIC NOT NULL, ship_city TEXT NOT NULL, ship_address TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id), qty INTEGER NOT NULL,
    unit_price NUMERIC NOT NULL, line_total NUMERIC NOT NULL);
CREATE TABLE payments (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id),
    amount NUMERIC NOT NULL, method TEXT NOT NULL, paid_at TEXT NOT NULL);
CREATE INDEX order_items_order_idx ON order_items(order_id);
CREATE INDEX payments_order_idx ON payments(order_id);
"""


def seed_sqlite(path: str, *, orders: int) -> dict[str, int]:
    """The embedded default's order system: small, generated row by row in Python (fine at
    demo sizes; PostgreSQL is the path for millions)."""
    customers, products = max(10, orders // 5), max(20, min(2000, orders // 20))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SQLITE_SCHEMA)
        conn.executemany(
            "INSERT INTO customers VALUES (?,?,?,?,?,?,?,?)",
            (
                (
                    i,
                    SURNAMES[(i * 31) % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)],
                    f"1{30 + i % 60}{(i * 7919) % 100000000:08d}",
                    f"c{i}@example.cn",
                    CITIES[(i * 5) % len(CITIES)],
                    f"{STREETS[(i * 13) % len(STREETS)]}{1 + (i * 17) % 999}号",
                    int(i % 20 == 0),
                    (date(2024, 1, 1) + timedelta(days=(i * 23) % 600)).isoformat(),
                )
                for i in range(1, customers + 1)
            ),
        )
        price = {i: round(5 + ((i * 7919) % 99500) / 100, 2) for i in range(1, products + 1)}
        conn.executemany(
            "INSERT INTO products VALUES (?,?,?,?,?,?,?)",
            (
                (
                    i,
                    f"SKU-{i:06d}",
                    f"{PRODUCT_WORDS[i % len(PRODUCT_WORDS)]}{PRODUCT_NOUNS[(i // 10) % len(PRODUCT_NOUNS)]} {i}",
                    CATEGORIES[(i * 29) % len(CATEGORIES)],
                    price[i],
                    "件",
                    int(i % 50 != 0),
                )
                for i in range(1, products + 1)
            ),
        )
        items: list[tuple[Any, ...]] = []
        order_rows: list[tuple[Any, ...]] = []
        payments: list[tuple[Any, ...]] = []
        for o in range(1, orders + 1):
            total = 0.0
            for k in range(3):
                item_id = (o - 1) * 3 + k + 1
                pid = 1 + (item_id * 37) % products
                qty = 1 + (item_id * 41) % 4
                line = round(price[pid] * qty, 2)
                total = round(total + line, 2)
                items.append((item_id, o, pid, qty, price[pid], line))
            status = STATUSES[(o * 47) % len(STATUSES)]
            created = f"2026-11-{1 + o % 25:02d}T{(o // 60) % 24:02d}:{o % 60:02d}:00+08:00"
            order_rows.append(
                (
                    o,
                    f"SO202611{1 + o % 25:02d}{o:09d}",
                    1 + (o * 43) % customers,
                    status,
                    total,
                    CITIES[(o * 53) % len(CITIES)],
                    f"{STREETS[(o * 59) % len(STREETS)]}{1 + (o * 61) % 999}号",
                    created,
                )
            )
            if status not in ("pending", "cancelled"):
                payments.append((len(payments) + 1, o, total, METHODS[(o * 67) % 4], created))
        conn.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?)", order_rows)
        conn.executemany("INSERT INTO order_items VALUES (?,?,?,?,?,?)", items)
        conn.executemany("INSERT INTO payments VALUES (?,?,?,?,?)", payments)
        conn.commit()
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def write_logs(log_dir: str, *, days: int = 3, lines: int = 200) -> list[Path]:
    folder = Path(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for d in range(days):
        day = date(2026, 11, 20) + timedelta(days=d)
        path = folder / f"order-system-{day:%Y%m%d}.log"
        path.write_text(
            "".join(
                f"{day}T{(i // 60) % 24:02d}:{i % 60:02d}:00 INFO order SO{day:%Y%m%d}{i:09d} "
                f"{'paid' if i % 3 else 'created'}\n"
                for i in range(lines)
            ),
            encoding="utf-8",
        )
        written.append(path)
    return written


def seed(url: str, *, orders: int) -> dict[str, int]:
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql"):
        return seed_postgres(url, orders=orders)
    if parsed.scheme == "sqlite":
        return seed_sqlite(sqlite_path(url), orders=orders)
    raise ValueError(f"unsupported order system URL scheme: {parsed.scheme}")


def count_orders(url: str) -> int:
    """Orders in the order system, 0 when it has no orders table yet."""
    _UNREADABLE: tuple[type[Exception], ...] = (*gateway.DB_ERRORS, EngineError)
    if urlparse(url).scheme == "sqlite" and not Path(sqlite_path(url)).exists():
        return 0
    try:
        with gateway.connect(url) as db:
            return int(db.q("SELECT count(*) FROM orders")[0][0])
    except _UNREADABLE:
        return 0


def sqlite_path(url: str) -> str:
    return url.split("sqlite:///", 1)[1]
