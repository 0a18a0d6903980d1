#!/usr/bin/env python3
"""Run a command (the test suite) against private PostgreSQL and Redis servers.

Why: the tests must not depend on servers someone else started, and two runs on one machine
(two checkouts, a run beside a benchmark) must never share a database or a Redis keyspace. So
each run gets its own PostgreSQL cluster and Redis on free loopback ports under a temporary
directory, and both are stopped and removed afterwards, whatever happens (interrupt included).
``DATABASE_URL`` / ``REDIS_URL`` given explicitly still win: then that server is used as it is.

    python scripts/testservers.py run -- pytest -q        # what `make test` does
    python scripts/testservers.py check-parallel           # two sets side by side (.ci/run)

Standard library only, so it works before and outside the virtualenv (psycopg is used when it
is importable, for creating databases on a server given by ``DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Settings later tests need (logical decoding for the change journal) and speed for throw-away data.
PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "logical",
    "max_replication_slots": "10",
    "max_wal_senders": "10",
    "max_connections": "200",
}
DATABASES = ("recovery_site", "order_system")


class SetupError(RuntimeError):
    """Something the run needs is missing; the message says what to do."""


# --- what the machine must have ---------------------------------------------------------------


def pg_bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    return bool(out.strip())


def missing_packages(*, need_pg: bool, need_redis: bool) -> list[str]:
    """Debian packages the suite needs and the machine lacks."""
    missing = []
    if need_pg and pg_bindir() is None:
        missing.append("postgresql")
    if need_redis and not shutil.which("redis-server"):
        missing.append("redis-server")
    if not Path("/usr/bin/chromium").exists():
        missing.append("chromium")
    if not shutil.which("msgfmt"):
        missing.append("gettext")
    if not _has_cjk_font():
        missing.append("fonts-noto-cjk")
    missing.extend(_missing_weasyprint_libraries())
    if not Path("/usr/sbin/dovecot").exists():
        # The care mailbox tests read mail from a real IMAP server.
        missing.append("dovecot-imapd")
    return missing


# The shared libraries WeasyPrint (evaluation reports' PDFs) opens, and the Debian 12 package of each.
WEASYPRINT_LIBRARIES = {
    "pango-1.0": "libpango-1.0-0",
    "pangoft2-1.0": "libpangoft2-1.0-0",
    "harfbuzz-subset": "libharfbuzz-subset0",
    "fontconfig": "libfontconfig1",
}


def _missing_weasyprint_libraries() -> list[str]:
    import ctypes.util

    return [
        package
        for library, package in WEASYPRINT_LIBRARIES.items()
        if ctypes.util.find_library(library) is None
    ]


def install_missing(packages: list[str]) -> None:
    if not packages:
        return
    line = "apt-get install -y " + " ".join(packages)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SetupError(
            f"The test suite needs Debian packages that are not installed: {' '.join(packages)}.\n"
            f"Install them as root, then run `make test` again:\n    {line}"
        )
    print(f"testservers: installing {' '.join(packages)} from Debian's packages", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


# --- private servers --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SetupError(f"{what} did not come up within {timeout:.0f} s")


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class PrivateServers:
    """One run's PostgreSQL cluster and Redis, under one temporary directory."""

    start_pg: bool = True
    start_redis: bool = True
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rs-test-")))
    pg_port: int = 0
    redis_port: int = 0
    _redis: subprocess.Popen | None = None
    _pg_started: bool = False

    @property
    def pg_data(self) -> Path:
        return self.root / "pg"

    def database_url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{name}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start(self) -> PrivateServers:
        self.root.chmod(0o755)  # the postgres user must reach its data directory inside
        try:
            if self.start_pg:
                self._start_postgres()
            if self.start_redis:
                self._start_redis()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_postgres(self) -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise SetupError("PostgreSQL's server programs (initdb) are not installed")
        self.pg_data.mkdir()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.pg_data, pw.pw_uid, pw.pw_gid)
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.pg_data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for _attempt in range(5):  # a port picked free can be taken before the server binds it
            self.pg_port = free_port()
            options = [f"-p {self.pg_port}", f"-k {self.pg_data}"]
            options += [f"-c {k}={v}" for k, v in PG_SETTINGS.items()]
            started = subprocess.run(
                _as_postgres(
                    [
                        str(bindir / "pg_ctl"),
                        "-D",
                        str(self.pg_data),
                        "-l",
                        str(self.pg_data / "server.log"),
                        "-o",
                        " ".join(options),
                        "-w",
                        "-t",
                        "60",
                        "start",
                    ]
                ),
                stdout=subprocess.DEVNULL,
            )
            if started.returncode == 0:
                self._pg_started = True
                return
        log = (self.pg_data / "server.log").read_text(errors="replace")[-2000:]
        raise SetupError(f"the private PostgreSQL did not start:\n{log}")

    def _start_redis(self) -> None:
        for _attempt in range(5):
            self.redis_port = free_port()
            self._redis = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.root),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C at the terminal reaches us, and we stop it
            )
            try:
                _wait(lambda: _redis_ping(self.redis_port), timeout=10, what="Redis")
                return
            except SetupError:
                self._stop_redis()
        raise SetupError("the private Redis did not start")

    def _stop_redis(self) -> None:
        if self._redis and self._redis.poll() is None:
            self._redis.terminate()
            try:
                self._redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
                self._redis.wait()
        self._redis = None

    def stop(self) -> None:
        """Stop both servers and remove the directory; safe to call more than once."""
        self._stop_redis()
        if self._pg_started:
            bindir = pg_bindir()
            subprocess.run(
                _as_postgres(
                    [str(bindir / "pg_ctl"), "-D", str(self.pg_data), "-m", "immediate", "stop"]
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self._pg_started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def create_databases(self, names=DATABASES) -> None:
        for name in names:
            ensure_database(self.database_url(name))


def ensure_database(url: str) -> None:
    """Create the database a URL names when it does not exist (on any PostgreSQL server)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/").split("?")[0]
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the virtualenv has it; psql is the fallback
        host, port = parts.hostname or "127.0.0.1", str(parts.port or 5432)
        user = parts.username or "postgres"
        psql = ["psql", "-h", host, "-p", port, "-U", user, "-d", "postgres", "-tAc"]
        exists = subprocess.run(
            [*psql, f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not exists:
            subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True)
        return
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def private_servers(*, start_pg: bool = True, start_redis: bool = True) -> Iterator[PrivateServers]:
    servers = PrivateServers(start_pg=start_pg, start_redis=start_redis).start()
    try:
        yield servers
    finally:
        servers.stop()


# --- commands ---------------------------------------------------------------------------------


def _stop_on_signals() -> None:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so the `finally` blocks stop the servers."""

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def run(command: list[str]) -> int:
    own_pg = not os.environ.get("DATABASE_URL")
    own_redis = not os.environ.get("REDIS_URL")
    install_missing(missing_packages(need_pg=own_pg, need_redis=own_redis))
    _stop_on_signals()
    env = dict(os.environ)
    with private_servers(start_pg=own_pg, start_redis=own_redis) as servers:
        if own_pg:
            servers.create_databases()
            env["DATABASE_URL"] = servers.database_url("recovery_site")
            env.setdefault("ORDER_SYSTEM_DATABASE_URL", servers.database_url("order_system"))
        else:
            default = env["DATABASE_URL"].rsplit("/", 1)
            env.setdefault("ORDER_SYSTEM_DATABASE_URL", f"{default[0]}/order_system")
            for url in (env["DATABASE_URL"], env["ORDER_SYSTEM_DATABASE_URL"]):
                if url.startswith("postgres"):
                    ensure_database(url)
        if own_redis:
            env["REDIS_URL"] = servers.redis_url
        where = "private" if own_pg else "given"
        print(
            f"testservers: PostgreSQL ({where}) {env['DATABASE_URL']}, "
            f"Redis ({'private' if own_redis else 'given'}) {env['REDIS_URL']}",
            flush=True,
        )
        proc = subprocess.Popen(command, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            return 130


def check_parallel() -> int:
    """Start two runs' worth of servers at the same moment and show they are apart."""
    install_missing(missing_packages(need_pg=True, need_redis=True))
    results: list[PrivateServers | BaseException] = [None, None]  # type: ignore[list-item]

    def start(i: int) -> None:
        try:
            results[i] = PrivateServers().start()
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        for r in results:
            if isinstance(r, BaseException):
                raise r
        a, b = results
        assert a.pg_port != b.pg_port and a.redis_port != b.redis_port
        for s in (a, b):
            s.create_databases()
        print(
            f"testservers: two private sets side by side: PostgreSQL {a.pg_port} and "
            f"{b.pg_port}, Redis {a.redis_port} and {b.redis_port}"
        )
        return 0
    finally:
        for r in results:
            if isinstance(r, PrivateServers):
                r.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    run_p = sub.add_parser("run", help="run a command against private servers")
    run_p.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("check-parallel", help="start two sets of private servers side by side")
    args = parser.parse_args(argv)
    try:
        if args.what == "run":
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            if not command:
                parser.error("run needs a command after --")
            return run(command)
        return check_parallel()
    except SetupError as exc:
        print(f"testservers: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("testservers: interrupted; private servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
