"""Thin views: parse with a form, check the role's permission, call one service, render."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from apps.core.errors import DomainError, add_domain_error
from apps.core.events import message
from apps.core.jobs import start_job
from apps.core.mixins import StaffPageMixin
from apps.manual_orders.models import ManualOrder

from . import events, selectors, services
from .choices import OPEN_STATES, TRANSITIONS, CaseState, Condition, Priority
from .errors import CareError
from .forms import (
    AssignForm,
    CancelOrderForm,
    LinkOrderForm,
    LookupForm,
    MessageForm,
    OrderChangeForm,
    OrderSystemRequestForm,
    PhoneCaseForm,
    ReassignForm,
    ReceiveRmaForm,
    RefundForm,
    ResponseTargetForm,
    RmaForm,
    StateForm,
)
from .models import Case, CaseOrder, IngestedMail, Rma

VIEW, ADD, WORK = "customer_care.view_case", "customer_care.add_case", "customer_care.work_case"
LEAD, MANAGE = "customer_care.lead_care", "customer_care.manage_targets"


def _after(value: str) -> tuple[int, datetime, int] | None:
    """The queue's keyset cursor ``lane|due|id`` from the query string (ignored when broken)."""
    try:
        lane, due, pk = value.split("|")
        moment = parse_datetime(due)
        return (int(lane), moment, int(pk)) if moment else None
    except (ValueError, TypeError):
        return None


class QueueView(StaffPageMixin, TemplateView):
    permission_required = VIEW
    template_name = "customer_care/queue.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        mine = self.request.GET.get("mine") == "1"
        cases = selectors.queue(
            owner=self.staff_user if mine else None,
            after=_after(self.request.GET.get("after", "")),
        )
        ctx["rows"] = [(case, selectors.clock_of(case)) for case in cases]
        ctx["mine"] = mine
        if len(cases) == selectors.QUEUE_PAGE:
            last = cases[-1]
            ctx["next_after"] = f"{last.lane}|{last.due_at.isoformat()}|{last.pk}"
        return ctx


class CaseNewView(StaffPageMixin, FormView):
    """A phone case, keyed while the caller is on the line (phone number first)."""

    permission_required = ADD
    template_name = "customer_care/case_new.html"
    form_class = PhoneCaseForm

    def form_valid(self, form):
        data = form.cleaned_data
        orders = []
        if data["order_number"]:
            orders.append(services.OrderRef(data["order_source"], data["order_number"]))
        try:
            case = services.open_case(
                channel=data["channel"],
                case_type=data["case_type"],
                subject=data["subject"],
                priority=data["priority"],
                caller_phone=data["caller_phone"],
                caller_name=data["caller_name"],
                contact_email=data["contact_email"],
                body=data["body"],
                orders=orders,
                owner=self.staff_user,
                idempotency_key=data["idempotency_key"],
                by=self.staff_user,
            )
        except DomainError as exc:
            if exc.field == "number":
                exc.field = "order_number"
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Case %(reference)s opened. Give the caller this reference.")
            % {"reference": case.reference},
        )
        return redirect("customer_care:case-detail", pk=case.pk)


class CaseDetailView(StaffPageMixin, TemplateView):
    permission_required = VIEW
    template_name = "customer_care/case_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        try:
            case = selectors.get_case(self.kwargs["pk"])
        except Case.DoesNotExist:
            raise Http404 from None
        agents = selectors.care_agents()
        ctx.update(
            case=case,
            clock=selectors.clock_of(case),
            conversation=selectors.conversation(case),
            timeline=selectors.timeline(case),
            orders=case.orders.select_related("manual_order"),
            requests=case.order_requests.all(),
            refunds=case.refunds.all(),
            history=selectors.customer_history(case),
            may_work=self.staff_user.has_perm(WORK),
            message_form=kwargs.get("message_form") or MessageForm(),
            state_choices=[
                (s, CaseState(s).label) for s in CaseState.values if s in TRANSITIONS[case.state]
            ],
            assign_form=AssignForm(
                agents=agents, initial={"owner": case.owner_id, "version": case.version}
            ),
            link_form=LinkOrderForm(),
            request_form=OrderSystemRequestForm(),
            refund_form=RefundForm(),
            cancel_form=CancelOrderForm(),
            rma_form=RmaForm(),
            rmas=case.rmas.select_related("warehouse").prefetch_related("lines__product"),
            conditions=Condition.choices,
        )
        return ctx


class _CaseAction(StaffPageMixin, View):
    """A POST on one case: parse the form, call the service, go back to the case."""

    permission_required: str | tuple[str, ...] = WORK
    form_class: type = StateForm

    def case(self) -> Case:
        return get_object_or_404(Case, pk=self.kwargs["pk"])

    def form_kwargs(self) -> dict:
        return {}

    def post(self, request, pk):
        case = self.case()
        form = self.form_class(request.POST, **self.form_kwargs())
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("customer_care:case-detail", pk=case.pk)
        self.form = form
        try:
            done = self.act(case, form.cleaned_data)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            if done:
                messages.success(request, done)
        return redirect(self.next_url(case))

    def next_url(self, case: Case) -> str:
        from django.urls import reverse

        return reverse("customer_care:case-detail", kwargs={"pk": case.pk})

    def act(self, case: Case, data: dict) -> str:
        raise NotImplementedError


class CaseMessageView(_CaseAction):
    form_class = MessageForm

    def act(self, case, data):
        services.add_message(
            case=case,
            direction=data["direction"],
            body=data["body"],
            idempotency_key=data["idempotency_key"],
            by=self.staff_user,
        )
        return _("Message added.")


class CaseStateView(_CaseAction):
    form_class = StateForm

    def act(self, case, data):
        case = services.change_state(
            case=case, to=data["to"], version=data["version"], by=self.staff_user
        )
        return _("Case %(reference)s is now %(state)s.") % {
            "reference": case.reference,
            "state": case.get_state_display(),
        }


class CaseAssignView(_CaseAction):
    form_class = AssignForm

    def form_kwargs(self):
        return {"agents": selectors.care_agents()}

    def act(self, case, data):
        services.assign_case(
            case=case, owner=data["owner"], version=data["version"], by=self.staff_user
        )
        return _("Owner changed.")


class CaseLinkOrderView(_CaseAction):
    form_class = LinkOrderForm

    def act(self, case, data):
        services.link_order(
            case=case, source=data["source"], number=data["number"], by=self.staff_user
        )
        return _("Order added to the case.")


class CaseCancelOrderView(_CaseAction):
    permission_required = (WORK, "manual_orders.change_manualorder")
    form_class = CancelOrderForm

    def act(self, case, data):
        link = get_object_or_404(CaseOrder, pk=data["link"], case=case, manual_order__isnull=False)
        if link.manual_order is None:
            raise Http404
        order = services.cancel_manual_order(
            case=case, order=link.manual_order, reason=data["reason"], by=self.staff_user
        )
        return _("Order %(number)s cancelled; the customer is told.") % {"number": order.number}


class CaseRequestView(_CaseAction):
    form_class = OrderSystemRequestForm

    def act(self, case, data):
        services.request_order_system_change(
            case=case,
            number=data["number"],
            kind=data["kind"],
            ship_city=data["ship_city"],
            ship_address=data["ship_address"],
            reason=data["reason"],
            by=self.staff_user,
        )
        return _("Request recorded: the hand-back applies it once the order system is back.")


class CaseRefundView(_CaseAction):
    form_class = RefundForm

    def act(self, case, data):
        services.record_refund(
            case=case,
            amount=data["amount"],
            method=data["method"],
            order_number=data["order_number"],
            note=data["note"],
            idempotency_key=data["idempotency_key"],
            by=self.staff_user,
        )
        return _("Refund recorded for finance.")


class CaseRmaView(_CaseAction):
    form_class = RmaForm

    def act(self, case, data):
        from apps.catalog.models import Product

        form = self.form
        products = {p.sku: p for p in Product.objects.filter(sku__in=[s for s, _q in form.items()])}
        items = []
        for sku, quantity in form.items():
            if sku not in products:
                raise DomainError(CareError.UNKNOWN_SKU, params={"sku": sku})
            items.append(services.ReturnedItem(products[sku], quantity))
        rma = services.open_rma(
            case=case,
            kind=data["kind"],
            warehouse=data["warehouse"],
            reason=data["reason"],
            order_number=data["order_number"],
            items=items,
            idempotency_key=data["idempotency_key"],
            by=self.staff_user,
        )
        return _("Return %(rma)s opened.") % {"rma": rma.reference}


class CaseReceiveRmaView(_CaseAction):
    form_class = ReceiveRmaForm

    def act(self, case, data):
        rma = get_object_or_404(Rma, pk=data["rma"], case=case)
        conditions = {
            line.pk: self.request.POST.get(f"condition_{line.pk}", "") for line in rma.lines.all()
        }
        rma = services.receive_rma(rma=rma, conditions=conditions, by=self.staff_user)
        return _("Return %(rma)s received.") % {"rma": rma.reference}


class CaseOrderChangeView(StaffPageMixin, FormView):
    """Change a manual order of the case (address, contact, quantities)."""

    permission_required = (WORK, "manual_orders.change_manualorder")
    template_name = "customer_care/order_change.html"
    form_class = OrderChangeForm

    def dispatch(self, request, *args, **kwargs):
        self.case = get_object_or_404(Case, pk=kwargs["pk"])
        links = self.case.orders.filter(manual_order__isnull=False).select_related(
            "manual_order__customer"
        )
        self.links = list(links)
        link_id = request.GET.get("link") or request.POST.get("link")
        self.link = next((lk for lk in self.links if str(lk.pk) == str(link_id)), None)
        if self.link is None and len(self.links) == 1:
            self.link = self.links[0]
        return super().dispatch(request, *args, **kwargs)

    @property
    def order(self) -> ManualOrder | None:
        return self.link.manual_order if self.link else None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        order = self.order
        if order is not None:
            kwargs["lines"] = order.lines.all()
            kwargs.setdefault("initial", {}).update(
                delivery_city=order.delivery_city,
                delivery_address=order.delivery_address,
                phone=order.customer.phone,
                email=order.customer.email,
            )
        return kwargs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(case=self.case, links=self.links, link=self.link, order=self.order)
        return ctx

    def form_valid(self, form):
        if self.order is None:
            raise Http404
        data = form.cleaned_data
        try:
            order = services.change_manual_order(
                case=self.case,
                order=self.order,
                delivery_city=data["delivery_city"],
                delivery_address=data["delivery_address"],
                phone=data["phone"] or None,
                email=data["email"],
                quantities=form.quantities() or None,
                note=data["note"],
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Order %(number)s changed; the customer is told.") % {"number": order.number},
        )
        return redirect("customer_care:case-detail", pk=self.case.pk)


class LookupView(StaffPageMixin, TemplateView):
    """Find any order by number, phone or e-mail (manual orders and the order system)."""

    permission_required = VIEW
    template_name = "customer_care/lookup.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = LookupForm(self.request.GET or None)
        ctx["form"] = form
        case_id = self.request.GET.get("case", "")
        ctx["case"] = Case.objects.filter(pk=case_id).first() if case_id.isdigit() else None
        if form.is_bound and form.is_valid():
            try:
                ctx["result"] = services.find_orders(query=form.cleaned_data["query"])
            except DomainError as exc:
                add_domain_error(form, exc)
        ctx["may_work"] = self.staff_user.has_perm(WORK)
        return ctx


class LookupBackupView(StaffPageMixin, View):
    """The order system does not answer: search its latest backup, as a job (a restore)."""

    permission_required = (VIEW, "core.view_jobrecord")

    def post(self, request):
        form = LookupForm(request.POST)
        if not form.is_valid():
            return redirect("customer_care:lookup")
        query = form.cleaned_data["query"]
        job = start_job(
            kind="care_lookup",
            title=message(events.LOOKUP_TITLE, query=query),
            func="apps.customer_care.jobs.lookup_in_backup_job",
            kwargs={"query": query},
            queue="backups",
            by=self.staff_user,
        )
        return redirect("core:job-detail", pk=job.pk)


class TeamView(StaffPageMixin, TemplateView):
    permission_required = LEAD
    template_name = "customer_care/team.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        cases = selectors.queue(limit=200)
        ctx.update(
            selectors.team_view(),
            figures=selectors.agent_figures(),
            rows=[(case, selectors.clock_of(case)) for case in cases],
            form=kwargs.get("form")
            or ReassignForm(
                agents=selectors.care_agents(), case_choices=[(c.pk, c.reference) for c in cases]
            ),
        )
        return ctx


class ReassignView(StaffPageMixin, View):
    permission_required = LEAD

    def post(self, request):
        open_ids = request.POST.getlist("cases")
        choices = [
            (pk, pk)
            for pk in Case.objects.filter(
                pk__in=[int(i) for i in open_ids if i.isdigit()], state__in=OPEN_STATES
            ).values_list("pk", flat=True)
        ]
        form = ReassignForm(request.POST, agents=selectors.care_agents(), case_choices=choices)
        if not form.is_valid():
            messages.error(request, _("Choose the cases and the agent to hand them to."))
            return redirect("customer_care:team")
        try:
            moved = services.reassign_cases(
                case_ids=form.cleaned_data["cases"],
                owner=form.cleaned_data["owner"],
                by=self.staff_user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(count)s cases handed over.") % {"count": moved})
        return redirect("customer_care:team")


class TargetsView(StaffPageMixin, FormView):
    permission_required = MANAGE
    template_name = "customer_care/targets.html"
    form_class = ResponseTargetForm

    def get_initial(self):
        return {"priority": Priority.NORMAL}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["targets"] = selectors.response_targets()
        ctx["teams"] = selectors.teams()
        ctx["defaults"] = [
            (Priority(p).label, v[0], v[1])
            for p, v in settings.CARE_RESPONSE_TARGETS.items()
            if p in Priority.values
        ]
        return ctx

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            services.save_response_target(
                priority=data["priority"],
                channel=data["channel"] or "",
                first_response_minutes=data["first_response_minutes"],
                resolution_minutes=data["resolution_minutes"],
                by=self.staff_user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Response target saved."))
        return redirect("customer_care:targets")


class MailLogView(StaffPageMixin, TemplateView):
    permission_required = LEAD
    template_name = "customer_care/mail_log.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["mails"] = IngestedMail.objects.select_related("case").order_by("-pk")[:200]
        return ctx
