"""Thin views: parse, check the permission, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from apps.catalog.models import Product
from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin
from apps.core.tabular import export_content

from . import selectors, services
from .choices import ENTRY_STATES, ImportState, SessionState
from .forms import ApproveForm, EntryForm, SessionForm, SheetUploadForm
from .models import CountSession, CountSheetImport
from .resources import CountSheetExportResource, VarianceReportResource, format_by_name

REPORT_PAGE_SIZE = 100


class SessionListView(StaffPageMixin, ListView):
    permission_required = "inventory_counts.view_countsession"
    template_name = "inventory_counts/session_list.html"
    context_object_name = "sessions"
    paginate_by = 30

    def get_queryset(self):
        return selectors.list_sessions_for(self.request.user)


class SessionCreateView(StaffPageMixin, FormView):
    permission_required = "inventory_counts.add_countsession"
    template_name = "inventory_counts/session_form.html"
    form_class = SessionForm

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            session = services.create_session(
                name=data["name"],
                warehouse=data["warehouse"],
                locations=data["locations"],
                categories=data["categories"],
                clerks=data["clerks"],
                blind=data["blind"],
                recount_threshold=data["recount_threshold"],
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Count session created."))
        return redirect("inventory_counts:session-detail", pk=session.pk)


class _SessionMixin:
    request: HttpRequest
    kwargs: dict[str, Any]

    def get_session(self) -> CountSession:
        session = get_object_or_404(
            CountSession.objects.select_related("warehouse"), pk=self.kwargs["pk"]
        )
        if not selectors.list_sessions_for(self.request.user).filter(pk=session.pk).exists():
            raise PermissionDenied
        return session


class SessionDetailView(StaffPageMixin, _SessionMixin, DetailView):
    permission_required = "inventory_counts.view_countsession"
    template_name = "inventory_counts/session_detail.html"
    context_object_name = "session"

    def get_object(self, queryset=None):
        return self.get_session()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        session = self.object
        user = self.staff_user
        ctx.update(
            progress=selectors.session_progress(session),
            may_count=services.may_count(session, user) and session.state in ENTRY_STATES,
            shows_expected=session.shows_expected_to(user),
            imports=selectors.list_imports(session)[:10],
            formats=[f().get_title() for f in _formats()],
            locations=session.locations.all()[:50],
            clerks=session.clerks.all(),
        )
        if session.state == SessionState.REVIEW and user.has_perm(
            "inventory_counts.approve_countsession"
        ):
            ctx["approve_form"] = ApproveForm()
            ctx["beyond_threshold"] = selectors.lines_beyond_threshold(session).count()
        return ctx


def _formats():
    from .resources import available_formats

    return available_formats()


class _SessionAction(StaffPageMixin, _SessionMixin, View):
    """POST-only: one session transition through its service."""

    permission_required = "inventory_counts.change_countsession"
    # The transition this button makes (one service per view).
    service: ClassVar[Callable[..., CountSession]]

    def done_message(self) -> str:
        raise NotImplementedError

    def post(self, request, pk):
        session = self.get_session()
        try:
            type(self).service(session=session, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, self.done_message())
        return redirect("inventory_counts:session-detail", pk=session.pk)


class SessionStartView(_SessionAction):
    service = services.start_session

    def done_message(self) -> str:
        return _("Counting started; expected quantities are frozen.")


class SessionCloseView(_SessionAction):
    service = services.close_counting

    def done_message(self) -> str:
        return _("Counting round closed.")


class SessionCancelView(_SessionAction):
    service = services.cancel_session

    def done_message(self) -> str:
        return _("Session cancelled.")


class SessionApproveView(StaffPageMixin, _SessionMixin, View):
    """POST-only: approve, with the note that lines beyond the threshold need."""

    permission_required = "inventory_counts.approve_countsession"

    def post(self, request, pk):
        session = self.get_session()
        form = ApproveForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(str(e) for e in errors))
            return redirect("inventory_counts:session-detail", pk=session.pk)
        try:
            services.approve_session(
                session=session, by=self.staff_user, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Session approved: the counted stock is now available to manual orders.")
            )
        return redirect("inventory_counts:session-detail", pk=session.pk)


# --- floor entry ---------------------------------------------------------------------------------
class CountEntryPageView(StaffPageMixin, _SessionMixin, TemplateView):
    """The phone page: scan a location, scan a product, type the quantity, Enter, next."""

    permission_required = "inventory_counts.add_countentry"
    template_name = "inventory_counts/count_entry.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        session = self.get_session()
        if not services.may_count(session, self.staff_user):
            raise PermissionDenied
        ctx.update(
            session=session,
            open=session.state in ENTRY_STATES,
            recount=session.state == SessionState.RECOUNT,
            to_recount=(
                selectors.lines_to_recount(session) if session.state == SessionState.RECOUNT else []
            ),
            recent=selectors.recent_entries(session, clerk=self.request.user),
        )
        return ctx


class ScanCodeView(StaffPageMixin, _SessionMixin, View):
    """GET ?code=: what the scanned code is (JSON), for immediate feedback."""

    permission_required = "inventory_counts.add_countentry"

    def get(self, request, pk):
        session = self.get_session()
        found = selectors.resolve_code(session=session, code=request.GET.get("code", ""))
        body = {"kind": found.kind, "id": found.pk, "code": found.code, "label": found.label}
        if found.kind == "product":
            body["whole"] = found.whole
        if found.kind == "outside":
            body["is_location"] = found.is_location
            body["message"] = (
                _("Location %(code)s is not part of this count: scan a location of this count.")
                % {"code": found.code}
                if found.is_location
                else _("%(sku)s is not in the categories of this count.") % {"sku": found.code}
            )
        elif found.kind == "unknown":
            body["message"] = (
                _("Unknown code “%(code)s”: not a location of this warehouse nor a product.")
                % {"code": found.code}
                if found.code
                else _("Scan or type a code.")
            )
        return JsonResponse(body)


class RecordEntryView(StaffPageMixin, _SessionMixin, View):
    """POST one counted quantity (JSON answer). Never reveals the expected quantity of a
    blind session."""

    permission_required = "inventory_counts.add_countentry"

    def post(self, request, pk):
        session = self.get_session()
        form = EntryForm(request.POST)
        if not form.is_valid():
            field, errors = next(iter(form.errors.items()))
            return JsonResponse(
                {"status": "error", "field": field, "message": " ".join(str(e) for e in errors)},
                status=400,
            )
        data = form.cleaned_data
        try:
            outcome = services.record_entry(
                session=session,
                location=data["location"],
                product=data["product"],
                quantity=data["quantity"],
                confirm_duplicate=data["confirm"],
                confirm_implausible=data["confirm_implausible"],
                by=self.staff_user,
            )
        except services.EntryNeedsConfirmation as exc:
            # status: "duplicate" or "implausible"; the page asks, then posts the matching flag.
            return JsonResponse({"status": str(exc.code), "message": str(exc)}, status=409)
        except DomainError as exc:
            return JsonResponse(
                {
                    "status": "error",
                    "field": exc.field,
                    "problem": str(getattr(exc, "code", "")),
                    "message": str(exc),
                },
                status=422,
            )
        product, location = data["product"], data["location"]
        body = {
            "status": "added",
            "message": _("%(qty)s × %(sku)s at %(location)s recorded.")
            % {
                "qty": services._qty(outcome.entry.quantity),
                "sku": product.sku,
                "location": location.code,
            },
            # A blind count shows a clerk only their own count, never what others found.
            "counted": services._qty(
                outcome.counted if session.shows_expected_to(request.user) else outcome.mine
            ),
            "entry": outcome.entry.pk,
            "product": product.name,
        }
        if session.shows_expected_to(request.user) and not session.blind:
            body["expected"] = services._qty(outcome.line.expected_qty)
        return JsonResponse(body, status=201)


# --- count sheets --------------------------------------------------------------------------------
class SheetExportView(StaffPageMixin, _SessionMixin, View):
    """A blank count sheet (CSV or XLSX) of the session's known lines."""

    permission_required = "inventory_counts.view_countsession"

    def get(self, request, pk):
        session = self.get_session()
        fmt = format_by_name(request.GET.get("format") or "csv") or format_by_name("csv")
        lines = session.lines.select_related("location", "product").order_by(
            "location__code", "product__sku"
        )
        return _download(CountSheetExportResource(), lines, fmt, f"count-sheet-{session.pk}")


def _download(resource, rows, fmt, stem: str) -> HttpResponse:
    # Formulas neutralised, CSV with a BOM (Excel then opens UTF-8 correctly).
    content = export_content(resource, rows, fmt)
    response = HttpResponse(content, content_type=fmt.get_content_type())
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt.get_extension()}"'
    return response


class SheetUploadView(StaffPageMixin, _SessionMixin, FormView):
    permission_required = "inventory_counts.import_countsheet"
    template_name = "inventory_counts/sheet_upload.html"
    form_class = SheetUploadForm

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["session"] = self.get_session()
        return ctx

    def form_valid(self, form):
        session = self.get_session()
        upload = form.cleaned_data["file"]
        try:
            sheet = services.upload_count_sheet(
                session=session,
                content=upload.read(),
                file_name=upload.name,
                input_format=form.cleaned_data["input_format"],
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("inventory_counts:sheet-detail", pk=sheet.pk)


class SheetDetailView(StaffPageMixin, DetailView):
    """The preview: rows, row errors with their numbers, and the confirm button."""

    permission_required = "inventory_counts.import_countsheet"
    template_name = "inventory_counts/sheet_detail.html"
    context_object_name = "sheet"

    def get_queryset(self):
        return CountSheetImport.objects.select_related("session", "created_by", "job").defer(
            "content"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.object.job is not None:
            ctx["job"] = services.refresh_count_sheet(sheet=self.object)
        ctx["can_confirm"] = self.object.state == ImportState.VALID
        ctx["failed"] = self.object.state == ImportState.FAILED
        return ctx


class SheetConfirmView(StaffPageMixin, View):
    permission_required = "inventory_counts.import_countsheet"

    def post(self, request, pk):
        sheet = get_object_or_404(CountSheetImport.objects.defer("content"), pk=pk)
        try:
            services.confirm_count_sheet(sheet=sheet, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("inventory_counts:sheet-detail", pk=sheet.pk)


class SheetRecheckView(StaffPageMixin, View):
    """A sheet whose job failed: check it once more."""

    permission_required = "inventory_counts.import_countsheet"

    def post(self, request, pk):
        sheet = get_object_or_404(CountSheetImport.objects.defer("content"), pk=pk)
        try:
            services.recheck_count_sheet(sheet=sheet, by=self.staff_user)
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("inventory_counts:sheet-detail", pk=sheet.pk)


# --- variance report and stock -------------------------------------------------------------------
class VarianceReportView(StaffPageMixin, _SessionMixin, TemplateView):
    """Summary over all lines plus one page of lines, largest value variance first; prints."""

    permission_required = "inventory_counts.review_countsession"
    template_name = "inventory_counts/variance_report.html"

    def get_context_data(self, **kwargs):
        from django.core.paginator import Paginator

        ctx = super().get_context_data(**kwargs)
        session = self.get_session()
        only = self.request.GET.get("only") == "variances"
        q = self.request.GET.get("q", "").strip()
        lines = selectors.variance_lines(session, only_variances=only, q=q)
        paginator = Paginator(lines, REPORT_PAGE_SIZE, allow_empty_first_page=True)
        page = paginator.get_page(self.request.GET.get("page"))
        ctx.update(
            session=session,
            summary=selectors.variance_summary(session),
            page_obj=page,
            lines=page.object_list,
            only=only,
            q=q,
            formats=[f().get_title() for f in _formats()],
            printed_at=timezone.now(),
        )
        return ctx


class VarianceExportView(StaffPageMixin, _SessionMixin, View):
    permission_required = "inventory_counts.review_countsession"

    def get(self, request, pk):
        session = self.get_session()
        fmt = format_by_name(request.GET.get("format") or "csv") or format_by_name("csv")
        rows = selectors.variance_lines(session)
        return _download(VarianceReportResource(), rows, fmt, f"variance-report-{session.pk}")


class StockListView(StaffPageMixin, ListView):
    """The approved stock manual orders sell from; with ?q=<sku> also its history."""

    permission_required = "inventory_counts.view_approvedstock"
    template_name = "inventory_counts/stock_list.html"
    context_object_name = "rows"
    paginate_by = 50

    def get_queryset(self):
        # Blind counts stay blind: a clerk sees no figure of the bins they are counting.
        self.hidden = selectors.stock_hidden_from(self.request.user)
        return selectors.current_stock(q=self.request.GET.get("q", "").strip(), hidden=self.hidden)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").strip()
        product = Product.objects.filter(sku=q).first() if q else None
        ctx["some_hidden"] = self.hidden is not None
        if product is not None:
            ctx["product"] = product
            ctx["history"] = selectors.stock_history(product=product, hidden=self.hidden)[:100]
            if selectors.has_hidden_stock(product=product, hidden=self.hidden):
                ctx["available_hidden"] = True
            else:
                ctx["available"] = selectors.available_counted_stock(product=product)
        return ctx
