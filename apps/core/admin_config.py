from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """The Django admin, answering 403 (not a login loop) to staff without admin rights."""

    default_site = "apps.core.admin_site.StaffAdminSite"
