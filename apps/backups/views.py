from django.contrib import messages
from django.http import FileResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin

from . import selectors, services
from .forms import RestoreConfirmForm, RestoreScopeForm, StartBackupForm
from .models import BackupRun, BackupScope


class BackupListView(StaffPageMixin, ListView):
    """Scopes with their system status, and the latest backups."""

    permission_required = "backups.view_backuprun"
    template_name = "backups/backup_list.html"
    context_object_name = "backups"
    paginate_by = 30

    def get_queryset(self):
        return selectors.list_backups(scope=self.request.GET.get("scope") or None)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["scopes"] = selectors.list_scopes()
        if self.request.user.has_perm("backups.add_backuprun"):
            ctx["start_form"] = StartBackupForm()
        return ctx


class StartBackupView(StaffPageMixin, FormView):
    permission_required = "backups.add_backuprun"
    form_class = StartBackupForm
    template_name = "backups/start_backup.html"

    def form_valid(self, form):
        try:
            run = services.start_backup(
                scope=form.cleaned_data["scope"],
                kind=form.cleaned_data["kind"] or None,
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Backup queued."))
        return redirect("backups:backup-detail", pk=run.pk)


class BackupDetailView(StaffPageMixin, DetailView):
    permission_required = "backups.view_backuprun"
    template_name = "backups/backup_detail.html"
    context_object_name = "backup"

    def get_queryset(self):
        return selectors.list_backups()

    def get_object(self, queryset=None):
        return services.refresh_run_state(super().get_object(queryset))


class VerifyBackupView(StaffPageMixin, View):
    permission_required = "backups.add_backuprun"

    def post(self, request, pk):
        run = get_object_or_404(BackupRun, pk=pk)
        job = services.start_verify(run=run, by=self.staff_user)
        return redirect("core:job-detail", pk=job.pk)


class DownloadBackupView(StaffPageMixin, View):
    permission_required = "backups.download_backup"

    def get(self, request, pk):
        run = get_object_or_404(BackupRun, pk=pk)
        try:
            path = services.verified_file_for(run)
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("backups:backup-detail", pk=run.pk)
        services.record_download(run=run, by=self.staff_user)
        return FileResponse(open(path, "rb"), as_attachment=True, filename=run.file_name)


class RestoreStartView(StaffPageMixin, FormView):
    """The restore wizard: step 1 (scopes, target) by GET, step 2 (proposal, confirm) by POST."""

    permission_required = "backups.add_restorerun"
    template_name = "backups/restore_wizard.html"

    def _step1(self):
        # Submitted (even with no scope ticked: then it answers with an error) or fresh.
        submitted = {"scopes", "target"} & set(self.request.GET)
        return RestoreScopeForm(self.request.GET if submitted else None)

    def _step2_context(self, step1, confirm, backups=None) -> dict:
        scopes = list(step1.cleaned_data["scopes"])
        target = step1.cleaned_data["target"]
        dependencies = services.restore_dependencies(scopes=scopes, target=target, backups=backups)
        missing = [d for d in dependencies if not d.in_target]
        include_url = ""
        if missing:
            query = QueryDict(mutable=True)
            query.setlist("scopes", [str(s.pk) for s in scopes + [d.scope for d in missing]])
            query["target"] = target
            include_url = f"{reverse('backups:restore-start')}?{query.urlencode()}"
        return {
            "step": 2,
            "step1": step1,
            "form": confirm,
            "target": target,
            "dependencies": dependencies,
            "missing_dependencies": missing,
            "include_url": include_url,
        }

    def get(self, request, *args, **kwargs):
        step1 = self._step1()
        if step1.is_bound and step1.is_valid():
            confirm = RestoreConfirmForm(scopes=list(step1.cleaned_data["scopes"]))
            return self.render_to_response(self._step2_context(step1, confirm))
        return self.render_to_response({"step": 1, "form": step1})

    def post(self, request, *args, **kwargs):
        step1 = self._step1()
        if not step1.is_valid():
            return self.render_to_response({"step": 1, "form": step1})
        scopes = list(step1.cleaned_data["scopes"])
        confirm = RestoreConfirmForm(request.POST, scopes=scopes)
        if not confirm.is_valid():
            return self.render_to_response(self._step2_context(step1, confirm))
        try:
            restore = services.start_restore(
                scopes=scopes,
                target=step1.cleaned_data["target"],
                backups=confirm.chosen(),
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(confirm, exc)
            return self.render_to_response(
                self._step2_context(step1, confirm, backups=confirm.chosen())
            )
        messages.success(request, _("Restore queued."))
        return redirect(reverse("backups:restore-detail", args=[restore.pk]))


class RestoreListView(StaffPageMixin, ListView):
    permission_required = "backups.view_restorerun"
    template_name = "backups/restore_list.html"
    context_object_name = "restores"
    paginate_by = 30

    def get_queryset(self):
        return selectors.list_restores()


class RestoreDetailView(StaffPageMixin, DetailView):
    permission_required = "backups.view_restorerun"
    template_name = "backups/restore_detail.html"
    context_object_name = "restore"

    def get_queryset(self):
        return selectors.list_restores()

    def get_object(self, queryset=None):
        return services.refresh_run_state(super().get_object(queryset))


class ScopeStatusView(StaffPageMixin, ListView):
    """The dashboard card: system status per scope (htmx refreshes it)."""

    permission_required = "backups.view_backuprun"
    template_name = "backups/_scope_status.html"
    context_object_name = "scopes"

    def get_queryset(self):
        return BackupScope.objects.all()
