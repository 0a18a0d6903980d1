"""The order-system gateway: the one way in, scratch databases only by name, no import circles."""

import ast
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from apps.backups.engine import gateway
from apps.backups.engine.gateway import ScratchNameError
from tests.conftest import pg_server_url

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "apps" / "backups" / "engine"
# What code outside the engine may import from it: the package (its __init__ re-exports the
# public API) and the gateway. Every other engine module is private.
PUBLIC = {"apps.backups.engine", "apps.backups.engine.gateway"}


def _db_exists(name: str) -> bool:
    with psycopg.connect(pg_server_url("postgres"), autocommit=True) as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def _drop(name: str) -> None:
    with psycopg.connect(pg_server_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_import_graph_of_apps_has_no_circles():
    # The shared folder sits beside the clone (CI, /work/main); a git worktree is one level
    # further down (/work/wt/<name>).
    candidates = [REPO.parent / "shared", REPO.parent.parent / "shared"]
    tools = [c / "tools" / "import_cycles.py" for c in candidates]
    tool = next((t for t in tools if t.exists()), None)
    if tool is None:
        pytest.skip(f"the import-cycle tool is not beside the clone ({tools[0]} is absent)")
    out = subprocess.run(
        [sys.executable, str(tool), "apps"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "", f"import circles in apps/: {out.stdout}"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Absolute names of every module ``path`` imports (also inside functions), with the line."""
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)] if node.level else []
            mod = ".".join([*base, *([node.module] if node.module else [])])
            # "from apps.backups.engine import postgres" imports a module too.
            found += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
            found.append((node.lineno, mod))
    return found


def _private_engine_module(name: str) -> bool:
    if not name.startswith("apps.backups.engine."):
        return False
    top = ".".join(name.split(".")[:4])  # apps.backups.engine.<module>
    return top not in PUBLIC and (ENGINE / f"{name.split('.')[3]}.py").exists()


def test_no_module_outside_the_engine_imports_its_private_parts():
    offenders = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in sorted((REPO / "apps").rglob("*.py"))
        if ENGINE not in path.parents
        for line, name in _imported_modules(path)
        if _private_engine_module(name)
    ]
    assert offenders == []


def test_the_private_import_check_catches_a_relative_import_of_an_adapter(tmp_path):
    """The check above is not vacuous: the forms it must catch are recognised as private."""
    assert _private_engine_module("apps.backups.engine.postgres")
    assert _private_engine_module("apps.backups.engine.sources.parse_url")
    assert _private_engine_module("apps.backups.engine.checks")
    assert not _private_engine_module("apps.backups.engine.gateway.connect")
    assert not _private_engine_module("apps.backups.engine.CheckError")
    models = REPO / "apps" / "backups" / "models.py"
    names = [name for _line, name in _imported_modules(models)]
    assert "apps.backups.engine.gateway.check_shape" in names  # relative import resolved


@pytest.mark.django_db
def test_scratch_database_creation_refuses_a_name_that_is_not_a_scratch_name(settings):
    stranger = f"not_scratch_{uuid.uuid4().hex[:8]}"
    for url in (
        pg_server_url(stranger),
        settings.ORDER_SYSTEM_DATABASE_URL,
        pg_server_url(connection.settings_dict["NAME"]),
        pg_server_url("postgres"),
    ):
        with pytest.raises(ScratchNameError):
            gateway.create_scratch_database(url)
        with pytest.raises(ScratchNameError):
            gateway.drop_scratch_database(url)
    assert not _db_exists(stranger)
    assert _db_exists(connection.settings_dict["NAME"])  # the refused drop dropped nothing


@pytest.mark.django_db
def test_a_configured_scratch_target_is_created_and_dropped(settings):
    name = f"rehearsal_{uuid.uuid4().hex[:8]}"
    settings.BACKUP_SCRATCH_TARGETS = {"rehearsal": pg_server_url(name)}
    try:
        gateway.create_scratch_database(pg_server_url(name))
        assert _db_exists(name)
        gateway.drop_scratch_database(pg_server_url(name))
        assert not _db_exists(name)
    finally:
        _drop(name)


@pytest.mark.django_db
def test_a_throw_away_database_beside_the_order_system_is_removed_afterwards():
    with gateway.scratch_database() as url:
        name = url.rsplit("/", 1)[1]
        assert gateway.is_scratch_url(url) and _db_exists(name)
        with gateway.connect(url) as db:
            assert db.q("SELECT 1") == [(1,)]
    assert not _db_exists(name)


def test_ping_names_the_database_without_its_password_or_says_why_not():
    assert gateway.ping(pg_server_url("postgres")).display.endswith("/postgres")
    with pytest.raises(gateway.SourceUnreachableError):
        gateway.ping("postgresql://someone:secret@127.0.0.1:1/nowhere", timeout=1)


def test_the_demo_seed_counts_orders_through_the_gateway_and_zero_when_there_are_none(tmp_path):
    from apps.backups import demo_order_system

    path = tmp_path / "orders.sqlite3"
    assert demo_order_system.count_orders(f"sqlite:///{path}") == 0  # no file: not created
    assert not path.exists()
    with gateway.connect(f"sqlite:///{path}") as db:
        db.q("CREATE TABLE unrelated (id INTEGER)")
    assert demo_order_system.count_orders(f"sqlite:///{path}") == 0  # no orders table yet
    demo_order_system.seed_sqlite(str(path), orders=40)
    assert demo_order_system.count_orders(f"sqlite:///{path}") == 40
    assert demo_order_system.count_orders("postgresql://someone@127.0.0.1:1/nowhere") == 0
