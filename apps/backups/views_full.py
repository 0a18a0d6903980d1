"""The "back up everything" button and its run's page; restore to a point in time."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView

from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin

from .forms import PointInTimeRestoreForm
from .full_backup import refresh_full_backup, start_full_backup
from .journal.pitr import journal_coverage, start_point_in_time_restore
from .models import BackupScope, FullBackup


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


class PointInTimeRestoreView(StaffPageMixin, FormView):
    """The wizard's "restore to a point in time": scopes, a moment, a target."""

    permission_required = "backups.add_restorerun"
    form_class = PointInTimeRestoreForm
    template_name = "backups/point_in_time.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["coverage"] = [
            c
            for scope in BackupScope.objects.exclude(tables=[])
            if (c := journal_coverage(scope)) is not None
        ]
        return ctx

    def form_valid(self, form):
        try:
            restore = start_point_in_time_restore(
                scopes=list(form.cleaned_data["scopes"]),
                until=form.cleaned_data["until"],
                target=form.cleaned_data["target"],
                by=self.request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Point-in-time restore queued."))
        return redirect("backups:restore-detail", pk=restore.pk)
