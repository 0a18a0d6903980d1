"""Dashboard cards contributed by apps, shown to the roles holding each card's permission.

Keeps the dependency one-way: apps register here in ``AppConfig.ready``; core imports none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Widget:
    template: str
    permission: str
    context: Callable[[object], dict] = field(default=lambda user: {})
    order: int = 50


_WIDGETS: list[Widget] = []


def register_widget(widget: Widget) -> None:
    if widget not in _WIDGETS:
        _WIDGETS.append(widget)


def widgets_for(user) -> list[dict]:
    shown = []
    for widget in sorted(_WIDGETS, key=lambda w: w.order):
        if user.has_perm(widget.permission):
            shown.append({"template": widget.template, "context": widget.context(user)})
    return shown
