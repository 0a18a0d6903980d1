"""The scopes' integrity and business checks: untrusted SQL run read-only with a time limit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from .. import engine, errors
from ..engine import gateway
from ..models import BackupScope
from .common import explain

logger = logging.getLogger(__name__)


def run_checks(*, url: str, scopes: Iterable[BackupScope]) -> list[dict[str, Any]]:
    """The scopes' business and integrity checks on the target; each counts offending rows.

    Checks are edited in the admin, so they run as untrusted SQL: one SELECT, in a read-only
    session and transaction, with a statement timeout (``engine.ReadOnlyQueries``).
    """
    results: list[dict[str, Any]] = []
    seen = set()
    checks = [c for scope in scopes for c in scope.checks]
    if not checks:
        return results
    with gateway.read_only_queries(url, timeout_ms=settings.BACKUP_CHECK_TIMEOUT_MS) as queries:
        for check in checks:
            if check["sql"] in seen:
                continue
            seen.add(check["sql"])
            names = {
                "name": check.get("name"),
                "name_en": check.get("name_en", check.get("name")),
            }
            try:
                bad = queries.run(check["sql"])
            except engine.CheckError as exc:  # a broken check is reported, not fatal
                code, params = errors.classify(exc)
                results.append(
                    {
                        **names,
                        "error": explain(exc),
                        "error_code": code,
                        "error_params": params,
                        "ok": False,
                    }
                )
                continue
            results.append({**names, "violations": bad, "ok": bad == 0})
    return results


def validate_check(*, sql: str, url: str | None = None) -> None:
    """What the admin runs before saving a check: one SELECT returning one whole number.

    The shape is always checked; the check is also tried (read-only) on the order system
    when it answers, so a typo in a table name is caught now, not after a restore.
    """
    try:
        gateway.check_shape(sql)
    except engine.CheckError as exc:
        raise errors.refusal(exc, field="sql") from exc
    try:
        queries = gateway.read_only_queries(url, timeout_ms=settings.BACKUP_CHECK_TIMEOUT_MS)
    except engine.EngineError:
        logger.warning("check saved untried: the order system database cannot be reached")
        return
    with queries:
        try:
            queries.run(sql)
        except engine.CheckError as exc:
            raise errors.refusal(exc, field="sql") from exc
