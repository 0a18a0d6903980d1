from django import template

from apps.backups.full_backup import latest_full_backup as _latest
from apps.backups.journal.status import backup_mode as _backup_mode

register = template.Library()


@register.simple_tag
def latest_full_backup():
    """The newest "back up everything" run (the readiness check links to it)."""
    return _latest()


@register.simple_tag
def backup_mode(scope):
    """How a scope is protected: the continuous journal, or snapshots (and how often)."""
    return _backup_mode(scope)
