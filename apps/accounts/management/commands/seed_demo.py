from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.roles import Role

DEMO_PASSWORD = "Recovery-demo-2026"

# A family and a given name per role, so pages show real-looking people (and their order).
DEMO_NAMES = {
    Role.EMERGENCY_LEAD: ("张", "伟"),
    Role.TECH_SUPPORT: ("李", "强"),
    Role.BUSINESS_SUPPORT: ("王", "芳"),
    Role.LOGISTICS: ("刘", "洋"),
    Role.WAREHOUSE_CLERK: ("陈", "静"),
    Role.CARE_AGENT: ("杨", "丽"),
    Role.CARE_LEAD: ("黄", "婷"),
    Role.MANAGER: ("赵", "敏"),
    Role.ADMIN: ("周", "磊"),
}


def demo_username(role: Role) -> str:
    return f"demo_{role.value}"


@transaction.atomic
def ensure_demo_users() -> dict[Role, User]:
    """One active demo user per role with the demo password (idempotent)."""
    users = {}
    for role in Role:
        username = demo_username(role)
        family, given = DEMO_NAMES[role]
        user = User.objects.filter(username=username).first()
        if user is None:
            user = services.create_user(
                username=username,
                password=DEMO_PASSWORD,
                roles=[role.value],
                email=f"{username}@example.com",
                first_name=given,
                last_name=family,
            )
        else:
            user = services.update_user(
                user=user,
                roles=[role.value],
                is_active=True,
                first_name=given,
                last_name=family,
            )
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[role] = user
    return users


class Command(BaseCommand):
    help = "Create one demo user per role (idempotent). Refused in production mode."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="the address to print (make run's)"
        )

    def handle(self, *args, url, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development and demos only, not production.")
        users = ensure_demo_users()
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for role, user in users.items():
            self.stdout.write(f"  {user.username:<26} {role.label}")
        self.stdout.write(self.style.SUCCESS(f"Open {url} and sign in."))
