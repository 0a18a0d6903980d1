"""The stock counts' timeline event kinds (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

CHECK_SHEET_TITLE = "inventory.job.check_sheet"
IMPORT_SHEET_TITLE = "inventory.job.import_sheet"


def register() -> None:
    register_event_kind(CHECK_SHEET_TITLE, _("Stock count"), _("Check count sheet %(name)s"))
    register_event_kind(IMPORT_SHEET_TITLE, _("Stock count"), _("Import count sheet %(name)s"))
    register_event_kind(
        "inventory.session_started",
        _("Stock count"),
        _("Stock count “%(name)s” started in warehouse %(warehouse)s (%(lines)s lines)."),
        icon="📦",
    )
    register_event_kind(
        "inventory.session_approved",
        _("Stock count"),
        _(
            "Stock count “%(name)s” approved: the counted stock of warehouse %(warehouse)s "
            "is now what manual orders can sell. %(approval_note)s"
        ),
        icon="📦",
    )
    register_event_kind(
        "inventory.approval_note",
        _("Stock count"),
        _("%(beyond_threshold)s lines beyond the threshold approved with the note: %(note)s"),
    )
    register_event_kind(
        "inventory.returned_to_stock",
        _("Stock count"),
        _(
            "%(quantity)s × %(sku)s returned to stock in %(warehouse)s, location %(location)s: "
            "%(reason)s"
        ),
        icon="↩️",
    )
