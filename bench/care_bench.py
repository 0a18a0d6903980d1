"""Benchmark of the customer care desk (issue #14) on PostgreSQL and a real IMAP server.

    .venv/bin/python scripts/testservers.py run -- .venv/bin/python bench/care_bench.py \
        [--cases 100000] [--messages 5000] [--write-readme]

Uses the database of ``DATABASE_URL`` (migrates it), then measures:
  * the queue page (``/care/``) with 100,000 open cases through Django's test Client: median of
    10, and its number of queries against the same page with 1,000 open cases;
  * the team view over the same cases (no target, for the record);
  * ingesting 5,000 messages from Debian's dovecot (started here on a loopback port, messages put
    in by IMAP APPEND: 4 in 5 new, 1 in 5 replies quoting a case): the poll runs in a child
    process whose time and peak RSS are measured; a poll of 1,000 messages is run the same way,
    so flat memory shows as equal peaks.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["JOB_RUNNER"] = "sync"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


# --- dovecot -------------------------------------------------------------------------------------
def start_dovecot() -> tuple[subprocess.Popen, str, Path]:
    root = Path(tempfile.mkdtemp(prefix="care-bench-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        mail_user, internal, login = "dovecot", "dovecot", "dovenull"
        owner = pwd.getpwnam(mail_user)
        for sub in ("mail", "home"):
            shutil.chown(root / sub, owner.pw_uid, owner.pw_gid)
    else:
        mail_user = internal = login = pwd.getpwuid(os.getuid()).pw_name
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (root / "dovecot.conf").write_text(
        textwrap.dedent(
            f"""\
            base_dir = {root}/run
            state_dir = {root}/state
            log_path = {root}/dovecot.log
            protocols = imap
            listen = 127.0.0.1
            ssl = no
            disable_plaintext_auth = no
            mail_location = maildir:{root}/mail/%u
            default_internal_user = {internal}
            default_internal_group = {internal}
            default_login_user = {login}
            first_valid_uid = 0
            passdb {{
              driver = static
              args = password=bench
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
        ["/usr/sbin/dovecot", "-F", "-c", str(root / "dovecot.conf")], start_new_session=True
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.05)
    return proc, f"127.0.0.1:{port}", root


def append_messages(host_port: str, user: str, n: int, *, reply_to: list[int]) -> float:
    import imaplib
    from email.message import EmailMessage

    host, port = host_port.split(":")
    conn = imaplib.IMAP4(host, int(port))
    conn.login(user, "bench")
    started = time.perf_counter()
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = f"客户{i % 3000} <c{i % 3000}@example.cn>"
        msg["To"] = "care@shop.example"
        msg["Message-ID"] = f"<bench-{user}-{i}@example.cn>"
        if reply_to and i % 5 == 4:
            msg["Subject"] = f"Re: [CS-{reply_to[i % len(reply_to)]:06d}] 订单"
        else:
            msg["Subject"] = f"订单 {i} 什么时候发货？"
        msg.set_content("您好，请帮我查一下订单的物流。" * 20)
        conn.append("INBOX", None, None, msg.as_bytes())
    conn.logout()
    return time.perf_counter() - started


def child_poll(url: str) -> None:
    """In a child process: one poll of the whole mailbox; prints seconds and peak RSS."""
    import django

    django.setup()
    from apps.customer_care.services import poll_mailbox

    started = time.perf_counter()
    counts = poll_mailbox(url=url, limit=1_000_000)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mib": peak, "counts": counts}))


def run_poll(url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child-poll", url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "CARE_IMAP_BATCH": "1000000"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the queue ------------------------------------------------------------------------------------
def generate_cases(n: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE customer_care_caseevent, customer_care_casemessage, "
            "customer_care_caseorder, customer_care_ingestedmail, "
            "customer_care_mailboxstate, customer_care_case CASCADE"
        )
        cur.execute("SELECT count(*) FROM manual_orders_customer")
        if cur.fetchone()[0] < 20_000:
            cur.execute(
                """INSERT INTO manual_orders_customer (name, phone, email, city, address,
                   other_addresses, vip, language, notify_by, created_at)
                   SELECT '客户' || i, '139' || lpad(i::text, 8, '0'), 'c' || i || '@example.cn',
                          '上海', '人民路 ' || i || ' 号', '', i % 50 = 0, 'zh-hans', 'email', now()
                   FROM generate_series(1, 20000) AS i"""
            )
        cur.execute("SELECT min(id), max(id) FROM manual_orders_customer")
        lo, hi = cur.fetchone()
        cur.execute("SELECT id FROM accounts_user WHERE username LIKE 'bench.agent%%' ORDER BY id")
        agents = [r[0] for r in cur.fetchall()]
        cur.execute(
            f"""INSERT INTO customer_care_case (customer_id, contact_name, contact_email,
               contact_phone, channel, case_type, subject, priority, vip, lane, state, owner_id,
               created_at, updated_at, first_response_due, resolution_due, due_at,
               reopened_count, version)
               SELECT {lo} + (i * 7919) % ({hi - lo + 1}), '', '', '',
                      (ARRAY['phone','mailbox','sms','social','live_stream','forum','walk_in','other'])[1 + i % 8],
                      (ARRAY['order_query','change','cancellation','complaint','return','exchange','refund','suggestion'])[1 + (i / 8) % 8],
                      '订单问题 ' || i,
                      (ARRAY['urgent','high','normal','normal','low'])[1 + i % 5],
                      i % 50 = 0,
                      CASE WHEN i % 50 = 0 OR i % 5 = 0 THEN 0 ELSE 1 END,
                      (ARRAY['new','open','waiting'])[1 + i % 3],
                      (ARRAY[{",".join(map(str, agents))}])[1 + i % {len(agents)}],
                      now() - (i % 3000 || ' minutes')::interval, now(),
                      now() + ((i * 37) % 5000 - 500 || ' minutes')::interval,
                      now() + ((i * 37) % 5000 + 1000 || ' minutes')::interval,
                      now() + ((i * 37) % 5000 - 500 || ' minutes')::interval,
                      0, 1
               FROM generate_series(1, {n}) AS i"""
        )
        cur.execute("ANALYZE customer_care_case")


def measure_page(client, url: str, runs: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(ctx)
    return statistics.median(times), queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--child-poll", default="")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    if args.child_poll:
        child_poll(args.child_poll)
        return

    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from apps.accounts.models import User
    from apps.accounts.roles import Role, sync_role_groups

    sync_role_groups()
    agents = []
    for i in range(10):
        user, _ = User.objects.get_or_create(username=f"bench.agent{i}")
        user.groups.set([Group.objects.get(name=Role.CARE_AGENT.value)])
        agents.append(user)
    lead, _ = User.objects.get_or_create(username="bench.lead")
    lead.groups.set([Group.objects.get(name=Role.CARE_LEAD.value)])
    client = Client()
    client.force_login(lead)
    results: dict[str, str] = {}

    generate_cases(1_000)
    small_ms, small_queries = measure_page(client, "/care/", 10)
    print(f"queue, 1,000 open cases: {small_ms:.1f} ms, {small_queries} queries", flush=True)
    started = time.perf_counter()
    generate_cases(args.cases)
    print(f"generated {args.cases} open cases in {time.perf_counter() - started:.1f} s", flush=True)
    big_ms, big_queries = measure_page(client, "/care/", 10)
    mine_ms, mine_queries = measure_page(client, "/care/?mine=1", 10)
    agent_client = Client()
    agent_client.force_login(agents[0])
    agent_ms, _ = measure_page(agent_client, "/care/?mine=1", 10)
    team_ms, team_queries = measure_page(client, "/care/team/", 3)
    print(f"queue, {args.cases} open cases: {big_ms:.1f} ms, {big_queries} queries", flush=True)
    print(f"agent's own queue: {agent_ms:.1f} ms; team view: {team_ms:.0f} ms", flush=True)
    results["queue"] = (
        f"| queue page, {args.cases:,} open cases (test Client, median of 10) | < 200 ms, "
        f"constant queries | **{big_ms:.0f} ms**, {big_queries} queries "
        f"(1,000 cases: {small_ms:.0f} ms, {small_queries} queries) |\n"
        f"| an agent's own queue (`?mine=1`) | — | {agent_ms:.0f} ms |\n"
        f"| team view (counts by agent, state and time left; figures of every agent) | — | "
        f"{team_ms:.0f} ms, {team_queries} queries |"
    )

    proc, host_port, root = start_dovecot()
    try:
        reply_to = list(
            __import__("apps.customer_care.models", fromlist=["Case"])
            .Case.objects.order_by("pk")
            .values_list("pk", flat=True)[:200]
        )
        small_append = append_messages(host_port, "small", 1_000, reply_to=reply_to)
        append_s = append_messages(host_port, "big", args.messages, reply_to=reply_to)
        print(f"appended {args.messages} messages in {append_s:.1f} s", flush=True)
        small = run_poll(f"imap://small:bench@{host_port}/INBOX")
        big = run_poll(f"imap://big:bench@{host_port}/INBOX")
        print(f"poll 1,000: {small}", flush=True)
        print(f"poll {args.messages}: {big}", flush=True)
        del small_append
        results["imap"] = (
            f"| ingest {args.messages:,} messages from dovecot (one poll, child process) | < 60 s |"
            f" **{big['seconds']:.1f} s** ({args.messages / big['seconds']:.0f} messages/s; "
            f"{big['counts']['opened']} opened, {big['counts']['threaded']} threaded) |\n"
            f"| … its peak RSS, against a poll of 1,000 messages | flat | "
            f"**{big['peak_mib']:.0f} MiB** (1,000 messages: {small['peak_mib']:.0f} MiB) |"
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)

    table = "| measure | target | result |\n|---|---|---|\n" + "\n".join(results.values())
    print(table)
    if args.write_readme:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        start, end = "<!-- customer_care:start -->", "<!-- customer_care:end -->"
        section = (
            f"{start}\n## Customer care (`bench/care_bench.py`)\n\n"
            "`.venv/bin/python scripts/testservers.py run -- .venv/bin/python bench/care_bench.py "
            "--write-readme` (private PostgreSQL 15 and Redis, Debian's dovecot on loopback, "
            f"2 CPUs shared with other engineers' runs, Python {sys.version.split()[0]}, "
            "`DEBUG=0`).\n\n" + table + "\n" + end
        )
        if start in text:
            text = text.split(start)[0] + section + text.split(end, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + section + "\n"
        readme.write_text(text)


if __name__ == "__main__":
    main()
