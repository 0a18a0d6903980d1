"""`make test` brings up its own servers: two runs side by side never share anything."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import redis

from scripts.testservers import PrivateServers, pg_bindir

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed")


def test_two_runs_get_separate_postgresql_and_redis_and_leave_nothing_behind():
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda _: PrivateServers().start(), range(2))
    try:
        assert {a.pg_port, a.redis_port}.isdisjoint({b.pg_port, b.redis_port})
        # The same database name in both clusters, holding different data.
        for servers, marker in ((a, "first"), (b, "second")):
            servers.create_databases(["recovery_site"])
            with psycopg.connect(servers.database_url("recovery_site"), autocommit=True) as c:
                c.execute("CREATE TABLE run (marker text)")
                c.execute("INSERT INTO run VALUES (%s)", [marker])
            redis.Redis.from_url(servers.redis_url).set("run", marker)
        for servers, marker in ((a, "first"), (b, "second")):
            with psycopg.connect(servers.database_url("recovery_site")) as c:
                assert c.execute("SELECT marker FROM run").fetchall() == [(marker,)]
                # The cluster carries the settings later tests need (the change journal).
                assert c.execute("SHOW wal_level").fetchone() == ("logical",)
            assert redis.Redis.from_url(servers.redis_url).get("run") == marker.encode()
    finally:
        a.stop()
        b.stop()
    for servers in (a, b):
        assert not servers.root.exists()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(servers.database_url("postgres"), connect_timeout=2)
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(servers.redis_url, socket_connect_timeout=2).ping()


def test_run_passes_the_private_urls_to_the_command_and_its_exit_code_back(tmp_path):
    probe = (
        "import os, sys; "
        "print(os.environ['DATABASE_URL'], os.environ['REDIS_URL'], "
        "os.environ['ORDER_SYSTEM_DATABASE_URL']); sys.exit(7)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "ORDER_SYSTEM_DATABASE_URL"}
    }
    result = subprocess.run(
        [sys.executable, "scripts/testservers.py", "run", "--", sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 7, result.stderr
    db_url, redis_url, order_url = result.stdout.strip().splitlines()[-1].split()
    assert db_url.endswith("/recovery_site") and order_url.endswith("/order_system")
    # The servers are gone once the command has finished.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(db_url, connect_timeout=2)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()


def test_run_stops_the_servers_when_interrupted():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    probe = "import os, time; print(os.environ['DATABASE_URL'], flush=True); time.sleep(600)"
    proc = subprocess.Popen(
        [sys.executable, "scripts/testservers.py", "run", "--", sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    db_url = ""
    while not db_url.startswith("postgres://"):
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            pytest.fail(f"the run ended before its command started ({proc.returncode})")
        db_url = line.strip()
    psycopg.connect(db_url, connect_timeout=5).close()  # up while the command runs
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(db_url, connect_timeout=1).close()
        except psycopg.OperationalError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the private PostgreSQL outlived the interrupted run")
