import pytest

from apps.accounts.roles import Role


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, language="en")


@pytest.fixture
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "apps.core.sms.FileSmsBackend"
