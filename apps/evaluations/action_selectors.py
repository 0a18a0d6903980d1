"""Read-side queries of the improvement actions (10.2): the board, and the actions of a finding.

Apart from ``selectors`` (which reads the other apps' figures through ``sources``) so that apps
whose findings cause actions (drills) can read them without importing the evaluations' sources,
which in turn call those apps' selectors.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, QuerySet

from .choices import ActionState
from .models import ImprovementAction


def open_actions():
    return (
        ImprovementAction.objects.filter(state__in=ActionState.open_states())
        .select_related("owner", "source_type")
        .order_by("owner__username", "category", "due", "pk")
    )


def actions_from(
    source_model: type[models.Model], *, open_only: bool = False
) -> QuerySet[ImprovementAction]:
    """Every improvement action whose finding is a row of ``source_model`` (e.g. drill runs)."""
    qs = ImprovementAction.objects.filter(
        source_type=ContentType.objects.get_for_model(source_model)
    ).select_related("owner")
    return qs.filter(state__in=ActionState.open_states()) if open_only else qs


def actions_for(source: models.Model) -> QuerySet[ImprovementAction]:
    """The improvement actions caused by one finding (a drill run, a case, a report)."""
    return actions_from(type(source)).filter(source_id=source.pk)


def action_board() -> dict[str, Any]:
    """Open actions grouped by owner, and counted by category."""
    actions = list(open_actions())
    by_owner: dict[Any, list[ImprovementAction]] = defaultdict(list)
    for action in actions:
        by_owner[action.owner].append(action)
    by_category = dict(
        ImprovementAction.objects.filter(state__in=ActionState.open_states())
        .values_list("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    return {"actions": actions, "by_owner": dict(by_owner), "by_category": by_category}
