from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView

from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin

from . import services
from .forms import LoginForm, NewPasswordForm, ResetRequestForm, UserCreateForm, UserForm
from .models import User


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def reset_minutes() -> int:
    """How long a reset link works (``PASSWORD_RESET_TIMEOUT``), in whole minutes."""
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 60)


class PasswordResetView(auth_views.PasswordResetView):
    """Public: the same answer whether or not the address belongs to a user; rate-limited."""

    form_class = ResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        # The link's lifetime as the settings give it (the mail is in the user's language).
        self.extra_email_context = {
            "site_name": settings.APP_NAME,
            "reset_minutes": reset_minutes(),
        }

    def form_valid(self, form):
        from axes.helpers import get_client_ip_address

        try:
            services.note_password_reset_request(
                email=form.cleaned_data["email"], client_ip=get_client_ip_address(self.request)
            )
        except services.PasswordResetThrottled as exc:
            add_domain_error(form, exc)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(reset_minutes=reset_minutes(), **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        form.user._change_reason = "password reset by e-mail"  # the history row says how
        return super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class UserListView(StaffPageMixin, ListView):
    permission_required = "accounts.manage_users"
    template_name = "accounts/user_list.html"
    context_object_name = "users"
    paginate_by = 50

    def get_queryset(self):
        from django.contrib.auth.models import Group

        qs = User.objects.order_by("username").prefetch_related(
            Prefetch("groups", queryset=Group.objects.order_by("name"))
        )
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(username__icontains=q) | qs.filter(last_name__icontains=q)
        return qs


class UserCreateView(StaffPageMixin, FormView):
    permission_required = "accounts.manage_users"
    template_name = "accounts/user_form.html"
    form_class = UserCreateForm

    def form_valid(self, form):
        data = form.cleaned_data
        user = services.create_user(
            username=data["username"],
            password=data["password1"],
            roles=data["roles"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone=data["phone"],
            language=data["language"],
            by=self.staff_user,
        )
        messages.success(self.request, _("User %(name)s created.") % {"name": user.username})
        return redirect("accounts:user-list")


class UserEditView(StaffPageMixin, FormView):
    permission_required = "accounts.manage_users"
    template_name = "accounts/user_form.html"
    form_class = UserForm

    def dispatch(self, request, *args, **kwargs):
        self.object = get_object_or_404(User, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        roles = data.pop("roles")
        try:
            services.update_user(user=self.object, roles=roles, by=self.staff_user, **data)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("User %(name)s saved.") % {"name": self.object.username})
        return redirect("accounts:user-list")
