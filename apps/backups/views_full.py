"""The "back up everything" button and its run's page."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from apps.core.errors import DomainError
from apps.core.mixins import StaffPageMixin

from .full_backup import refresh_full_backup, start_full_backup
from .models import FullBackup


class StartFullBackupView(StaffPageMixin, View):
    permission_required = "backups.add_backuprun"

    def post(self, request):
        try:
            full, created = start_full_backup(by=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("backups:backup-list")
        if created:
            messages.success(request, _("Backing up every scope."))
        else:
            messages.info(request, _("A backup of every scope is already under way."))
        return redirect("backups:full-backup-detail", pk=full.pk)


class FullBackupDetailView(StaffPageMixin, DetailView):
    permission_required = "backups.view_backuprun"
    template_name = "backups/full_backup_detail.html"
    context_object_name = "full"

    def get_queryset(self):
        return FullBackup.objects.select_related("job", "started_by")

    def get_object(self, queryset=None):
        return refresh_full_backup(super().get_object(queryset))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["backups"] = self.object.backups.select_related("scope").order_by("scope__position")
        return ctx
