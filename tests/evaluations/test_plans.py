"""The living plan: proposals approved into numbered versions; running incidents keep theirs."""

import pytest
from django.utils import timezone

from apps.core.errors import DomainError
from apps.evaluations.choices import ProposalState
from apps.evaluations.errors import EvaluationError
from apps.evaluations.models import PlanVersion
from apps.evaluations.services import (
    compare_versions,
    decide_plan_change,
    propose_plan_change,
    version_for,
)
from apps.incidents.models import TaskTemplate
from apps.incidents.services import declare_incident

from .factories import ImprovementActionFactory

pytestmark = pytest.mark.django_db

NEW_ITEM = {
    "phase": "emergency_response",
    "title_zh": "通知仓库暂停发货",
    "title_en": "Tell the warehouse to pause dispatch",
    "team_role": "logistics",
    "due_after_minutes": 20,
}


def _declare(manager):
    return declare_incident(
        title="Upgrade failed", severity="critical", detected_at=timezone.now(), by=manager
    )


def test_an_approved_addition_reaches_new_incidents_and_running_ones_keep_their_tasks(manager):
    running = _declare(manager)
    before = set(running.tasks.values_list("title_en", flat=True))
    change = propose_plan_change(kind="add", fields=NEW_ITEM, reason="Drill finding", by=manager)
    change = decide_plan_change(change=change, approve=True, by=manager)

    assert change.state == ProposalState.APPROVED
    assert [v.number for v in PlanVersion.objects.order_by("number")] == [1, 2]
    assert set(running.tasks.values_list("title_en", flat=True)) == before
    newer = _declare(manager)
    assert NEW_ITEM["title_en"] in set(newer.tasks.values_list("title_en", flat=True))
    assert version_for(running.declared_at).number == 1
    assert version_for(newer.declared_at).number == 2


def test_retiring_an_item_keeps_it_in_the_old_version_and_compares_as_removed(manager):
    template = TaskTemplate.objects.filter(is_active=True).first()
    change = propose_plan_change(kind="retire", template=template, by=manager)
    decide_plan_change(change=change, approve=True, by=manager)
    v1, v2 = PlanVersion.objects.order_by("number")
    assert template.pk in {i["template_id"] for i in v1.items}
    assert template.pk not in {i["template_id"] for i in v2.items}
    rows = {r["left"]["template_id"]: r for r in compare_versions(v1, v2) if r["left"]}
    assert rows[template.pk]["status"] == "removed"
    template.refresh_from_db()
    assert template.is_active is False


def test_comparing_two_versions_marks_changed_fields_and_added_items(manager):
    template = TaskTemplate.objects.filter(is_active=True).first()
    change = propose_plan_change(
        kind="change", template=template, fields={"due_after_minutes": 5}, by=manager
    )
    decide_plan_change(change=change, approve=True, by=manager)
    decide_plan_change(
        change=propose_plan_change(kind="add", fields=NEW_ITEM, by=manager),
        approve=True,
        by=manager,
    )
    v1 = PlanVersion.objects.get(number=1)
    v3 = PlanVersion.objects.get(number=3)
    rows = compare_versions(v1, v3)
    changed = [r for r in rows if r["status"] == "changed"]
    added = [r for r in rows if r["status"] == "added"]
    assert [(r["left"]["template_id"], r["changed"]) for r in changed] == [
        (template.pk, ["due_after_minutes"])
    ]
    assert [r["right"]["title_en"] for r in added] == [NEW_ITEM["title_en"]]
    assert sum(r["status"] == "same" for r in rows) == len(v1.items) - 1


def test_a_rejected_proposal_changes_nothing(manager):
    count = TaskTemplate.objects.filter(is_active=True).count()
    change = propose_plan_change(kind="add", fields=NEW_ITEM, by=manager)
    decide_plan_change(change=change, approve=False, by=manager)
    assert TaskTemplate.objects.filter(is_active=True).count() == count
    assert not PlanVersion.objects.exists()


def test_a_proposal_is_decided_once(manager):
    change = propose_plan_change(kind="add", fields=NEW_ITEM, by=manager)
    decide_plan_change(change=change, approve=True, by=manager)
    with pytest.raises(DomainError) as exc:
        decide_plan_change(change=change, approve=True, by=manager)
    assert exc.value.code == EvaluationError.PROPOSAL_DECIDED
    assert PlanVersion.objects.count() == 2


@pytest.mark.parametrize(
    ("kind", "fields", "code"),
    [
        ("add", {"phase": "emergency_response"}, EvaluationError.ITEM_FIELDS_REQUIRED),
        ("change", {}, EvaluationError.TEMPLATE_REQUIRED),
        ("retire", {}, EvaluationError.TEMPLATE_REQUIRED),
    ],
)
def test_an_incomplete_proposal_is_refused_with_a_code(manager, kind, fields, code):
    with pytest.raises(DomainError) as exc:
        propose_plan_change(kind=kind, fields=fields, by=manager)
    assert exc.value.code == code


def test_a_change_that_changes_nothing_is_refused(manager):
    template = TaskTemplate.objects.filter(is_active=True).first()
    with pytest.raises(DomainError) as exc:
        propose_plan_change(
            kind="change",
            template=template,
            fields={"due_after_minutes": template.due_after_minutes},
            by=manager,
        )
    assert exc.value.code == EvaluationError.NOTHING_CHANGED


def test_a_proposal_can_come_from_an_improvement_action(manager):
    action = ImprovementActionFactory(owner=manager)
    change = propose_plan_change(kind="add", fields=NEW_ITEM, action=action, by=manager)
    assert list(action.plan_changes.all()) == [change]


def test_an_edit_on_the_templates_page_becomes_the_next_plan_version(client, manager):
    """The living plan has no side door: the incidents' templates page (and the admin) change
    the checklist through the same service, and each change is a version from then on."""
    from django.urls import reverse

    running = _declare(manager)
    template = TaskTemplate.objects.filter(is_active=True).order_by("pk").first()
    old_title = template.title_en
    client.force_login(manager)
    edited = {
        "phase": template.phase,
        "title_zh": template.title_zh,
        "title_en": "Call the payment provider first",
        "team_role": template.team_role,
        "due_after_minutes": template.due_after_minutes,
        "position": template.position,
        "is_active": "on",
    }
    response = client.post(reverse("incidents:template-edit", args=[template.pk]), edited)
    assert response.status_code == 302
    versions = list(PlanVersion.objects.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    before = {i["template_id"]: i["title_en"] for i in versions[0].items}
    after = {i["template_id"]: i["title_en"] for i in versions[1].items}
    assert (before[template.pk], after[template.pk]) == (
        old_title,
        "Call the payment provider first",
    )
    assert versions[1].approved_by == manager
    assert version_for(running.declared_at).number == 1
    assert version_for(_declare(manager).declared_at).number == 2
    # Saving again without a change adds no version; an approved proposal still adds exactly one.
    client.post(reverse("incidents:template-edit", args=[template.pk]), edited)
    assert PlanVersion.objects.count() == 2
    change = propose_plan_change(kind="add", fields=NEW_ITEM, reason="Drill finding", by=manager)
    decide_plan_change(change=change, approve=True, by=manager)
    assert [v.number for v in PlanVersion.objects.order_by("number")] == [1, 2, 3]
