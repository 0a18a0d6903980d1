"""The documented production path, end to end: collectstatic with the production storage, gunicorn
with production settings, pages and their assets served by WhiteNoise."""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.conftest import subprocess_env, wait_for
from tests.factories import PASSWORD, UserFactory
from tests.test_settings_and_embedded import PROD_ENV, ROOT, _clean_env, _free_port, _manage

GUNICORN = Path(sys.executable).with_name("gunicorn")


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Production settings on this test's database, served over plain HTTP on loopback."""
    env = subprocess_env()
    for name in ("JOB_RUNNER", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"):
        env.pop(name, None)
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=PROD_ENV["SECRET_KEY"],
        ALLOWED_HOSTS="127.0.0.1",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        INSECURE_HTTP="true",
        VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        **extra,
    )
    return env


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.slow
def test_production_collects_static_files_and_gunicorn_serves_pages_with_their_assets(
    transactional_db, tmp_path
):
    user = UserFactory(username="prod_smoke", roles=["tech_support"])
    # The suite's fast test hasher is unknown to the production process: hash as production does.
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    env = _production_env(tmp_path)

    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(GUNICORN), "recovery_site.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(cookies), _NoRedirect()
    )

    def get(path: str):
        try:
            with browser.open(base + path, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    try:

        def login_page():
            try:
                return get("/accounts/login/")
            except OSError:
                return None

        status, headers, body = wait_for(
            login_page, timeout=90, interval=0.3, message="gunicorn did not answer"
        )
        page = body.decode()
        assert status == 200, page[:2000]
        assert 'name="username"' in page
        assert "script-src 'self'" in headers["Content-Security-Policy"]

        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
        assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
        for asset in assets:
            # The manifest storage serves names carrying the content hash.
            assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", asset), asset
            asset_status, asset_headers, asset_body = get(asset)
            assert asset_status == 200, asset
            assert asset_body
            kind = "text/css" if asset.endswith(".css") else "javascript"
            assert kind in asset_headers["Content-Type"], (asset, asset_headers["Content-Type"])
            # What the stylesheets point at (the icon font) is served too.
            for ref in re.findall(r'url\("?(fonts/[^")?]+)', asset_body.decode()):
                ref_status, _, _ = get(urllib.parse.urljoin(asset, ref))
                assert ref_status == 200, ref

        # Signing in over plain HTTP works (cookies are not secure-only) and a page renders.
        token = next(c.value for c in cookies if c.name == "csrftoken")
        form = urllib.parse.urlencode(
            {"username": "prod_smoke", "password": PASSWORD, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(
            base + "/accounts/login/", data=form, headers={"Referer": base + "/accounts/login/"}
        )
        try:
            browser.open(request, timeout=10)
            raise AssertionError("signing in did not redirect")
        except urllib.error.HTTPError as exc:
            assert exc.code == 302, exc.read().decode()[:2000]
        status, _, body = get("/")
        assert status == 200, body.decode()[:2000]
        assert 'data-testid="current-user"' in body.decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
        print(output)


def test_insecure_http_is_off_by_default_and_check_deploy_flags_it_when_on():
    flagged = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=_clean_env(**PROD_ENV, INSECURE_HTTP="true"),
    )
    assert flagged.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in flagged.stderr + flagged.stdout, warning


@pytest.mark.django_db
def test_load_reference_on_an_empty_order_system_says_so_without_a_traceback(tmp_path):
    empty = tmp_path / "empty_order_system.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "load_reference"],
        cwd=ROOT,
        env=subprocess_env(ORDER_SYSTEM_DATABASE_URL=f"sqlite:///{empty}", DEFAULT_LANGUAGE="en"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert "has no products or customers yet (it is empty)" in result.stderr


@pytest.fixture
def empty_postgres_order_system(settings):
    import psycopg

    base = settings.ORDER_SYSTEM_DATABASE_URL
    if not base.startswith("postgres"):
        pytest.skip("the order system is not on PostgreSQL in this run")
    server, name = base.rsplit("/", 1)
    name = name.split("?")[0] + "_empty"
    admin_url = server.replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_load_reference_on_an_empty_postgres_order_system_is_a_clear_command_error(
    settings, empty_postgres_order_system
):
    settings.ORDER_SYSTEM_DATABASE_URL = empty_postgres_order_system
    with (
        translation.override("en"),
        pytest.raises(CommandError, match="has no products or customers yet"),
    ):
        call_command("load_reference")


@pytest.mark.django_db
def test_load_reference_from_an_unreachable_order_system_is_a_clear_command_error(settings):
    settings.ORDER_SYSTEM_DATABASE_URL = "postgres://postgres@127.0.0.1:1/nowhere"
    with translation.override("en"), pytest.raises(CommandError, match="cannot be read"):
        call_command("load_reference")
