"""The recovery plan's checklists by phase (managers edit them afterwards)."""

from django.db import migrations

TEMPLATES = [
    # phase, team role, minutes after declaration, Chinese, English
    ("emergency_response", "tech_support", 15, "立即停止升级操作，保护现场", "Stop the upgrade at once and preserve the current state"),
    ("emergency_response", "leader", 15, "通知应急小组全体成员", "Notify every member of the emergency team"),
    ("emergency_response", "leader", 30, "评估故障影响范围和严重程度", "Assess the scope and severity of the failure"),
    ("emergency_response", "tech_support", 60, "启动备用服务器和备份系统", "Start the standby servers and the backup systems"),
    ("problem_fix", "tech_support", 60, "收集系统日志和错误信息", "Collect system logs and error messages"),
    ("problem_fix", "tech_support", 120, "确定故障原因（兼容性、数据迁移、操作失误或安全漏洞）", "Find the cause (compatibility, data migration, operator error or security vulnerability)"),
    ("problem_fix", "tech_support", 240, "从最近的有效备份恢复数据并验证", "Restore data from the latest valid backup and verify it"),
    ("problem_fix", "tech_support", 480, "修复或回滚升级，并测试系统功能", "Fix or roll back the upgrade and test the system"),
    ("business_recovery", "business_support", 60, "启用人工接单流程", "Switch order taking to the manual process"),
    ("business_recovery", "logistics", 120, "安排仓库人工盘点库存", "Have the warehouse count stock by hand"),
    ("business_recovery", "business_support", 120, "通知客户并处理咨询与投诉", "Inform customers and handle questions and complaints"),
    ("business_recovery", "business_support", 1440, "系统恢复后核对并录入人工订单", "After recovery, reconcile and enter the manual orders"),
    ("coordination", "leader", 120, "召开应急协调会议", "Hold an emergency coordination meeting"),
    ("coordination", "leader", 240, "向管理层汇报进展", "Report progress to management"),
    ("coordination", "leader", 10080, "复盘事件并安排操作人员培训", "Review the incident and schedule operator training"),
    ("resources", "logistics", 60, "调配备用服务器和存储空间", "Allocate standby servers and storage"),
    ("resources", "tech_support", 120, "确保网络带宽充足", "Make sure network capacity is sufficient"),
    ("resources", "logistics", 240, "安排人员轮班", "Arrange staff shifts"),
]


def create_templates(apps, schema_editor):
    TaskTemplate = apps.get_model("incidents", "TaskTemplate")
    for position, (phase, role, minutes, zh, en) in enumerate(TEMPLATES):
        TaskTemplate.objects.get_or_create(
            phase=phase,
            title_en=en,
            defaults={
                "title_zh": zh,
                "team_role": role,
                "due_after_minutes": minutes,
                "position": position,
            },
        )


def remove_templates(apps, schema_editor):
    apps.get_model("incidents", "TaskTemplate").objects.filter(
        title_en__in=[t[4] for t in TEMPLATES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(create_templates, remove_templates)]
