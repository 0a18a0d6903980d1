"""Refusals are asserted by their code (``apps.core.errors``), never by their English text."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from apps.core.errors import DomainError


@contextmanager
def raises_code(*codes: str) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    """``with raises_code(IncidentsError.CLOSED):`` — a ``DomainError`` carrying one of ``codes``."""
    with pytest.raises(DomainError) as caught:
        yield caught
    assert caught.value.code in codes, f"refused with {caught.value.code!r}, expected {codes!r}"
