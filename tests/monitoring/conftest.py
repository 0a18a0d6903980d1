"""Monitoring fixtures: a real PostgreSQL order system to break, a log directory, an HTTP server."""

import http.server
import threading
import uuid

import psycopg
import pytest

from apps.backups import demo_order_system
from tests.conftest import pg_server_url


def _admin_conn():
    return psycopg.connect(pg_server_url("postgres"), autocommit=True)


@pytest.fixture
def order_system(settings):
    """An empty order system (the demo schema) on the run's PostgreSQL server, reached by a role
    of its own so a test can lock it out (``ALTER ROLE … NOLOGIN``)."""
    suffix = uuid.uuid4().hex[:10]
    name, role = f"test_mon_{suffix}", f"mon_probe_{suffix}"
    with _admin_conn() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
    owner_url = pg_server_url(name)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(demo_order_system.PG_SCHEMA)
        conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    probe_url = owner_url.replace("://postgres@", f"://{role}@", 1)
    if probe_url == owner_url:  # the server's superuser is not called postgres
        user = owner_url.split("://", 1)[1].split("@", 1)[0]
        probe_url = owner_url.replace(f"://{user}@", f"://{role}@", 1)
    settings.ORDER_SYSTEM_DATABASE_URL = probe_url
    handle = OrderSystem(name=name, role=role, owner_url=owner_url, url=probe_url)
    yield handle
    with _admin_conn() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


class OrderSystem:
    def __init__(self, *, name, role, owner_url, url):
        self.name, self.role, self.owner_url, self.url = name, role, owner_url, url
        self._next = 1

    def sql(self, statement, params=()):
        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else None

    def lock_out(self):
        with _admin_conn() as conn:
            conn.execute(f'ALTER ROLE "{self.role}" NOLOGIN')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                [self.role],
            )

    def let_in(self):
        with _admin_conn() as conn:
            conn.execute(f'ALTER ROLE "{self.role}" LOGIN')

    def add_orders(self, at_times, *, paid=True, status="paid"):
        """One order per time in ``at_times`` (and its payment when ``paid``)."""
        if self._next == 1:
            self.sql(
                "INSERT INTO customers VALUES (1, '王伟', '13800000000', NULL, '北京', 'x', false, now())"
            )
        for at in at_times:
            n = self._next
            self._next += 1
            self.sql(
                "INSERT INTO orders VALUES (%s, %s, 1, %s, 10, '北京', 'x', %s)",
                (n, f"T{n}", status, at),
            )
            if paid:
                self.sql("INSERT INTO payments VALUES (%s, %s, 10, 'card', %s)", (n, n, at))


@pytest.fixture
def log_dir(settings, tmp_path):
    path = tmp_path / "order_logs"
    path.mkdir()
    settings.ORDER_SYSTEM_LOG_DIR = str(path)
    return path


class _Behaviour:
    def __init__(self):
        self.status = 200
        self.hang = False
        self.release = threading.Event()


@pytest.fixture
def shop_server():
    """The shop's front end on loopback: answers ``status``, or hangs until the test ends."""
    behaviour = _Behaviour()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if behaviour.hang:
                behaviour.release.wait(30)
                return
            self.send_response(behaviour.status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"shop")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    behaviour.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield behaviour
    behaviour.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def only_probes(db):
    """Limit a round to the probes a test names (the others are disabled)."""
    from apps.monitoring import services
    from apps.monitoring.models import Probe

    def limit(*kinds):
        services.ensure_builtin_probes()
        Probe.objects.exclude(kind__in=kinds).update(enabled=False)
        Probe.objects.filter(kind__in=kinds).update(enabled=True)
        return {p.kind: p for p in Probe.objects.filter(kind__in=kinds)}

    return limit
