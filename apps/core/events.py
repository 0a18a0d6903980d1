"""One registry of event kinds: events are stored as ``kind`` + parameters and rendered when shown.

Timeline entries, order events and job titles/steps/errors store a kind (``"task.added"``) and
its parameters (``{"task": "Call the carrier"}``), never text rendered in the author's language.
Each app registers its kinds (label, message template with named ``%(param)s`` placeholders,
icon) from its ``AppConfig.ready``; ``render_event`` renders one in the reader's active language.
Unknown kinds or missing parameters fall back to the stored text, so old rows keep working.

Parameter values stay language-neutral:

- plain strings and numbers are shown as they are (names, numbers, codes typed by people);
- a value named in the kind's ``choices`` is a ``TextChoices`` value shown as its label;
- ``event(kind, **params)`` nests another event (rendered in turn), a list of values is joined;
- ``localized(en=..., zh=...)`` holds a value that exists in both languages (task titles).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Choices
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventKind:
    """What one kind of event says: its label (a badge), its message template and its icon."""

    code: str
    label: str | Promise
    template: str | Promise | None = None
    icon: str = "•"
    choices: Mapping[str, type[Choices]] = field(default_factory=dict)


_REGISTRY: dict[str, EventKind] = {}


def register_event_kind(
    code: str,
    label: str | Promise,
    template: str | Promise | None = None,
    *,
    icon: str = "•",
    choices: Mapping[str, type[Choices]] | None = None,
) -> EventKind:
    """Register (or replace, for reloads) one kind; a kind without template shows its stored text."""
    kind = EventKind(code, label, template, icon, dict(choices or {}))
    _REGISTRY[code] = kind
    return kind


def get_event_kind(code: str) -> EventKind | None:
    return _REGISTRY.get(str(code))


def event_label(code: str) -> str:
    kind = get_event_kind(code)
    return str(kind.label) if kind else str(code)


def event_icon(code: str) -> str:
    kind = get_event_kind(code)
    return kind.icon if kind else "•"


def event(kind: str, /, **params: Any) -> dict[str, Any]:
    """A nested event as a parameter value (e.g. the list of changes of a task)."""
    return {"kind": str(kind), "params": params}


def localized(*, en: str, zh: str) -> dict[str, Any]:
    """A parameter value that exists in English and Chinese; shown in the reader's language."""
    return {"i18n": {"en": en, "zh": zh}}


def _render_value(value: Any, choices: type[Choices] | None) -> str:
    if isinstance(value, list):
        return ", ".join(_render_value(v, choices) for v in value)
    if isinstance(value, dict):
        if "i18n" in value:
            texts = value["i18n"] or {}
            zh = (get_language() or "").startswith("zh")
            first, second = ("zh", "en") if zh else ("en", "zh")
            return str(texts.get(first) or texts.get(second) or "")
        if "kind" in value:
            return render_event(
                value["kind"], value.get("params") or {}, fallback=str(value.get("text") or "")
            )
    if choices is not None and value is not None:
        try:
            return str(choices(value).label)
        except ValueError:
            return str(value)
    return "" if value is None else str(value)


# A plain ``gettext_lazy("…")`` handed where a message is expected (a job step, say) is kept
# as its msgid and translated again when shown: callers that pass translated strings keep working.
GETTEXT = "core.gettext"


def render_event(kind: str, params: Mapping[str, Any] | None = None, fallback: str = "") -> str:
    """The event's message in the active language; ``fallback`` when the kind cannot render it."""
    if kind == GETTEXT and isinstance((params or {}).get("msgid"), str):
        return gettext(params["msgid"])  # type: ignore[index]
    if kind == "core.error":
        from .errors import render_stored_error

        return render_stored_error(params or {}, fallback)
    registered = get_event_kind(kind)
    if registered is None or registered.template is None:
        return str(fallback) or (str(registered.label) if registered else str(kind))
    params = params or {}
    try:
        values = {
            name: _render_value(value, registered.choices.get(name))
            for name, value in params.items()
        }
        return (str(registered.template) % values).strip()
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("event %s cannot be rendered from %r: %s", kind, params, exc)
        return str(fallback) or str(registered.label)


@dataclass(frozen=True)
class Message:
    """A message to store as data (``kind`` + ``params``); ``str()`` renders it right now."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return render_event(self.kind, self.params, fallback=self.kind)


def message(kind: str, /, **params: Any) -> Message:
    """``message("backup.title", scope="orders")``: what services hand to jobs and errors."""
    return Message(str(kind), params)


def as_event(value: Any) -> tuple[str, dict[str, Any], str]:
    """``(kind, params, text)`` to store for a message, a lazy translation or plain text.

    ``text`` is the message rendered now: the fallback shown when the kind cannot be rendered.
    """
    if isinstance(value, Message):
        return value.kind, json_safe(value.params), str(value)
    if callable(getattr(value, "as_event", None)):  # a DomainError's message (``errors``)
        kind, params = value.as_event()
        return kind, json_safe(params), str(value)
    if isinstance(value, Promise):
        # Django's lazy proxy keeps its call's arguments (a private detail, checked below).
        args: tuple[Any, ...] = getattr(value, "_args", ())
        kw: dict[str, Any] = getattr(value, "_kw", {})
        if len(args) == 1 and isinstance(args[0], str) and not kw:  # gettext_lazy("…")
            return GETTEXT, {"msgid": args[0]}, str(value)
    return "", {}, "" if value is None else str(value)


def as_stored(value: Any) -> dict[str, Any]:
    """A message kept inside JSON (a job's result, a report, another event's parameter):
    kind + params, and the text rendered now as the fallback."""
    kind, params, text = as_event(value)
    return {"kind": kind, "params": params, "text": text}


def json_safe(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as stored: lazy strings and choices become plain values."""

    def clean(value: Any) -> Any:
        if isinstance(value, Message):
            return {"kind": value.kind, "params": clean(dict(value.params))}
        if isinstance(value, Choices):
            return value.value
        if isinstance(value, Promise):
            return str(value)
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        return str(value)

    return {str(k): clean(v) for k, v in params.items()}


__all__ = [
    "GETTEXT",
    "EventKind",
    "Message",
    "as_event",
    "as_stored",
    "message",
    "event",
    "event_icon",
    "event_label",
    "get_event_kind",
    "json_safe",
    "localized",
    "register_event_kind",
    "render_event",
]
