"""The plan's backup scopes and policies (editable by admins afterwards)."""

from django.db import migrations

ITEM_ORPHANS = {
    "name": "每个订单明细都有对应订单",
    "name_en": "Every order item has its order",
    "sql": "SELECT count(*) FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL",
}
ORDER_TOTALS = {
    "name": "订单金额等于明细金额之和",
    "name_en": "An order's total equals the sum of its items",
    "sql": (
        "SELECT count(*) FROM orders o LEFT JOIN (SELECT order_id, sum(line_total) AS s "
        "FROM order_items GROUP BY order_id) t ON t.order_id = o.id "
        "WHERE abs(o.total - coalesce(t.s, 0)) > 0.005"
    ),
}
PAYMENT_ORPHANS = {
    "name": "每笔支付都有对应订单",
    "name_en": "Every payment has its order",
    "sql": "SELECT count(*) FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE o.id IS NULL",
}
PAYMENTS_MATCH = {
    "name": "支付金额与订单相符",
    "name_en": "Payments match their orders (never more than the total)",
    "sql": (
        "SELECT count(*) FROM (SELECT p.order_id FROM payments p JOIN orders o ON o.id = p.order_id "
        "GROUP BY p.order_id, o.total HAVING sum(p.amount) > o.total + 0.005) x"
    ),
}

SCOPES = [
    # slug, zh, en, tables, log pattern, checks, default kind
    ("orders", "订单数据", "Orders data", ["orders", "order_items"], "", [ITEM_ORPHANS, ORDER_TOTALS], "realtime"),
    ("transactions", "交易数据", "Transaction data", ["payments"], "", [PAYMENT_ORPHANS, PAYMENTS_MATCH], "realtime"),
    ("users", "用户数据", "User data", ["customers"], "", [], "daily"),
    ("products", "商品数据", "Product data", ["products"], "", [], "daily"),
    ("logs", "日志文件", "Log files", [], "*.log", [], "daily"),
]


def create_scopes(apps, schema_editor):
    Scope = apps.get_model("backups", "BackupScope")
    Policy = apps.get_model("backups", "BackupPolicy")
    for position, (slug, zh, en, tables, pattern, checks, kind) in enumerate(SCOPES):
        scope, _ = Scope.objects.get_or_create(
            slug=slug,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "tables": tables,
                "log_pattern": pattern,
                "checks": checks,
                "position": position,
            },
        )
        Policy.objects.get_or_create(
            scope=scope,
            kind=kind,
            defaults={
                "interval_minutes": 15 if kind == "realtime" else 24 * 60,
                "retention": 96 if kind == "realtime" else 30,
                "is_default": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("backups", "0001_initial")]
    operations = [migrations.RunPython(create_scopes, migrations.RunPython.noop)]
