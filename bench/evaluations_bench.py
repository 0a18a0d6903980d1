"""Benchmark the evaluation reports: a quarterly review over 500 incidents, and one report's PDF.

    .venv/bin/python scripts/testservers.py run -- .venv/bin/python bench/evaluations_bench.py \
        [--incidents 500] [--write-readme]

Creates (and migrates) a scratch database next to DATABASE_URL's (``bench_evaluations``) and
generates, in one quarter, N incidents each with 4 team members, 20 tasks, 30 timeline entries,
2 meetings (4 attendees, 2 decisions), 3 resources; plus 4 manual orders, one restore and 6
customer-care cases (4 resolved, each with an answered survey) per incident. Measures the review
page (test Client, ``DEBUG=0``) and its query count, the review selector alone, and one report's
PDF (WeasyPrint, charts included). ``--write-readme`` replaces the section between the
``evaluations`` markers of ``bench/README.md`` with the figures of the run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["JOB_RUNNER"] = "sync"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if "DATABASE_URL" in os.environ:
    os.environ["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/bench_evaluations"
else:
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/bench_evaluations"


def ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def median_ms(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), times


def median_cpu_ms(fn, runs: int) -> float:
    """CPU time of this process alone: what wall time would be without the machine's queue."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def generate(n: int, start: datetime) -> None:
    from django.contrib.auth.models import Group

    from apps.accounts.models import User
    from apps.backups.models import RestoreRun
    from apps.incidents.models import (
        Incident,
        Meeting,
        MeetingDecision,
        ResourceAllocation,
        Task,
        TeamMember,
        TimelineEntry,
    )
    from apps.manual_orders.models import Customer, ManualOrder

    if Incident.objects.filter(title__startswith="bench ").count() >= n:
        return
    print(f"generating {n} incidents…", flush=True)
    group = Group.objects.get(name="tech_support")
    users = []
    for i in range(8):
        u, _ = User.objects.get_or_create(username=f"bench.member{i}")
        u.groups.set([group])
        users.append(u)
    customer, _ = Customer.objects.get_or_create(
        name="Bench customer", defaults={"phone": "13800000000"}
    )
    step = timedelta(days=88) / n
    incidents = []
    for i in range(n):
        detected = start + step * i
        incidents.append(
            Incident(
                title=f"bench {i}",
                severity="high",
                state="closed",
                detected_at=detected,
                declared_at=detected + timedelta(minutes=10),
                team_assembled_at=detected + timedelta(minutes=30 + i % 20),
                manual_process_at=detected + timedelta(minutes=60),
                recovered_at=detected + timedelta(minutes=120 + i % 90),
                closed_at=detected + timedelta(minutes=240),
            )
        )
    incidents = Incident.objects.bulk_create(incidents, batch_size=500)
    members, tasks, entries, resources, meetings, orders, restores = [], [], [], [], [], [], []
    for inc in incidents:
        t = inc.detected_at
        for k in range(4):
            members.append(
                TeamMember(
                    incident=inc,
                    user=users[k],
                    team_role=["leader", "tech_support", "business_support", "logistics"][k],
                    assigned_at=t + timedelta(minutes=12 + k),
                    acknowledged_at=t + timedelta(minutes=15 + 3 * k) if k < 3 else None,
                )
            )
        for k in range(20):
            tasks.append(
                Task(
                    incident=inc,
                    phase="problem_fix",
                    title_zh=f"任务 {k}",
                    title_en=f"Task {k}",
                    team_role="tech_support",
                    due_at=t + timedelta(minutes=60 + 5 * k),
                    state="done" if k % 4 else "todo",
                    completed_at=t + timedelta(minutes=50 + 6 * k) if k % 4 else None,
                )
            )
        for k in range(30):
            entries.append(
                TimelineEntry(
                    incident=inc,
                    at=t + timedelta(minutes=20 + k),
                    kind="task.updated",
                    data={"state": "in_progress" if k % 2 else "done"},
                )
            )
        for _k in range(3):
            resources.append(
                ResourceAllocation(
                    incident=inc,
                    kind="server",
                    description="standby",
                    quantity=Decimal(2),
                    state="released",
                    requested_at=t + timedelta(minutes=20),
                    allocated_at=t + timedelta(minutes=30),
                    released_at=t + timedelta(minutes=200),
                )
            )
        for k in range(2):
            meetings.append(
                Meeting(incident=inc, held_at=t + timedelta(minutes=40 + 30 * k), title="sync")
            )
        for k in range(4):
            orders.append(
                ManualOrder(
                    number=f"B{uuid.uuid4().hex[:12]}",
                    idempotency_key=uuid.uuid4(),
                    customer=customer,
                    channel="phone",
                    received_at=t + timedelta(minutes=70 + k),
                    delivery_address="x",
                    created_by=users[0],
                    created_at=t + timedelta(minutes=70 + k),
                    pushed_at=t + timedelta(minutes=150) if k % 2 else None,
                )
            )
        restores.append(RestoreRun(target_label="scratch", state="complete"))
    TeamMember.objects.bulk_create(members, batch_size=2000)
    tasks = Task.objects.bulk_create(tasks, batch_size=2000)
    TimelineEntry.objects.bulk_create(entries, batch_size=2000)
    ResourceAllocation.objects.bulk_create(resources, batch_size=2000)
    meetings = Meeting.objects.bulk_create(meetings, batch_size=2000)
    Attendee = Meeting.attendees.through
    Attendee.objects.bulk_create(
        [Attendee(meeting_id=m.pk, user_id=users[k].pk) for m in meetings for k in range(4)],
        batch_size=5000,
    )
    MeetingDecision.objects.bulk_create(
        [
            MeetingDecision(meeting=m, text="do it", task=tasks[2 * j])
            for j, m in enumerate(meetings)
        ]
        + [MeetingDecision(meeting=m, text="later") for m in meetings],
        batch_size=2000,
    )
    ManualOrder.objects.bulk_create(orders, batch_size=2000)
    restores = RestoreRun.objects.bulk_create(restores, batch_size=2000)
    for inc, run in zip(incidents, restores, strict=True):
        RestoreRun.objects.filter(pk=run.pk).update(
            created_at=inc.detected_at + timedelta(minutes=40),
            finished_at=inc.detected_at + timedelta(minutes=75),
        )


def generate_cases(start: datetime) -> None:
    """6 cases per bench incident, opened in its window: 1 complaint, 4 resolved with a survey."""
    from apps.customer_care.models import Case, Survey
    from apps.incidents.models import Incident
    from apps.manual_orders.models import Customer

    if Case.objects.filter(subject__startswith="bench ").exists():
        return
    print("generating customer-care cases…", flush=True)
    customer = Customer.objects.get(name="Bench customer")
    cases = []
    for detected in Incident.objects.filter(title__startswith="bench ").values_list(
        "detected_at", flat=True
    ):
        for k in range(6):
            opened = detected + timedelta(minutes=30 + 10 * k)
            cases.append(
                Case(
                    customer=customer,
                    channel="phone",
                    case_type="complaint" if k == 0 else "order_query",
                    subject=f"bench {k}",
                    state="resolved" if k < 4 else "open",
                    created_at=opened,
                    first_response_due=opened + timedelta(hours=1),
                    resolution_due=opened + timedelta(hours=24),
                    due_at=opened + timedelta(hours=1),
                    first_responded_at=opened + timedelta(minutes=5 + k),
                    resolved_at=opened + timedelta(minutes=90 + 10 * k) if k < 4 else None,
                )
            )
    cases = Case.objects.bulk_create(cases, batch_size=2000)
    Survey.objects.bulk_create(
        [
            Survey(
                case=case,
                nonce=uuid.uuid4().hex,
                sent_at=case.resolved_at,
                score=1 + n % 5,
                answered_at=case.resolved_at + timedelta(minutes=30),
            )
            for n, case in enumerate(cases)
            if case.resolved_at is not None
        ],
        batch_size=2000,
    )


def write_readme(lines: list[str], cells: dict[str, str]) -> None:
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    start, end = "<!-- evaluations:start -->", "<!-- evaluations:end -->"
    table = "\n".join(
        [
            "| measure | target | result (wall) | CPU time of the process |",
            "|---|---|---|---|",
            f"| quarterly review page, {cells['n']} incidents (test Client, 3 trend charts, "
            f"{cells['rows']} rows) | < 500 ms | **{cells['page']}** | {cells['page_cpu']} |",
            f"| … number of queries | bounded | **{cells['queries']}** ({cells['sql']} of SQL), "
            "the same for 5 or 50 incidents (`tests/evaluations/test_views.py`) | — |",
            f"| `periodic_review()` selector alone | — | {cells['selector']} | "
            f"{cells['selector_cpu']} |",
            f"| one report's PDF (WeasyPrint, SVG charts, Noto Sans CJK) | < 3 s | "
            f"**{cells['pdf']}** | {cells['pdf_cpu']} |",
            f"| … the first PDF in a process (loads pango and the fonts) | — | "
            f"{cells['first_pdf']} | — |",
        ]
    )
    section = (
        f"{start}\n## Evaluation reports (`bench/evaluations_bench.py`)\n\n"
        "`.venv/bin/python scripts/testservers.py run -- .venv/bin/python "
        "bench/evaluations_bench.py --write-readme`\n"
        f"(a private PostgreSQL started by `testservers.py`, {os.cpu_count()} CPUs shared with "
        f"other engineers' runs, Python {sys.version.split()[0]}, `DEBUG=0`; the script creates and "
        f"migrates `bench_evaluations` and generates, in Q3 2026, **{cells['n']} incidents** each "
        "with 4 team members, 20 tasks, 30 timeline entries, 2 meetings (4 attendees, 2 "
        "decisions), 3 resources, 4 manual orders, 1 restore run and 6 customer-care cases "
        "(4 resolved, each with an answered survey)). "
        f"**Load average during the run: {cells['load']}.**\n\n"
        + table
        + "\n\n```\n"
        + "\n".join(lines)
        + "\n```\n"
        + end
    )
    if start in text:
        text = text.split(start)[0] + section + text.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    readme.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.accounts.roles import sync_role_groups
    from apps.evaluations.exports import report_pdf
    from apps.evaluations.selectors import periodic_review, quarter_range
    from apps.evaluations.services import compute_report
    from apps.incidents.models import Incident

    sync_role_groups()
    manager, _ = User.objects.get_or_create(username="bench.manager")
    manager.groups.set([Group.objects.get(name="manager")])
    start, end = quarter_range(2026, 3)
    generate(args.incidents, start + timedelta(days=1))
    generate_cases(start)
    n = Incident.objects.filter(declared_at__gte=start, declared_at__lt=end).count()

    load_before = os.getloadavg()[0]
    selector_ms, _ = median_ms(lambda: periodic_review(start, end), args.runs)
    selector_cpu = median_cpu_ms(lambda: periodic_review(start, end), args.runs)
    client = Client()
    client.force_login(manager)
    url = reverse("evaluations:review")
    params = {"period": "quarter", "year": 2026, "quarter": 3}
    assert client.get(url, params).status_code == 200  # warm-up (templates, translations)
    page_ms, page_runs = median_ms(lambda: client.get(url, params), args.runs)
    page_cpu = median_cpu_ms(lambda: client.get(url, params), args.runs)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url, params).content.decode()
    rows = len(re.findall(r"/evaluations/incidents/\d+/", html))

    incident = Incident.objects.filter(title__startswith="bench ").order_by("pk").first()
    report = compute_report(incident=incident, by=manager)
    with timezone.override("Asia/Shanghai"):
        t0 = time.perf_counter()
        report_pdf(report)
        first_pdf = (time.perf_counter() - t0) * 1000
        pdf_ms, pdf_runs = median_ms(lambda: report_pdf(report), 3)
        pdf_cpu = median_cpu_ms(lambda: report_pdf(report), 3)

    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    loads = [load_before, os.getloadavg()[0]]
    load = os.getloadavg()[0]
    lines = [
        f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs",
        f"incidents in the quarter: {n}; review rows on the page: {rows}",
        f"periodic_review() selector: {selector_ms:.0f} ms wall, {selector_cpu:.0f} ms CPU"
        f" (medians of {args.runs})",
        f"review page (test Client): {page_ms:.0f} ms median of {args.runs} "
        f"({', '.join(f'{t:.0f}' for t in page_runs)}), {page_cpu:.0f} ms CPU, "
        f"{len(queries)} queries taking {sql_ms:.0f} ms",
        f"one report's PDF: {pdf_ms:.0f} ms median of 3 ({', '.join(f'{t:.0f}' for t in pdf_runs)});"
        f" {pdf_cpu:.0f} ms CPU; first in the process {first_pdf:.0f} ms",
    ]
    print("\n".join(lines))
    if args.write_readme:
        write_readme(
            lines,
            {
                "n": f"{n:,}",
                "rows": f"{rows:,}",
                "page": f"{page_ms:.0f} ms (median of {args.runs})",
                "page_cpu": f"{page_cpu:.0f} ms",
                "queries": str(len(queries)),
                "sql": f"{sql_ms:.0f} ms",
                "selector": f"{selector_ms:.0f} ms",
                "selector_cpu": f"{selector_cpu:.0f} ms",
                "pdf": f"{pdf_ms:.0f} ms (median of 3)",
                "pdf_cpu": f"{pdf_cpu:.0f} ms",
                "first_pdf": f"{first_pdf:.0f} ms",
                "load": f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs "
                "(1-minute average at the start and the end)",
            },
        )


if __name__ == "__main__":
    main()
