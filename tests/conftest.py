import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import django_rq
import pytest
from django.db import connection

from apps.accounts.roles import Role

from .factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def _isolate_xdist_worker() -> None:
    """Give each pytest-xdist worker its own order-system database and Redis database.

    pytest-django already gives each worker its own ``test_*`` database; the order system's
    database and the queues are ours to separate. Settings are read before this module is
    imported, so both the settings object and the environment (for child processes) change.
    """
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    if settings.ORDER_SYSTEM_DATABASE_URL.startswith("postgres"):
        from scripts.testservers import ensure_database

        parts = urlsplit(settings.ORDER_SYSTEM_DATABASE_URL)
        url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{worker}"))
        ensure_database(url)
        settings.ORDER_SYSTEM_DATABASE_URL = os.environ["ORDER_SYSTEM_DATABASE_URL"] = url
        settings.BACKUP_SCRATCH_TARGETS = {"rehearsal": f"{url}_rehearsal"}
    if settings.REDIS_URL:
        # Redis has 16 numbered databases: worker gwN uses N + 1 (plain runs use the URL's own).
        parts = urlsplit(settings.REDIS_URL)
        url = urlunsplit(parts._replace(path=f"/{1 + int(worker[2:]) % 15}"))
        for cache in settings.CACHES.values():
            if cache.get("LOCATION") == settings.REDIS_URL:
                cache["LOCATION"] = url
        settings.REDIS_URL = os.environ["REDIS_URL"] = url
        for queue in settings.RQ_QUEUES.values():
            queue["URL"] = url


_isolate_xdist_worker()

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# test body are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    """PBKDF2 at full strength costs ~0.3 s per user made; the tests check roles, not hashing."""
    from django.conf import settings
    from django.test.utils import override_settings

    fast = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=fast):
        yield


@pytest.fixture(autouse=True)
def _jobs_run_inline(settings):
    """Jobs run in the caller unless a test asks for a real worker (``rq_worker``)."""
    settings.JOB_RUNNER = "sync"


@pytest.fixture
def make_user(db):
    def make(*roles: str, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def users_by_role(db):
    return {role: UserFactory(username=f"u_{role.value}", roles=[role]) for role in Role}


def pg_server_url(dbname: str) -> str:
    """A URL for another database on the PostgreSQL server the tests run on.

    ``make test`` starts a private server on a free port for each run, so no test may name a
    fixed host, port or database of a shared server.
    """
    db = connection.settings_dict
    if not db["ENGINE"].endswith("postgresql"):
        pytest.skip("needs PostgreSQL: run the suite through `make test` or set DATABASE_URL")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}{port}/{dbname}"


def create_database(prefix: str) -> tuple[str, str]:
    """A fresh, empty PostgreSQL database on the test server: ``(name, url)``."""
    import uuid

    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, pg_server_url(name)


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(pg_server_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def order_db(settings, tmp_path):
    """The one order-system fixture: a real PostgreSQL database filled with the demo data.

    300 orders (with customers, products, payments) and two days of log files under the test's
    own directory; ``ORDER_SYSTEM_DATABASE_URL`` and ``ORDER_SYSTEM_LOG_DIR`` point at them.
    """
    from apps.backups import demo_order_system

    name, url = create_database("test_ordersys")
    settings.ORDER_SYSTEM_LOG_DIR = str(tmp_path / "logs")
    demo_order_system.seed_postgres(url, orders=300)
    demo_order_system.write_logs(settings.ORDER_SYSTEM_LOG_DIR, days=2, lines=50)
    settings.ORDER_SYSTEM_DATABASE_URL = url
    yield url
    drop_database(name)


@pytest.fixture(autouse=True)
def _mail_and_sms_stay_local(settings, tmp_path):
    """The one place for the tests' mail and SMS settings.

    E-mail goes to Django's in-memory outbox (``mail.outbox``) and SMS into JSON files under the
    test's own directory (``sms_dir``); a worker started by a test gets the same SMS settings
    through ``subprocess_env``. A test that needs real SMTP asks for ``smtp_server``.
    """
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "apps.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")


@pytest.fixture
def sms_dir(settings) -> Path:
    """Where this test's text messages are written (one JSON file each)."""
    return Path(settings.SMS_FILE_PATH)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child Django process that must see this test's database.

    It also sends text messages where this test's own do (``sms_dir``).
    """
    from django.conf import settings

    env = dict(os.environ)
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = pg_server_url(db["NAME"])
    env["SMS_BACKEND"] = settings.SMS_BACKEND
    env["SMS_FILE_PATH"] = settings.SMS_FILE_PATH
    env.update(extra)
    return env


class WorkerHandle:
    def __init__(self, queues: tuple[str, ...], env: dict[str, str]) -> None:
        self.queues = queues
        self.env = env
        self.proc: subprocess.Popen | None = None

    def _cmd(self, burst: bool) -> list[str]:
        cmd = [
            sys.executable,
            "manage.py",
            "rqworker",
            *self.queues,
            "--worker-class",
            "rq.worker.Worker",
        ]
        if burst:
            cmd.append("--burst")
        return cmd

    def run_burst(self, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a real worker until the queues are empty."""
        return subprocess.run(
            self._cmd(True),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def start(self) -> subprocess.Popen:
        """A long-running worker in its own process group (so a test can SIGKILL it all)."""
        self.proc = subprocess.Popen(
            self._cmd(False),
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self.proc

    def kill(self) -> None:
        """SIGKILL the worker and its work-horse (RQ puts the horse in a session of its own)."""
        if self.proc and self.proc.poll() is None:
            for pid in [*_descendants(self.proc.pid), self.proc.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture
def rq_worker(transactional_db, settings):
    """Real RQ on the real Redis: jobs are enqueued and a worker process runs them."""
    settings.JOB_RUNNER = "rq"
    queues = tuple(settings.RQ_QUEUES)
    for name in queues:
        django_rq.get_queue(name).empty()
    handle = WorkerHandle(queues, subprocess_env(JOB_HEARTBEAT_SECONDS="1"))
    yield handle
    handle.kill()


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = ""):
    """Poll with a deadline instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or "condition not met in time")


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not chromium_available():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run should have installed it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _patient_browser_assertions():
    """Two test workers, Chromium and a live server share two cores: allow 15 s, not 5 s.

    Assertions still poll and pass as soon as the page is right; only a wrong page waits longer.
    """
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Most staff run Chinese browsers: the UI must come up in Chinese without being asked.
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd); Django's real SMTP backend sends to it."""
    import socket

    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    yield inbox
    controller.stop()


# Data migrations seed rows the app relies on (backup scopes and policies, the plan's task
# templates, the required courses); a transactional test's flush removes them. They are put back
# right after such a test, outside any test transaction, so no later test in this worker depends
# on which tests ran before it.
_SEEDS = (
    ("apps.backups.migrations.0002_default_scopes", "create_scopes"),
    ("apps.incidents.migrations.0002_default_task_templates", "create_templates"),
    ("apps.drills.migrations.0002_default_courses", "create_courses"),
)


def _flushes(item) -> bool:
    """Whether the test ran on a committed database (flushed after it): asked for by name, by
    ``django_db(transaction=True)``, or through ``live_server`` (which pulls it in at run time)."""
    names = set(getattr(item, "fixturenames", ()))
    if names & {"transactional_db", "live_server", "rq_worker"}:
        return True
    marker = item.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if not _flushes(item):
        return
    if nextitem is None:  # the session's test database is already torn down: nothing to seed
        return
    import importlib

    from django.apps import apps as django_apps
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for module, function in _SEEDS:
            getattr(importlib.import_module(module), function)(django_apps, None)
