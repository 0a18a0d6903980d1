import importlib

import pytest


@pytest.fixture(autouse=True)
def default_templates(request):
    """The plan's checklists come from a data migration; transactional tests flush them."""
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        from django.apps import apps

        module = importlib.import_module("apps.incidents.migrations.0002_default_task_templates")
        module.create_templates(apps, None)
