"""The plan's courses (9.3) and the roles that need them (editable by admins afterwards)."""

from django.db import migrations

COURSES = [
    # code, zh, en, roles, pass mark, validity days
    ("upgrade-guide", "升级操作指南", "Upgrade operation guide", ["tech_support", "emergency_lead"], 80, 365),
    ("manual-orders", "手工接单流程", "Manual order intake", ["business_support", "care_agent"], 70, 365),
    ("stock-counts", "手工盘点", "Manual stock counts", ["logistics", "warehouse_clerk"], 70, 365),
    ("care-scripts", "客服话术", "Customer care scripts", ["care_agent"], 70, 365),
    ("restore-procedure", "数据恢复流程", "Restore procedure", ["tech_support"], 80, 180),
    ("emergency-response", "应急响应流程", "Emergency response procedure", ["emergency_lead"], 80, 365),
]


def create_courses(apps, schema_editor):
    Course = apps.get_model("drills", "Course")
    for code, zh, en, roles, mark, days in COURSES:
        Course.objects.get_or_create(
            code=code,
            defaults={
                "title_zh": zh,
                "title_en": en,
                "required_for": roles,
                "pass_mark": mark,
                "validity_days": days,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("drills", "0001_initial")]
    operations = [migrations.RunPython(create_courses, migrations.RunPython.noop)]
