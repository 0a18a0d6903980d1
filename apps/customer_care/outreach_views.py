"""Outreach's staff pages (thin: a form, the permission, one service, a render) and the public
pages: the status page and its feeds, survey and opt-out links (no login)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.syndication.views import Feed
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin
from apps.manual_orders.models import Customer

from . import outreach_selectors as selectors
from .models import Compensation, FollowUp, Notice, PlannedContact
from .outreach_choices import DeliveryState, NoticeAudience, NoticeState
from .outreach_forms import (
    BulkGrantForm,
    CarePlanForm,
    CompensationForm,
    ContactForm,
    ExportForm,
    FollowUpForm,
    LimitForm,
    NoticeForm,
    PreviewForm,
    PublicUpdateForm,
    StatusPageForm,
    SurveyForm,
)
from .services import outreach
from .services.outreach.status import cache_key, status_cache


def _grant(data) -> outreach.Grant:
    return outreach.Grant(
        kind=data["kind"],
        amount=data.get("amount"),
        percent=data.get("percent"),
        cap=data.get("cap"),
        points=data.get("points"),
        minimum_order=data.get("minimum_order") or Decimal("0"),
        valid_from=timezone.now(),
        valid_until=data.get("valid_until"),
        reason=data.get("reason") or "",
    )


# --- overview ----------------------------------------------------------------------------------
class OutreachHomeView(StaffPageMixin, TemplateView):
    permission_required = "customer_care.grant_compensation"
    template_name = "customer_care/outreach/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["policy"] = outreach.current_policy()
        ctx["recent"] = Compensation.objects.select_related("customer", "granted_by")[:20]
        return ctx


# --- compensation ------------------------------------------------------------------------------
class GrantCompensationView(StaffPageMixin, FormView):
    permission_required = "customer_care.grant_compensation"
    template_name = "customer_care/outreach/grant.html"
    form_class = CompensationForm

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("case"):
            initial["case"] = self.request.GET["case"]
        return initial

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        policy = outreach.current_policy()
        ctx["limit"] = (
            None
            if self.request.user.has_perm("customer_care.approve_compensation")
            else policy.agent_limit
        )
        return ctx

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            row = outreach.grant_compensation(
                customer=data["customer"],
                case=data["case"],
                grant=_grant(data),
                idempotency_key=data["idempotency_key"],
                override_reason=data.get("override_reason") or "",
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Granted: %(what)s.") % {"what": row.code or f"{row.points}"}
        )
        return redirect("customer_care:customer-ledger", pk=row.customer_id)


class CustomerLedgerView(StaffPageMixin, TemplateView):
    permission_required = "customer_care.grant_compensation"
    template_name = "customer_care/outreach/ledger.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["customer"] = customer = get_object_or_404(Customer, pk=kwargs["pk"])
        ctx["ledger"] = outreach.ledger(customer)
        return ctx


class CompensationLimitView(StaffPageMixin, FormView):
    permission_required = "customer_care.set_compensation_limit"
    template_name = "customer_care/outreach/form_page.html"
    form_class = LimitForm
    extra_context = {"heading": _("Compensation limit")}

    def get_initial(self):
        policy = outreach.current_policy()
        return {"agent_limit": policy.agent_limit, "point_value": policy.point_value}

    def form_valid(self, form):
        outreach.set_compensation_limit(
            agent_limit=form.cleaned_data["agent_limit"],
            point_value=form.cleaned_data["point_value"],
            by=self.staff_user,
        )
        messages.success(self.request, _("The limit is saved."))
        return redirect("customer_care:outreach-home")


class HandOverView(StaffPageMixin, FormView):
    permission_required = "customer_care.hand_over_compensation"
    template_name = "customer_care/outreach/hand_over.html"
    form_class = ExportForm

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["waiting"] = Compensation.objects.filter(handed_over_at__isnull=True).count()
        return ctx

    def form_valid(self, form):
        file_format = form.cleaned_data["format"]
        try:
            content, content_type, _rows = outreach.hand_over_compensation(
                file_format=file_format, by=self.staff_user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        if file_format == "csv":
            content_type = f"{content_type}; charset=utf-8"
        response = HttpResponse(content, content_type=content_type)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = (
            f'attachment; filename="compensation-{stamp}.{file_format}"'
        )
        return response


class BulkGrantView(StaffPageMixin, FormView):
    permission_required = "customer_care.approve_compensation"
    template_name = "customer_care/outreach/form_page.html"
    form_class = BulkGrantForm
    extra_context = {"heading": _("Compensate a list of affected customers")}

    def form_valid(self, form):
        data = form.cleaned_data
        from apps.incidents.selectors import get_open_incident

        audience = Notice(audience=data["audience"], incident=get_open_incident())
        ids = list(outreach.audience_customers(audience).values_list("pk", flat=True))
        try:
            job = outreach.start_bulk_grant(
                customer_ids=ids, grant=_grant(data), by=self.staff_user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("core:job-detail", pk=job.pk)


# --- notices ---------------------------------------------------------------------------------
class NoticeListView(StaffPageMixin, TemplateView):
    permission_required = "customer_care.send_notice"
    template_name = "customer_care/outreach/notice_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["notices"] = selectors.recent_notices()
        return ctx


class NoticeCreateView(StaffPageMixin, FormView):
    permission_required = "customer_care.send_notice"
    template_name = "customer_care/outreach/form_page.html"
    form_class = NoticeForm
    extra_context = {"heading": _("New notice to customers")}

    def form_valid(self, form):
        try:
            notice = outreach.save_notice(**form.cleaned_data, by=self.staff_user)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("customer_care:notice-detail", pk=notice.pk)


class NoticeDetailView(StaffPageMixin, TemplateView):
    permission_required = "customer_care.send_notice"
    template_name = "customer_care/outreach/notice_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        notice = get_object_or_404(
            Notice.objects.select_related("job", "incident", "audience_job"), pk=kwargs["pk"]
        )
        from apps.core.jobs import refresh_job_state

        for job in (notice.job, notice.audience_job):
            if job is not None:
                refresh_job_state(job)
        ctx["reads_order_system"] = notice.audience == NoticeAudience.ORDER_SYSTEM_ORDERS
        if ctx["reads_order_system"]:
            ctx["members"] = notice.members.count()
        ctx["notice"] = notice
        counts = outreach.delivery_counts(notice)
        ctx["counts"] = [(DeliveryState(state).label, state, n) for state, n in counts.items()]
        ctx["failed"] = outreach.failed_deliveries(notice)[:100]
        ctx["preview_form"] = kwargs.get("preview_form") or PreviewForm()
        ctx["preview"] = kwargs.get("preview")
        ctx["can_send"] = notice.state in (NoticeState.DRAFT, NoticeState.PAUSED) or (
            notice.state == NoticeState.SENDING
            and notice.job is not None
            and notice.job.is_finished
        )
        ctx["can_pause"] = notice.state == NoticeState.SENDING and not ctx["can_send"]
        return ctx

    def post(self, request, pk):
        """The preview for one customer (nothing is sent)."""
        notice = get_object_or_404(Notice, pk=pk)
        form = PreviewForm(request.POST)
        preview = None
        if form.is_valid():
            preview = outreach.preview_notice(notice=notice, customer=form.cleaned_data["customer"])
        return self.render_to_response(
            self.get_context_data(pk=pk, preview_form=form, preview=preview)
        )


class _NoticeActionView(StaffPageMixin, View):
    """A button on the notice page: one service call, a refusal shown as a message."""

    permission_required = "customer_care.send_notice"
    action: str = ""

    def post(self, request, pk):
        notice = get_object_or_404(Notice, pk=pk)
        try:
            getattr(outreach, self.action)(notice=notice, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("customer_care:notice-detail", pk=pk)


class NoticeSendView(_NoticeActionView):
    action = "send_notice"


class NoticeReadCustomersView(_NoticeActionView):
    """Read the customers of the incident window's orders (order system, else its backup)."""

    action = "start_audience_read"


class NoticePauseView(_NoticeActionView):
    action = "pause_notice"


# --- status page (staff side) ----------------------------------------------------------------
class StatusEditView(StaffPageMixin, TemplateView):
    permission_required = "customer_care.edit_status_page"
    template_name = "customer_care/outreach/status_edit.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        page = outreach.current_status_page()
        from apps.incidents.selectors import get_open_incident

        ctx["incident"] = get_open_incident()
        ctx["form"] = kwargs.get("form") or StatusPageForm(
            initial={
                "version": page.version,
                "ordering": page.ordering,
                "payment": page.payment,
                "delivery": page.delivery,
                "phone": page.phone,
                "mailbox": page.mailbox,
                "channels_zh": page.channels_zh,
                "channels_en": page.channels_en,
            }
        )
        ctx["update_form"] = kwargs.get("update_form") or PublicUpdateForm()
        return ctx

    def post(self, request):
        if "text_zh" in request.POST:
            update_form = PublicUpdateForm(request.POST)
            if update_form.is_valid():
                try:
                    outreach.publish_update(**update_form.cleaned_data, by=self.staff_user)
                except DomainError as exc:
                    add_domain_error(update_form, exc)
                else:
                    messages.success(request, _("The notice is public."))
                    return redirect("customer_care:status-edit")
            return self.render_to_response(self.get_context_data(update_form=update_form))
        form = StatusPageForm(request.POST)
        if form.is_valid():
            try:
                outreach.update_status_page(**form.cleaned_data, by=self.staff_user)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The status page is updated."))
                return redirect("customer_care:status-edit")
        return self.render_to_response(self.get_context_data(form=form))


# --- satisfaction ------------------------------------------------------------------------------
class FollowUpListView(StaffPageMixin, TemplateView):
    permission_required = "customer_care.lead_care"
    template_name = "customer_care/outreach/follow_ups.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["follow_ups"] = selectors.open_follow_ups()
        return ctx


class FollowUpCloseView(StaffPageMixin, View):
    permission_required = "customer_care.lead_care"

    def post(self, request, pk):
        follow_up = get_object_or_404(FollowUp, pk=pk)
        form = FollowUpForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        outreach.close_follow_up(follow_up=follow_up, note=note, by=self.staff_user)
        return redirect("customer_care:follow-ups")


class CarePlanView(StaffPageMixin, FormView):
    permission_required = "customer_care.lead_care"
    template_name = "customer_care/outreach/care_plan.html"
    form_class = CarePlanForm

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["contacts"] = selectors.planned_contacts()[:200]
        return ctx

    def form_valid(self, form):
        from apps.incidents.selectors import get_open_incident

        data = form.cleaned_data
        audience = Notice(audience=data["audience"], incident=get_open_incident())
        customers = list(outreach.audience_customers(audience).filter(vip=True)[:5000])
        try:
            outreach.plan_vip_contacts(
                customers=customers,
                due_at=data["due_at"],
                purpose=data["purpose"],
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("customer_care:care-plan")


class ContactRecordView(StaffPageMixin, View):
    permission_required = "customer_care.lead_care"

    def post(self, request, pk):
        contact = get_object_or_404(PlannedContact, pk=pk)
        form = ContactForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainError(form.errors.as_text())
            outreach.record_contact(
                contact=contact, outcome=form.cleaned_data["outcome"], by=self.staff_user
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("customer_care:care-plan")


class FiguresView(StaffPageMixin, TemplateView):
    permission_required = "customer_care.lead_care"
    template_name = "customer_care/outreach/figures.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sections"] = [
            (_("By agent"), selectors.figures_by_agent()),
            (_("By channel"), selectors.figures_by_channel()),
            (_("By incident"), selectors.figures_by_incident()),
        ]
        return ctx


# --- public pages (no login) -----------------------------------------------------------------
def _visitor_language(request) -> str:
    """``?lang=`` when the visitor switched, else what LocaleMiddleware read from the browser."""
    wanted = request.GET.get("lang", "")
    if wanted in ("en", "zh-hans"):
        return wanted
    return "en" if translation.get_language() == "en" else "zh-hans"


def _cached(what: str, language: str, build):
    cache = status_cache()
    key = cache_key(what, language)
    content = cache.get(key)
    if content is None:
        content = build()
        cache.set(key, content, timeout=settings.CARE_STATUS_CACHE_SECONDS)
    return content


class StatusPageView(View):
    """The public status page: built once per language, then served from the cache."""

    def get(self, request):
        language = _visitor_language(request)

        def build():
            with translation.override(language):
                snapshot = outreach.status_snapshot(language)
                response = TemplateResponse(
                    request,
                    "customer_care/outreach/status_public.html",
                    {"s": snapshot, "language": language},
                )
                return response.render().content

        response = HttpResponse(_cached("page", language, build))
        response["Content-Language"] = language
        response["Cache-Control"] = "public, max-age=30"
        response["Vary"] = "Accept-Language, Cookie"
        return response


class StatusJsonView(View):
    def get(self, request):
        language = _visitor_language(request)

        def build():
            from .outreach_choices import ServiceState

            with translation.override(language):
                s = outreach.status_snapshot(language)
                labels = {
                    "ordering": _("Ordering"),
                    "payment": _("Payment"),
                    "delivery": _("Delivery"),
                }
                return {
                    "language": language,
                    "updated_at": s["updated_at"].isoformat(),
                    "services": [
                        {
                            "service": name,
                            "name": str(labels[name]),
                            "state": state,
                            "label": str(ServiceState(state).label),
                        }
                        for name, state in s["services"]
                    ],
                    "phone": s["phone"],
                    "mailbox": s["mailbox"],
                    "channels": s["channels"],
                    "updates": [
                        {
                            "id": u["guid"],
                            "text": u["text"],
                            "published_at": u["published_at"].isoformat(),
                        }
                        for u in s["updates"]
                    ],
                }

        response = JsonResponse(
            _cached("json", language, build), json_dumps_params={"ensure_ascii": False}
        )
        response["Access-Control-Allow-Origin"] = "*"
        return response


class StatusFeed(Feed):
    """RSS of the public notices, for the social-media team (``?lang=en`` for English)."""

    feed_type = Rss201rev2Feed

    visitor_language = "zh-hans"

    def get_object(self, request):
        self.visitor_language = self.language = _visitor_language(request)
        return None

    def title(self):
        with translation.override(self.visitor_language):
            return _("Service status")

    def link(self):
        return reverse("care_public:status")

    def description(self):
        with translation.override(self.visitor_language):
            return _("Public notices about ordering, payment and delivery.")

    def items(self):
        return outreach.status_snapshot(self.visitor_language)["updates"]

    def item_title(self, item):
        return item["text"][:80]

    def item_description(self, item):
        return item["text"]

    def item_link(self, item):
        return reverse("care_public:status") + f"?lang={self.visitor_language}#u-{item['guid']}"

    def item_guid(self, item):
        return item["guid"]

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item["published_at"]


class StatusRssView(View):
    def get(self, request):
        language = _visitor_language(request)

        def build():
            return StatusFeed()(request).content

        return HttpResponse(
            _cached("rss", language, build), content_type="application/rss+xml; charset=utf-8"
        )


def _refused(request, status=400):
    return render(request, "customer_care/outreach/link_refused.html", status=status)


class SurveyView(View):
    """A resolved case's one-time survey (signed link, no login)."""

    def get(self, request, token):
        try:
            outreach.check_survey_token(token)
        except DomainError:
            return _refused(request)
        return render(request, "customer_care/outreach/survey.html", {"form": SurveyForm()})

    def post(self, request, token):
        form = SurveyForm(request.POST)
        if not form.is_valid():
            try:
                outreach.check_survey_token(token)
            except DomainError:
                return _refused(request)
            return render(request, "customer_care/outreach/survey.html", {"form": form}, status=400)
        try:
            outreach.answer_survey(
                token=token, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
            )
        except DomainError:
            return _refused(request)
        return render(request, "customer_care/outreach/thanks.html")


class OptOutView(View):
    """A customer's signed opt-out link: a confirmation page, then one POST."""

    def get(self, request, token):
        try:
            outreach.check_opt_out_token(token)
        except DomainError:
            return _refused(request)
        return render(request, "customer_care/outreach/opt_out.html")

    def post(self, request, token):
        try:
            outreach.opt_out(token=token)
        except DomainError:
            return _refused(request)
        return render(request, "customer_care/outreach/opted_out.html")
