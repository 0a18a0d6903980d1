from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.urls import include, path
from django_rq import urls as rq_urls

from apps.monitoring.urls import endpoint_patterns


def _admins_only(view):
    """The RQ dashboard: anonymous visitors log in, staff without the permission get 403."""

    @login_required
    def guarded(request, *args, **kwargs):
        if not request.user.has_perm("accounts.view_rq_dashboard"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def _guard_patterns(patterns):
    for pattern in patterns:
        pattern.callback = _admins_only(pattern.callback)
    return patterns


urlpatterns = [
    path("", include("apps.core.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("incidents/", include("apps.incidents.urls")),
    path("backups/", include("apps.backups.urls")),
    path("inventory/", include("apps.inventory_counts.urls")),
    path("orders/", include("apps.manual_orders.urls")),
    path("evaluations/", include("apps.evaluations.urls")),
    path("drills/", include("apps.drills.urls")),
    path("care/", include("apps.customer_care.urls")),
    path("monitoring/", include("apps.monitoring.urls")),
    path("", include((endpoint_patterns, "endpoints"))),
    path("", include("apps.customer_care.outreach_public_urls")),
    path("admin/", admin.site.urls),
    path("rq/", include((_guard_patterns(list(rq_urls.urlpatterns)), "django_rq"))),
]
