"""Domain errors carry a code and render their sentence in whoever reads it's language."""

import pytest
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from apps.core.errors import (
    CoreError,
    DomainError,
    ErrorCode,
    QueueUnavailable,
    add_domain_error,
)


class SampleError(ErrorCode):
    TOO_MANY = "too_many", _("At most %(limit)s items.")
    QUEUE = (
        "queue",
        _("The job queue is not answering; nothing was started. Try again in a minute."),
    )


def test_a_code_renders_its_message_with_parameters_in_the_active_language():
    exc = DomainError(SampleError.TOO_MANY, params={"limit": 3})
    assert exc.code == SampleError.TOO_MANY == "too_many"
    with translation.override("en"):
        assert str(exc) == "At most 3 items."


def test_a_message_raised_in_english_reads_in_chinese_later():
    with translation.override("en"):
        exc = QueueUnavailable()
    assert exc.code == CoreError.QUEUE_UNAVAILABLE
    with translation.override("zh-hans"):
        shown = str(exc)
    with translation.override("en"):
        english = str(exc)
    assert shown != english
    assert "job queue is not answering" in english


def test_a_plain_message_keeps_working_with_the_generic_code():
    exc = DomainError(_("Something is off."), field="name")
    assert exc.code == CoreError.INVALID
    assert str(exc) == "Something is off."
    assert exc.field == "name"


def test_missing_parameters_show_the_template_instead_of_crashing():
    assert "%(limit)s" in str(DomainError(SampleError.TOO_MANY))


class _Form(forms.Form):
    name = forms.CharField()


@pytest.mark.parametrize(
    ("field", "where"), [("name", "name"), ("nope", "__all__"), (None, "__all__")]
)
def test_add_domain_error_puts_the_message_next_to_its_field_or_on_top(field, where):
    form = _Form(data={"name": "x"})
    assert form.is_valid()
    add_domain_error(form, DomainError(SampleError.TOO_MANY, params={"limit": 2}, field=field))
    assert form.errors[where] == ["At most 2 items."]


def test_a_stored_refusal_renders_in_the_readers_language_and_falls_back_when_its_code_is_gone():
    from apps.core.events import as_event, render_event

    with translation.override("en"):
        kind, params, text = as_event(QueueUnavailable().message)
    assert kind == "core.error" and params["code"] == CoreError.QUEUE_UNAVAILABLE
    with translation.override("zh-hans"):
        chinese = render_event(kind, params, fallback=text)
    assert chinese != text and "job queue is not answering" in text
    gone = {**params, "code": "no_such_code"}
    assert render_event(kind, gone, fallback=text) == text
    foreign = {**params, "enum": "os.path"}
    assert render_event(kind, foreign, fallback=text) == text
