import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recovery_site.settings")
django_application = get_wsgi_application()

# The public status page's copies of Django's answers, in front of Django (issue #15).
from apps.customer_care.outreach_middleware import StatusPageFastPath  # noqa: E402

application = StatusPageFastPath(django_application)
