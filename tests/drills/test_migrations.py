"""Drills' own improvement actions moved into the evaluations' table without losing a row:
migrated from a database that holds one, it is on the evaluations' board, linked to its drill."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_MOVE = [("drills", "0002_default_courses")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_the_move():
    """The schema as it was while drills kept their own actions; the latest schema afterwards."""
    try:
        yield _migrate(BEFORE_THE_MOVE)
    finally:
        _migrate(None)


@pytest.mark.django_db(transaction=True)
def test_a_drill_action_written_before_the_move_is_an_evaluations_action_afterwards(
    before_the_move,
):
    from apps.drills import services as drills
    from tests.drills.factories import DrillPlanFactory
    from tests.factories import UserFactory

    manager = UserFactory(roles=["manager"])
    owner = UserFactory(roles=["tech_support"])
    run = drills.start_drill(plan=DrillPlanFactory(), by=manager)
    old = before_the_move.get_model("drills", "ImprovementAction")
    old.objects.create(
        run_id=run.pk,
        description="Update the phone list\nand print it for the war room",
        owner_id=owner.pk,
        due_on=date(2026, 12, 24),
        state="done",
        created_by_id=None,  # recorded before creators were kept
    )

    _migrate(None)

    from apps.drills.models import DrillRun
    from apps.evaluations.models import ImprovementAction

    moved = ImprovementAction.objects.get()
    assert moved.title == "Update the phone list"
    assert moved.description == "Update the phone list\nand print it for the war room"
    assert (moved.category, moved.owner_id, moved.due, moved.state) == (
        "drills",
        owner.pk,
        date(2026, 12, 24),
        "done",
    )
    assert moved.source == DrillRun.objects.get(pk=run.pk)
    assert moved.created_by_id == owner.pk  # no creator recorded: the owner stands in
    assert moved.done_at is not None
    assert moved.history.get().history_change_reason == "copied from drills"
    assert "drills_improvementaction" not in connection.introspection.table_names()
