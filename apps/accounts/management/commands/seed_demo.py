from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.roles import Role

DEMO_PASSWORD = "Recovery-demo-2026"


def _label(role: Role) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(role.label)


class Command(BaseCommand):
    help = "Create one demo user per role (idempotent). Refused in production mode."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development and demos only, not production.")
        rows = []
        with transaction.atomic():
            for role in Role:
                username = f"demo_{role.value}"
                user = User.objects.filter(username=username).first()
                if user is None:
                    user = services.create_user(
                        username=username,
                        password=DEMO_PASSWORD,
                        roles=[role.value],
                        email=f"{username}@example.com",
                        first_name=_label(role),
                    )
                else:
                    services.update_user(user=user, roles=[role.value], is_active=True)
                    user.set_password(DEMO_PASSWORD)
                    user.save(update_fields=["password"])
                rows.append((str(role.label), username))
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for label, username in rows:
            self.stdout.write(f"  {username:<26} {label}")
        self.stdout.write(self.style.SUCCESS("Open http://127.0.0.1:8000/ and sign in."))
