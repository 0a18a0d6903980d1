"""Writing to a real PostgreSQL order system the way its application would, for journal tests."""

from __future__ import annotations

import itertools

import psycopg

_ids = itertools.count(1_000_000)


def place_order(
    url: str, *, customer_id: int = 1, product_id: int = 1, amount: str = "19.90"
) -> int:
    """One committed transaction: an order, its item and its payment; returns the order id."""
    oid = next(_ids)
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(
            "INSERT INTO orders (id, order_no, customer_id, status, total, ship_city,"
            " ship_address, created_at) VALUES (%s, %s, %s, 'paid', %s, '上海', 'Lane ''7''', now())",
            (oid, f"J{oid}", customer_id, amount),
        )
        conn.execute(
            "INSERT INTO order_items (id, order_id, product_id, qty, unit_price, line_total)"
            " VALUES (%s, %s, %s, 1, %s, %s)",
            (oid, oid, product_id, amount, amount),
        )
        conn.execute(
            "INSERT INTO payments (id, order_id, amount, method, paid_at)"
            " VALUES (%s, %s, %s, 'card', now())",
            (oid, oid, amount),
        )
    return oid


def change_order(url: str, order_id: int, *, status: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE orders SET status = %s WHERE id = %s", (status, order_id))


def delete_order(url: str, order_id: int) -> None:
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("DELETE FROM payments WHERE order_id = %s", (order_id,))
        conn.execute("DELETE FROM order_items WHERE order_id = %s", (order_id,))
        conn.execute("DELETE FROM orders WHERE id = %s", (order_id,))


def first_order_ids(url: str, n: int) -> list[int]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM orders ORDER BY id LIMIT %s", (n,))]


def drop_slot(url: str, slot: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s",
            (slot,),
        )


def wal_flushed(url: str) -> None:
    """Logical decoding reads only flushed WAL, and the test cluster commits asynchronously
    (synchronous_commit=off): wait until the WAL written so far is flushed."""
    from tests.conftest import wait_for

    with psycopg.connect(url, autocommit=True) as conn:
        written = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        wait_for(
            lambda: conn.execute(
                "SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (written,)
            ).fetchone()[0],
            timeout=10,
        )
