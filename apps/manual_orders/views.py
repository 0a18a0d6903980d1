"""Thin views: parse with a form, check the role's permission, call one service, render."""

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from apps.catalog.models import Warehouse
from apps.core.errors import DomainError, add_domain_error
from apps.core.mixins import StaffPageMixin

from . import selectors, services
from .choices import OrderState, PushState
from .forms import (
    AllocateForm,
    AllocationRuleForm,
    CancelForm,
    DispatchForm,
    OrderEntryForm,
    OrderFilterForm,
    ReferenceUploadForm,
)
from .models import AllocationRule, ManualOrder, ReferenceImport


# --- entry ------------------------------------------------------------------------------------------
class OrderEntryView(StaffPageMixin, FormView):
    permission_required = "manual_orders.add_manualorder"
    template_name = "manual_orders/order_entry.html"
    form_class = OrderEntryForm

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = ctx["form"]
        products = selectors.entry_products(
            int(row["product_id"]) for row in form.line_rows if row.get("product_id", "").isdigit()
        )
        ctx["line_rows"] = [
            {**row, "product": products.get(int(row["product_id"]))}
            if row.get("product_id", "").isdigit()
            else row
            for row in form.line_rows
        ]
        ctx["customer_query"] = form.data.get("customer_query", "") if form.is_bound else ""
        ctx["may_override_price"] = self.request.user.has_perm("manual_orders.override_price")
        customer = form.cleaned_data.get("customer") if hasattr(form, "cleaned_data") else None
        ctx["chosen_customer"] = customer
        ctx["show_duplicate_confirm"] = bool(form.errors.get("confirm_duplicate")) or (
            form.is_bound and form.data.get("confirm_duplicate")
        )
        return ctx

    def form_valid(self, form):
        data = form.cleaned_data
        user = self.request.user
        try:
            order_fields = dict(
                idempotency_key=data["idempotency_key"],
                channel=data["channel"],
                order_type=data["order_type"],
                received_at=data["received_at"],
                email_reference=data["email_reference"],
                delivery_city=data["delivery_city"],
                delivery_address=data["delivery_address"],
                notes=data["notes"],
                confirm_duplicate=data["confirm_duplicate"],
                lines=[
                    services.LineInput(
                        product_id=line.product.pk,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        price_reason=line.reason,
                    )
                    for line in form.lines
                ],
                by=user,
            )
            placed = services.take_order(
                customer=data["customer"],
                new_customer=dict(
                    name=data["new_name"],
                    phone=data["new_phone"],
                    email=data["new_email"],
                    city=data["delivery_city"],
                    address=data["delivery_address"],
                    language=data["new_language"],
                    notify_by=data["new_notify_by"],
                ),
                **order_fields,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        for warning in placed.warnings:
            messages.warning(self.request, _("Stock is short: %(detail)s") % {"detail": warning})
        messages.success(
            self.request,
            _("Order %(number)s taken. Read the number back to the caller.")
            % {"number": placed.order.number},
        )
        return redirect("manual_orders:order-detail", pk=placed.order.pk)


class CustomerSearchView(StaffPageMixin, View):
    permission_required = "manual_orders.add_manualorder"

    def get(self, request):
        results = [
            {
                "id": c.pk,
                "name": c.name,
                "phone": c.phone,
                "email": c.email,
                "city": c.city,
                "addresses": c.addresses,
                "vip": c.vip,
            }
            for c in selectors.search_customers(request.GET.get("q", ""))
        ]
        return JsonResponse({"results": results})


class ProductSearchView(StaffPageMixin, View):
    permission_required = "manual_orders.add_manualorder"

    def get(self, request):
        return JsonResponse({"results": selectors.search_products(request.GET.get("q", ""))})


# --- list and detail ------------------------------------------------------------------------------------
class OrderListView(StaffPageMixin, TemplateView):
    permission_required = "manual_orders.view_manualorder"
    template_name = "manual_orders/order_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = OrderFilterForm(self.request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        tz = timezone.get_current_timezone()

        def day(value, end=False):
            if not value:
                return None
            moment = datetime.combine(value, time.min, tzinfo=tz)
            return moment + timedelta(days=1) if end else moment

        filters = selectors.OrderFilters(
            q=data.get("q") or "",
            state=data.get("state") or "",
            channel=data.get("channel") or "",
            push_state=data.get("push_state") or "",
            warehouse=data["warehouse"].pk if data.get("warehouse") else None,
            received_from=day(data.get("received_from")),
            received_to=day(data.get("received_to"), end=True),
            before=data.get("before"),
        )
        orders = selectors.list_orders(filters)
        has_next = len(orders) > selectors.PAGE_SIZE
        orders = orders[: selectors.PAGE_SIZE]
        if has_next:
            params = self.request.GET.copy()
            params["before"] = str(orders[-1].pk)
            ctx["next_query"] = params.urlencode()
        if filters.before:
            params = self.request.GET.copy()
            params.pop("before", None)
            ctx["first_query"] = params.urlencode()
        ctx.update(form=form, orders=orders)
        return ctx


class OrderDetailView(StaffPageMixin, DetailView):
    permission_required = "manual_orders.view_manualorder"
    template_name = "manual_orders/order_detail.html"
    context_object_name = "order"

    def get_object(self, queryset=None):
        try:
            return selectors.get_order(self.kwargs["pk"])
        except ManualOrder.DoesNotExist as exc:
            raise Http404 from exc

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        order, user = self.object, self.request.user
        ctx["lines"] = selectors.order_lines(order)
        ctx["events"] = selectors.order_events(order)
        allowed = services.allowed_next_states(order)
        ctx["allowed"] = allowed
        if user.has_perm("manual_orders.change_manualorder"):
            ctx["may_change"] = True
            if OrderState.CANCELLED in allowed:
                ctx["cancel_form"] = CancelForm()
        if user.has_perm("manual_orders.fulfil_manualorder"):
            ctx["may_fulfil"] = True
            if OrderState.ALLOCATED in allowed:
                rule = selectors.matching_rule(order)
                ctx["suggested_rule"] = rule
                ctx["allocate_form"] = AllocateForm()
            if OrderState.DISPATCHED in allowed:
                ctx["dispatch_form"] = DispatchForm(initial={"carrier": order.carrier})
        return ctx


class OrderActionView(StaffPageMixin, View):
    """POST-only: one state change of one order."""

    permission_required = "manual_orders.change_manualorder"
    form_class: type[forms.Form] | None = None
    success_message: str | Promise = ""

    def perform(self, order: ManualOrder, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request, pk):
        order = get_object_or_404(ManualOrder, pk=pk)
        form = self.form_class(request.POST) if self.form_class else None
        if form is not None and not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, str(error))
            return redirect("manual_orders:order-detail", pk=pk)
        try:
            self.perform(order, form.cleaned_data if form else {})
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, str(self.success_message))
        return redirect("manual_orders:order-detail", pk=pk)


class ConfirmOrderView(OrderActionView):
    success_message = gettext_lazy("Order confirmed.")

    def perform(self, order, data):
        services.confirm_order(order=order, by=self.staff_user)


class CancelOrderView(OrderActionView):
    form_class = CancelForm
    success_message = gettext_lazy("Order cancelled.")

    def perform(self, order, data):
        services.cancel_order(order=order, reason=data["reason"], by=self.staff_user)


class DeliverOrderView(OrderActionView):
    success_message = gettext_lazy("Order marked as delivered.")

    def perform(self, order, data):
        services.deliver_order(order=order, by=self.staff_user)


class AllocateOrderView(OrderActionView):
    permission_required = "manual_orders.fulfil_manualorder"
    form_class = AllocateForm
    success_message = gettext_lazy("Order allocated.")

    def perform(self, order, data):
        services.allocate_order(
            order=order, warehouse=data["warehouse"], carrier=data["carrier"], by=self.staff_user
        )


class DispatchOrderView(OrderActionView):
    permission_required = "manual_orders.fulfil_manualorder"
    form_class = DispatchForm
    success_message = gettext_lazy("Order dispatched.")

    def perform(self, order, data):
        services.dispatch_order(
            order=order,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            by=self.staff_user,
        )


# --- allocation and picking -----------------------------------------------------------------------------
class PickListIndexView(StaffPageMixin, TemplateView):
    permission_required = "manual_orders.view_manualorder"
    template_name = "manual_orders/pick_list_index.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["warehouses"] = selectors.warehouses_with_picking()
        return ctx


class PickListView(StaffPageMixin, TemplateView):
    permission_required = "manual_orders.view_manualorder"
    template_name = "manual_orders/pick_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        warehouse = get_object_or_404(Warehouse, pk=self.kwargs["pk"])
        ctx["warehouse"] = warehouse
        ctx["printed_at"] = timezone.now()
        ctx.update(selectors.pick_list(warehouse))
        return ctx


class RuleListView(StaffPageMixin, ListView):
    permission_required = "manual_orders.fulfil_manualorder"
    template_name = "manual_orders/rule_list.html"
    context_object_name = "rules"

    def get_queryset(self):
        return AllocationRule.objects.select_related("warehouse")


class RuleAddView(StaffPageMixin, FormView):
    permission_required = "manual_orders.fulfil_manualorder"
    template_name = "manual_orders/rule_form.html"
    form_class = AllocationRuleForm

    def form_valid(self, form):
        services.save_allocation_rule(by=self.staff_user, **form.cleaned_data)
        messages.success(self.request, _("Rule saved."))
        return redirect("manual_orders:rule-list")


# --- hand-back -------------------------------------------------------------------------------------
class ReconciliationView(StaffPageMixin, TemplateView):
    permission_required = "manual_orders.hand_back_manualorder"
    template_name = "manual_orders/reconciliation.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["summary"] = selectors.reconciliation_summary()
        ctx["conflicts"] = selectors.orders_by_push_state(PushState.CONFLICT)
        ctx["pending"] = selectors.orders_by_push_state(PushState.PENDING, limit=50)
        ctx["pushed"] = selectors.orders_by_push_state(PushState.PUSHED, limit=50)
        return ctx


class ExportOrdersView(StaffPageMixin, View):
    permission_required = "manual_orders.hand_back_manualorder"

    def get(self, request):
        file_format = request.GET.get("format", "csv")
        try:
            content, content_type = services.export_orders(
                file_format=file_format,
                push_state=request.GET.get("push_state", ""),
                state=request.GET.get("state", ""),
            )
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("manual_orders:reconciliation")
        if file_format == "csv":  # UTF-8 with a BOM (apps.core.tabular.export_content)
            content_type = f"{content_type}; charset=utf-8"
        response = HttpResponse(content, content_type=content_type)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = (
            f'attachment; filename="manual-orders-{stamp}.{file_format}"'
        )
        return response


class PushOrdersView(StaffPageMixin, View):
    permission_required = "manual_orders.hand_back_manualorder"

    def post(self, request):
        job = services.start_push(by=self.staff_user)
        return redirect("core:job-detail", pk=job.pk)


# --- reference data ------------------------------------------------------------------------------------
class ReferenceUploadView(StaffPageMixin, FormView):
    permission_required = "manual_orders.import_reference"
    template_name = "manual_orders/reference_upload.html"
    form_class = ReferenceUploadForm

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["imports"] = ReferenceImport.objects.defer("content").select_related("created_by")[:20]
        return ctx

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            imp = services.upload_reference(
                kind=form.cleaned_data["kind"],
                content=upload.read(),
                name=upload.name,
                input_format=form.input_format,
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        return redirect("manual_orders:reference-detail", pk=imp.pk)


class ReferenceDetailView(StaffPageMixin, DetailView):
    permission_required = "manual_orders.import_reference"
    template_name = "manual_orders/reference_detail.html"
    context_object_name = "imp"

    def get_queryset(self):
        return ReferenceImport.objects.select_related("job").defer("content")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.object.job is not None:
            ctx["job"] = services.refresh_reference_import(imp=self.object)
        preview = self.object.preview or {}
        actions = preview.get("actions", [])
        ctx["headers"] = preview.get("headers", [])
        ctx["rows"] = [
            (actions[i] if i < len(actions) else "", row)
            for i, row in enumerate(preview.get("rows", []))
        ]
        return ctx


class ReferenceConfirmView(StaffPageMixin, View):
    permission_required = "manual_orders.import_reference"

    def post(self, request, pk):
        imp = get_object_or_404(ReferenceImport.objects.defer("content"), pk=pk)
        # The write can be long (a whole catalogue): a worker does it, the job page shows it.
        job = services.start_reference_import(imp=imp, by=self.staff_user)
        return redirect("core:job-detail", pk=job.pk)


class LoadReferenceView(StaffPageMixin, View):
    permission_required = "manual_orders.import_reference"

    def post(self, request):
        job = services.start_reference_load(
            source=request.POST.get("source", ""), by=self.staff_user
        )
        return redirect("core:job-detail", pk=job.pk)
