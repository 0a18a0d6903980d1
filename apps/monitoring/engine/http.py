"""One HTTP check: the URL answers with the expected status within the time allowed."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class HttpOutcome:
    ok: bool
    status: int | None
    duration_ms: float
    error: str = ""


def check_url(url: str, *, expected_status: int, timeout_s: float) -> HttpOutcome:
    """GET ``url``; a wrong status, a refused connection or a timeout is a failure."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "recovery-site-probe/1"})
    status: int | None = None
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status = response.status
            response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except TimeoutError:
        error = f"timed out after {timeout_s:g} s"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        error = "timed out" if isinstance(reason, TimeoutError) else f"{reason}"
    duration = (time.monotonic() - started) * 1000
    if status is not None and status != expected_status:
        error = f"HTTP {status}, expected {expected_status}"
    return HttpOutcome(
        ok=status == expected_status, status=status, duration_ms=duration, error=error[:500]
    )
