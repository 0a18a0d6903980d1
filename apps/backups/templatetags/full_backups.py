from django import template

from apps.backups.full_backup import latest_full_backup as _latest

register = template.Library()


@register.simple_tag
def latest_full_backup():
    """The newest "back up everything" run (the readiness check links to it)."""
    return _latest()
