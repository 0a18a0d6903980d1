import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from apps.accounts.roles import Role

from .factories import CustomerFactory

DOVECOT = "/usr/sbin/dovecot"


@pytest.fixture(autouse=True)
def _quiet_notifications(settings, tmp_path):
    """Customers' SMS go to files under the test's own directory; mail stays in memory unless a
    test asks for the real SMTP server."""
    settings.SMS_BACKEND = "apps.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CARE_IMAP_URL = ""


@pytest.fixture
def agent(make_user):
    return make_user(Role.CARE_AGENT, username="agent", language="en", email="agent@example.com")


@pytest.fixture
def second_agent(make_user):
    return make_user(Role.CARE_AGENT, username="agent2", language="en")


@pytest.fixture
def care_lead(make_user):
    return make_user(Role.CARE_LEAD, username="carelead", language="en", email="lead@example.com")


@pytest.fixture
def customer(db):
    return CustomerFactory()


@dataclass
class Mailbox:
    """A real IMAP mailbox (dovecot) on a loopback port; ``append`` puts a message in it."""

    host: str
    port: int
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/INBOX"

    def connect(self):
        import imaplib

        conn = imaplib.IMAP4(self.host, self.port, timeout=30)
        conn.login(self.user, self.password)
        return conn

    def append(self, *raws: bytes) -> None:
        conn = self.connect()
        try:
            for raw in raws:
                typ, data = conn.append("INBOX", None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def imap_server(settings):
    """Debian's dovecot on a free loopback port with one test mailbox in a temp dir.

    Plain-text login on loopback only; stopped (by its own pid) after the test.
    """
    if not os.path.exists(DOVECOT):
        if os.environ.get("CI"):
            pytest.fail("Debian's dovecot-imapd is missing: .ci/run should have installed it")
        pytest.skip("dovecot-imapd is not installed (apt-get install dovecot-imapd)")
    # A directory of its own under /tmp: pytest's tmp_path is private to root (0700), and as
    # root dovecot serves mail as its own unprivileged user, who must reach the mailbox.
    root = Path(tempfile.mkdtemp(prefix="care-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True)
    if os.geteuid() == 0:
        # Dovecot refuses to serve mail as root: its own users read and write the mailbox.
        mail_user, internal, login = "dovecot", "dovecot", "dovenull"
        owner = pwd.getpwnam(mail_user)
        for sub in ("mail", "home"):
            shutil.chown(root / sub, owner.pw_uid, owner.pw_gid)
    else:
        mail_user = internal = login = pwd.getpwuid(os.getuid()).pw_name
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        textwrap.dedent(
            f"""\
            base_dir = {root}/run
            state_dir = {root}/state
            log_path = {root}/dovecot.log
            protocols = imap
            listen = 127.0.0.1
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            mail_location = maildir:{root}/mail/%u
            default_internal_user = {internal}
            default_internal_group = {internal}
            default_login_user = {login}
            first_valid_uid = 0
            passdb {{
              driver = static
              args = password=care-secret
            }}
            userdb {{
              driver = static
              args = uid={mail_user} gid={mail_user} home={root}/home/%u
            }}
            service imap-login {{
              inet_listener imap {{
                address = 127.0.0.1
                port = {port}
              }}
              inet_listener imaps {{
                port = 0
              }}
            }}
            service stats {{
              unix_listener stats-reader {{
                mode = 0666
              }}
              unix_listener stats-writer {{
                mode = 0666
              }}
            }}
            """
        )
    )
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                proc.kill()
                pytest.fail(f"dovecot did not start: {out}")
            time.sleep(0.05)
    mailbox = Mailbox("127.0.0.1", port, "care", "care-secret")
    settings.CARE_IMAP_URL = mailbox.url
    yield mailbox
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    shutil.rmtree(root, ignore_errors=True)
