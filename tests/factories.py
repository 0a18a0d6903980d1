import factory
from django.contrib.auth.models import Group

from apps.accounts.models import User
from apps.accounts.roles import ADMIN_SITE_ROLES, Role, sync_role_groups

PASSWORD = "Correct-horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    phone = factory.Sequence(lambda n: f"1380000{n:04d}")
    first_name = "Test"
    language = "zh-hans"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        roles = [Role(r) for r in extracted]
        if Group.objects.filter(name__in=[r.value for r in roles]).count() != len(roles):
            sync_role_groups()  # a transactional test flushed the migration's groups
        self.groups.set([Group.objects.get(name=r.value) for r in roles])
        self.is_staff = bool(set(roles) & ADMIN_SITE_ROLES)
        self.save()
