import importlib

import pytest


@pytest.fixture
def plan_data(transactional_db):
    """The plan's backup scopes and checklist templates and the training courses come from data migrations, which a
    transactional test flushes: put them back so the pages show what they show in production."""
    from django.apps import apps

    for module, function in (
        ("apps.backups.migrations.0002_default_scopes", "create_scopes"),
        ("apps.incidents.migrations.0002_default_task_templates", "create_templates"),
        ("apps.drills.migrations.0002_default_courses", "create_courses"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)
