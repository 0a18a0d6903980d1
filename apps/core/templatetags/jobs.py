from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def job_panel_attrs(context, job) -> str:
    """htmx attributes for a page's outcome panel (``<div id="job-panel" {% job_panel_attrs job %}>``).

    While ``job`` runs, the panel waits for the progress poll's ``job-finished`` event and then
    swaps itself for the same panel of a fresh render of the page: the end state, its result
    and the buttons now possible. ``hx-disinherit`` keeps the progress poll inside it unaffected.
    """
    if getattr(job, "is_finished", True):  # no job on this page, or it has ended
        return ""
    return format_html(
        'hx-get="{}" hx-trigger="job-finished from:body" hx-select="#job-panel" '
        'hx-swap="outerHTML" hx-disinherit="*"',
        context["request"].get_full_path(),
    )
