from django.conf import settings

from .navigation import items_for


def navigation(request):
    user = getattr(request, "user", None)
    nav = items_for(user) if user is not None and user.is_authenticated else []
    return {"nav_items": nav, "app_name": settings.APP_NAME}
