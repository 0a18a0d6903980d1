"""Run one service call in a fresh Django process and print its peak memory as JSON.

``python tests/peak_rss.py apps.x.services.f '{"kwarg": 1}'`` — used by the tests that prove an
upload check keeps a worker's memory flat, and by ``bench/upload_bench.py``.

The call runs in a child of this small launcher, which reads the child's peak with
``resource.getrusage(RUSAGE_CHILDREN)``: a process's own ``ru_maxrss`` would include the peak of
whatever started it (Linux carries it across ``exec``), here a large test runner.
"""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(func_path: str, kwargs_json: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
    import django

    django.setup()
    from django.utils.module_loading import import_string

    func = import_string(func_path)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        result, error = func(**json.loads(kwargs_json)), ""
    except Exception as exc:  # noqa: BLE001 - reported to the caller
        result, error = None, f"{type(exc).__name__}: {exc}"
    report = {"baseline_mib": baseline / 1024, "result": result, "error": error}
    print(json.dumps(report, default=str))


def measure(func_path: str, *, env: dict[str, str], timeout: float = 600, **kwargs) -> dict:
    """Run ``func_path(**kwargs)`` in a fresh process with ``env``; its report with peak_mib."""
    done = subprocess.run(
        [sys.executable, __file__, func_path, json.dumps(kwargs)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# What a worker may reach checking any upload within the limits (issue 12, section 4).
LIMIT_MIB = 256


def measure_on_test_db(func_path: str, **kwargs) -> dict:
    """``measure`` in a child that sees this test's database, with messages in English."""
    from tests.conftest import subprocess_env

    report = measure(func_path, env=subprocess_env(DEFAULT_LANGUAGE="en"), **kwargs)
    print(report)
    return report


def main() -> None:
    if sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    done = subprocess.run(
        [sys.executable, __file__, "--child", *sys.argv[1:3]],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        sys.exit(done.returncode)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["peak_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB
    print(json.dumps(report))


if __name__ == "__main__":
    main()
