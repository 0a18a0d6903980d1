from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import select_template
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView
from django.views.i18n import set_language

from apps.accounts.roles import roles_of

from .dashboard import widgets_for
from .errors import DomainError
from .jobs import refresh_job_state
from .mixins import StaffPageMixin
from .models import Notification
from .notifications import resend_notification
from .scheduler import schedule_overview
from .selectors import get_visible_job, list_jobs_for, list_notifications


class DashboardView(StaffPageMixin, TemplateView):
    permission_required = ()  # every signed-in member of staff
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.staff_user
        ctx["roles"] = roles_of(user)
        ctx["widgets"] = widgets_for(user)
        ctx["recent_jobs"] = list_jobs_for(user)[:5] if user.has_perm("core.view_jobrecord") else []
        if user.has_perm("core.view_notification"):
            ctx["recent_notifications"] = list_notifications()[:5]
        if user.has_perm("accounts.manage_users"):
            ctx["user_count"] = get_user_model().objects.filter(is_active=True).count()
        return ctx


class JobListView(StaffPageMixin, ListView):
    permission_required = "core.view_jobrecord"
    template_name = "core/job_list.html"
    paginate_by = 25
    context_object_name = "jobs"

    def get_queryset(self):
        return list_jobs_for(self.request.user)


class _VisibleJobMixin(DetailView):
    def get_object(self, queryset=None):
        job = get_visible_job(self.request.user, self.kwargs["pk"])
        if job is None:
            raise Http404
        return refresh_job_state(job)


class JobDetailView(StaffPageMixin, _VisibleJobMixin, DetailView):
    permission_required = "core.view_jobrecord"
    template_name = "core/job_detail.html"
    context_object_name = "job"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        # What a finished job produced, drawn by its kind's template (links, figures, the next
        # buttons) when its app has one: templates/job_outcome/<kind>.html.
        ctx["outcome_template"] = select_template(
            [f"job_outcome/{self.object.kind}.html", "job_outcome/default.html"]
        )
        return ctx


class JobProgressView(StaffPageMixin, _VisibleJobMixin, DetailView):
    """The self-refreshing progress partial (htmx polls it until the job ends).

    The poll that sees the end sends ``HX-Trigger: job-finished``: the page's outcome panel
    (``core/_job_panel.html``) then fetches itself again, so what the job changed (the backup's
    size, its remote copy, the result and the buttons now possible) shows without a reload.
    """

    permission_required = "core.view_jobrecord"
    template_name = "core/_job_progress.html"
    context_object_name = "job"

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.object.is_finished:
            response["HX-Trigger"] = "job-finished"
        return response


class ScheduleListView(StaffPageMixin, TemplateView):
    """Every periodic task the scheduler runs, with its last and next run and outcome."""

    permission_required = "core.view_schedulerun"
    template_name = "core/schedule_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["rows"] = schedule_overview()
        return ctx


class NotificationListView(StaffPageMixin, ListView):
    permission_required = "core.view_notification"
    template_name = "core/notification_list.html"
    paginate_by = 50
    context_object_name = "notifications"

    def get_queryset(self):
        return list_notifications()


class ResendNotificationView(StaffPageMixin, View):
    permission_required = "core.resend_notification"

    def post(self, request, pk: int, *args, **kwargs):
        try:
            new = resend_notification(notification_id=pk, by=self.staff_user)
        except Notification.DoesNotExist:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Sent again to %(address)s.") % {"address": new.address})
        return redirect("core:notification-list")


class SwitchLanguageView(View):
    """Django's set_language, remembering the choice on the user so notices follow it."""

    def post(self, request, *args, **kwargs):
        response = set_language(request)
        if request.user.is_authenticated:
            from apps.accounts.services import set_preferred_language

            set_preferred_language(user=request.user, code=request.POST.get("language", ""))
        return response


switch_language = require_POST(SwitchLanguageView.as_view())
