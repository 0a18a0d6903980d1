"""The stock counts' thresholds are declared once in settings.py, from the environment."""

import subprocess
import sys

from tests.test_settings_and_embedded import ROOT, _clean_env

NAMES = (
    "INVENTORY_PLAUSIBLE_MAX_PER_BIN",
    "INVENTORY_RECOUNT_THRESHOLD_PCT",
    "INVENTORY_RECOUNT_MIN_UNITS",
    "INVENTORY_DUPLICATE_WINDOW_SECONDS",
)


def _read(tmp_path, **env) -> list[str]:
    show = (
        "from django.conf import settings; print("
        + ", ".join(f"str(settings.{n})" for n in NAMES)
        + ")"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=ROOT,
        env=_clean_env(VAR_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1].split()


def test_count_thresholds_have_defaults_and_come_from_the_environment(tmp_path):
    assert _read(tmp_path) == ["100000", "5", "0", "120"]
    assert _read(
        tmp_path,
        INVENTORY_PLAUSIBLE_MAX_PER_BIN="500",
        INVENTORY_RECOUNT_THRESHOLD_PCT="2.5",
        INVENTORY_RECOUNT_MIN_UNITS="3",
        INVENTORY_DUPLICATE_WINDOW_SECONDS="30",
    ) == ["500", "2.5", "3", "30"]
