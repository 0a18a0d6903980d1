import importlib

import pytest

# The backup fixtures: private stores and master key per test, real PostgreSQL order systems.
from tests.backups.conftest import (  # noqa: F401
    backup_settings,
    default_scopes,
    scratch_db,
)


@pytest.fixture
def default_courses(db):
    """The plan's courses come from a data migration; transactional tests flush them."""
    from django.apps import apps

    importlib.import_module("apps.drills.migrations.0002_default_courses").create_courses(
        apps, None
    )


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="mgr", first_name="Mei", language="en")
