"""A first run that looks real: stock, costs, allocation rules, incidents and orders.

Everything goes through the apps' services, so timelines, order events and history rows are the
ones real use writes. Idempotent: each piece is found by its demo name (or its order's
idempotency key) and made only once, so ``make run`` twice changes nothing.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.accounts.management.commands.seed_demo import ensure_demo_users
from apps.accounts.roles import Role
from apps.catalog import services as catalog
from apps.catalog.models import Location, Product, Warehouse
from apps.incidents import services as incidents
from apps.incidents.choices import (
    CauseCategory,
    CauseDetail,
    IncidentState,
    ResourceKind,
    ResourceState,
    Severity,
    TeamRole,
)
from apps.incidents.models import Incident
from apps.inventory_counts import services as counts
from apps.inventory_counts.choices import SessionState
from apps.inventory_counts.models import CountSession
from apps.manual_orders import services as orders
from apps.manual_orders.choices import NotifyBy, OrderChannel, OrderState, OrderType
from apps.manual_orders.models import AllocationRule, Customer, ManualOrder, ProductPrice

NAMESPACE = uuid.UUID("5d0c1f7e-6a39-4c61-9d3a-0c5e7f1d2b10")
COST_SHARE = Decimal("0.62")  # what a product costs us, as a share of its selling price
PRODUCTS_PER_WAREHOUSE = 40

FIRST_COUNT = "演示：{code} 首次盘点"
WEEKLY_COUNT = "演示：{code} 周盘点"
# Left open, so a warehouse clerk signing in to the demo has a count to scan into.
OPEN_COUNT = "演示：{code} 月度盘点"

RULES = [
    # name, warehouse code, carrier, priority, order type, destination
    ("大件走德邦", "GZ01", "德邦物流", 10, OrderType.BULKY, ""),
    ("上海及华东", "SH01", "顺丰速运", 20, "", "上海"),
    ("广州及华南", "GZ01", "顺丰速运", 30, "", "广州"),
    ("其他地区", "SH01", "中通快递", 100, "", ""),
]

CUSTOMERS = [
    # name, phone, city, address, vip
    ("孙悦", "13800138001", "上海", "上海市浦东新区世纪大道100号", True),
    ("黄磊", "13800138002", "广州", "广州市天河区体育西路88号", False),
    ("吴婷", "13800138003", "成都", "成都市锦江区春熙路12号", False),
]

# (customer index, order type, the state the demo leaves it in)
ORDERS = [
    (0, OrderType.STANDARD, OrderState.CAPTURED),
    (1, OrderType.EXPRESS, OrderState.CAPTURED),
    (2, OrderType.STANDARD, OrderState.CONFIRMED),
    (0, OrderType.STANDARD, OrderState.CONFIRMED),
    (1, OrderType.STANDARD, OrderState.ALLOCATED),
    (2, OrderType.BULKY, OrderState.ALLOCATED),
    (0, OrderType.EXPRESS, OrderState.DISPATCHED),
    (2, OrderType.STANDARD, OrderState.DISPATCHED),
    (1, OrderType.STANDARD, OrderState.DELIVERED),
    (0, OrderType.STANDARD, OrderState.DELIVERED),
    (2, OrderType.STANDARD, OrderState.CANCELLED),
]
PATH: dict[str, list[str]] = {
    OrderState.CAPTURED: [],
    OrderState.CONFIRMED: [OrderState.CONFIRMED],
    OrderState.ALLOCATED: [OrderState.CONFIRMED, OrderState.ALLOCATED],
    OrderState.DISPATCHED: [OrderState.CONFIRMED, OrderState.ALLOCATED, OrderState.DISPATCHED],
    OrderState.DELIVERED: [
        OrderState.CONFIRMED,
        OrderState.ALLOCATED,
        OrderState.DISPATCHED,
        OrderState.DELIVERED,
    ],
    OrderState.CANCELLED: [OrderState.CANCELLED],
}

CLOSED_INCIDENT = "演示：会员积分服务升级后订单重复扣减（已恢复）"
OPEN_INCIDENT = "演示：订单系统 4.0 升级失败，下单接口全部报错"


class Command(BaseCommand):
    help = (
        "Fill the back-office with demo activity (stock, costs, allocation rules, incidents, "
        "manual orders) through the apps' services. Idempotent. Refused in production mode."
    )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo_activity is for development and demos only.")
        if not Product.objects.filter(active=True).exists() or not Warehouse.objects.exists():
            raise CommandError(
                "No products or warehouses yet: run load_reference and seed_demo_warehouses first."
            )
        # The embedded default runs jobs (notices) in threads of this short-lived process: run
        # them inline so none is left half-done when the command exits.
        runner = "sync" if settings.JOB_RUNNER == "thread" else settings.JOB_RUNNER
        with override_settings(JOB_RUNNER=runner):
            people = ensure_demo_users()
            costed = self.set_costs()
            self.closed_incident(people)
            self.open_incident(people)
            sessions = self.counts(people)
            rules = self.rules(people)
            placed = self.orders(people)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo activity ready: {costed} products with a unit cost, {sessions} approved counts, "
                f"{rules} allocation rules, {placed} manual orders, "
                f"{Incident.objects.filter(title__startswith='演示').count()} incidents."
            )
        )

    # --- stock ------------------------------------------------------------------------------
    def set_costs(self) -> int:
        """Unit costs from the selling price, so variance values mean something."""
        prices = dict(ProductPrice.objects.values_list("product_id", "price"))
        # The catalogue owns products: unit costs go in through its service.
        catalog.upsert_products(
            products=[
                catalog.ProductData(
                    sku=p.sku,
                    name=p.name,
                    category=p.category,
                    unit=p.unit,
                    active=p.active,
                    unit_cost=(prices[p.pk] * COST_SHARE).quantize(Decimal("0.01")),
                )
                for p in Product.objects.filter(unit_cost=0).order_by("pk")
                if prices.get(p.pk)
            ],
            by=None,
            reason="demo unit cost",
        )
        return Product.objects.filter(unit_cost__gt=0).count()

    def _stocked(self, warehouse: Warehouse) -> list[tuple[Location, Product, int]]:
        """Which product lies in which bin, and how many: a pure function of the ids."""
        bins = list(Location.objects.filter(warehouse=warehouse).order_by("code"))
        products = list(
            Product.objects.filter(active=True, selling_price__isnull=False).order_by("sku")[
                :PRODUCTS_PER_WAREHOUSE
            ]
        )
        offset = 0 if warehouse.code == "SH01" else 7
        return [
            (bins[(i + offset) % len(bins)], p, 40 + ((p.pk + offset) * 37) % 160)
            for i, p in enumerate(products)
        ]

    def counts(self, people) -> int:
        manager, clerk = people[Role.MANAGER], people[Role.WAREHOUSE_CLERK]
        for warehouse in Warehouse.objects.filter(locations__isnull=False).distinct():
            stocked = self._stocked(warehouse)
            if not stocked:
                continue
            # The first count establishes the stock; a weekly one finds small differences.
            self._count(FIRST_COUNT, warehouse, stocked, manager, clerk, lambda n, qty: qty)
            if warehouse.code == "SH01":
                self._count(
                    WEEKLY_COUNT,
                    warehouse,
                    stocked,
                    manager,
                    clerk,
                    lambda n, qty: qty - 1 if n % 3 == 0 else qty + 1 if n % 5 == 0 else qty,
                )
            if warehouse.code == "GZ01":
                self._open_count(warehouse, stocked, manager, clerk)
        return CountSession.objects.filter(
            name__startswith="演示", state=SessionState.APPROVED
        ).count()

    def _open_count(self, warehouse, stocked, manager, clerk) -> None:
        name = OPEN_COUNT.format(code=warehouse.code)
        if CountSession.objects.filter(name=name, warehouse=warehouse).exists():
            return
        session = counts.create_session(
            name=name,
            warehouse=warehouse,
            locations={loc.pk: loc for loc, _p, _q in stocked}.values(),
            clerks=[clerk],
            by=manager,
        )
        counts.start_session(session=session, by=manager)

    def _count(self, name, warehouse, stocked, manager, clerk, counted) -> None:
        name = name.format(code=warehouse.code)
        session = CountSession.objects.filter(name=name, warehouse=warehouse).first()
        if session is None:
            session = counts.create_session(
                name=name,
                warehouse=warehouse,
                locations={loc.pk: loc for loc, _p, _q in stocked}.values(),
                clerks=[clerk],
                by=manager,
            )
        if session.state == SessionState.DRAFT:
            session = counts.start_session(session=session, by=manager)
        if session.state == SessionState.COUNTING:
            done = set(session.lines.exclude(counted_qty=None).values_list("product_id", flat=True))
            for n, (location, product, qty) in enumerate(stocked):
                if product.pk not in done:
                    counts.record_entry(
                        session=session,
                        location=location,
                        product=product,
                        quantity=Decimal(counted(n, qty)),
                        by=clerk,
                    )
            session = counts.close_counting(session=session, by=manager)
        if session.state == SessionState.REVIEW:
            # Demo counts differ from the books on purpose (and the first has nothing to compare
            # with), so the manager approves with a note, as the review rules ask.
            counts.approve_session(
                session=session,
                by=manager,
                note="Demo count: variances checked on the shelf with the shift lead.",
            )

    # --- manual orders ------------------------------------------------------------------------
    def rules(self, people) -> int:
        by = people[Role.LOGISTICS]
        warehouses = {w.code: w for w in Warehouse.objects.all()}
        for name, code, carrier, priority, order_type, destination in RULES:
            if code in warehouses and not AllocationRule.objects.filter(name=name).exists():
                orders.save_allocation_rule(
                    name=name,
                    warehouse=warehouses[code],
                    carrier=carrier,
                    priority=priority,
                    order_type=order_type,
                    destination=destination,
                    by=by,
                )
        return AllocationRule.objects.count()

    def orders(self, people) -> int:
        operator, logistics = people[Role.BUSINESS_SUPPORT], people[Role.LOGISTICS]
        customers = []
        for name, phone, city, address, vip in CUSTOMERS:
            customer = Customer.objects.filter(phone=phone).first() or orders.create_customer(
                name=name,
                phone=phone,
                city=city,
                address=address,
                vip=vip,
                # Demo customers are not real people: nothing is sent to them.
                notify_by=NotifyBy.NONE,
                by=operator,
            )
            customers.append(customer)
        products = [p for _loc, p, _q in self._stocked(Warehouse.objects.order_by("code")[0])]
        for n, (who, order_type, target) in enumerate(ORDERS):
            customer = customers[who]
            lines = [
                orders.LineInput(product_id=products[(n * 3 + k) % len(products)].pk, quantity=k)
                for k in (1, 2)
            ]
            order = orders.place_order(
                idempotency_key=uuid.uuid5(NAMESPACE, f"demo-order-{n}"),
                customer=customer,
                channel=OrderChannel.PHONE if n % 3 else OrderChannel.EMAIL,
                lines=lines,
                delivery_address=customer.address,
                delivery_city=customer.city,
                order_type=order_type,
                notes="演示订单",
                confirm_duplicate=True,
                by=operator,
            ).order
            for step in PATH[target][len(self._done(order, target)) :]:
                order = self._move(order, step, n, operator, logistics)
        return ManualOrder.objects.filter(notes="演示订单").count()

    @staticmethod
    def _done(order: ManualOrder, target: str) -> list[str]:
        path = PATH[target]
        return path[: path.index(order.state) + 1] if order.state in path else []

    @staticmethod
    def _move(order, step, n, operator, logistics):
        if step == OrderState.CONFIRMED:
            return orders.confirm_order(order=order, by=operator)
        if step == OrderState.ALLOCATED:
            return orders.allocate_order(order=order, by=logistics)
        if step == OrderState.DISPATCHED:
            return orders.dispatch_order(
                order=order, tracking_number=f"SF{1300000000 + n * 7919}", by=logistics
            )
        if step == OrderState.DELIVERED:
            return orders.deliver_order(order=order, by=logistics)
        return orders.cancel_order(order=order, reason="客户来电取消：已在门店购买", by=operator)

    # --- incidents ------------------------------------------------------------------------------
    def _team(self, incident, people, roles) -> None:
        for team_role, role in roles:
            user = people[role]
            if not incident.team.filter(user=user, team_role=team_role).exists():
                incidents.assign_member(
                    incident=incident,
                    user=user,
                    team_role=team_role,
                    by=people[Role.MANAGER],
                    incident_url=reverse("incidents:incident-detail", args=[incident.pk]),
                )

    def _walk(self, incident, states, by) -> Incident:
        for state in states:
            incident.refresh_from_db()
            if state in incidents.allowed_next_states(incident):
                incident = incidents.transition(incident=incident, to=state, by=by)
        return incident

    @transaction.atomic
    def closed_incident(self, people) -> None:
        lead = people[Role.EMERGENCY_LEAD]
        if Incident.objects.filter(title=CLOSED_INCIDENT).exists():
            return
        incident = incidents.declare_incident(
            title=CLOSED_INCIDENT,
            severity=Severity.MEDIUM,
            detected_at=timezone.now() - timedelta(hours=3),
            description="积分服务升级后，部分订单的会员积分被扣减两次。",
            cause_category=CauseCategory.DATA_MIGRATION,
            cause_detail=CauseDetail.MIGRATION_ERROR,
            by=lead,
        )
        self._team(incident, people, [(TeamRole.LEADER, Role.EMERGENCY_LEAD)])
        self._team(incident, people, [(TeamRole.TECH_SUPPORT, Role.TECH_SUPPORT)])
        incident = self._walk(
            incident, [IncidentState.TEAM_ASSEMBLED, IncidentState.INVESTIGATING], lead
        )
        incidents.add_note(
            incident=incident, text="定位到积分迁移脚本重复执行了一次，已停止该脚本。", by=lead
        )
        incident = self._walk(incident, [IncidentState.FIXING, IncidentState.RECOVERED], lead)
        incidents.add_note(
            incident=incident,
            text="已按备份回补 312 个会员的积分，客服已逐一回访。",
            by=people[Role.TECH_SUPPORT],
        )
        incident = self._walk(incident, [IncidentState.MONITORING, IncidentState.CLOSED], lead)
        incidents.add_note(
            incident=incident,
            text="决定：迁移脚本加幂等标记后再用于下次升级。",
            by=lead,
            decision=True,
        )

    @transaction.atomic
    def open_incident(self, people) -> None:
        lead = people[Role.EMERGENCY_LEAD]
        if Incident.objects.filter(title=OPEN_INCIDENT).exists():
            return
        incident = incidents.declare_incident(
            title=OPEN_INCIDENT,
            severity=Severity.CRITICAL,
            detected_at=timezone.now() - timedelta(minutes=40),
            description="升级到 4.0 后，下单接口返回 500，网站和 App 都无法下单。",
            by=lead,
        )
        self._team(
            incident,
            people,
            [
                (TeamRole.LEADER, Role.EMERGENCY_LEAD),
                (TeamRole.TECH_SUPPORT, Role.TECH_SUPPORT),
                (TeamRole.BUSINESS_SUPPORT, Role.BUSINESS_SUPPORT),
                (TeamRole.LOGISTICS, Role.LOGISTICS),
            ],
        )
        incident = self._walk(
            incident, [IncidentState.TEAM_ASSEMBLED, IncidentState.INVESTIGATING], lead
        )
        incident = incidents.update_assessment(
            incident=incident,
            version=None,
            by=lead,
            cause_category=CauseCategory.SYSTEM_COMPATIBILITY,
            cause_detail=CauseDetail.SOFTWARE_CONFLICT,
        )
        incidents.add_note(
            incident=incident,
            text="新版本与生产环境的中间件版本冲突，回滚方案评估中。",
            by=people[Role.TECH_SUPPORT],
        )
        incident = self._walk(incident, [IncidentState.MANUAL_PROCESS], lead)
        incidents.add_note(
            incident=incident,
            text="决定：客服电话和邮件接单，手工订单恢复后回传订单系统。",
            by=lead,
            decision=True,
        )
        resource = incidents.request_resource(
            incident=incident,
            kind=ResourceKind.SERVER,
            description="备用数据库服务器",
            quantity=Decimal(1),
            unit="台",
            by=people[Role.TECH_SUPPORT],
        )
        incidents.move_resource(resource=resource, to=ResourceState.ALLOCATED, by=lead)
