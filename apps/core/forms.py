"""Form pieces several apps share."""

from django import forms
from django.utils.translation import gettext_lazy as _

MINUTE_FORMAT = "%Y-%m-%d %H:%M"


class MinuteField(forms.DateTimeField):
    """A date and time to the minute, typed in one text box.

    Why not ``<input type=datetime-local>``: its parts are separate stops, seven Tab presses
    for one field, and keyboard-first staff lose their place. The box also takes the ``T`` form
    a ``datetime-local`` posts, seconds and slashes, so older clients keep working.
    """

    input_formats = [MINUTE_FORMAT, "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]

    def __init__(self, *, help_text=None, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(
                attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "numeric"},
                format=MINUTE_FORMAT,
            ),
        )
        example = _("Year-month-day hours:minutes, for example 2026-11-25 14:30.")
        super().__init__(help_text=f"{help_text} {example}" if help_text else example, **kwargs)
