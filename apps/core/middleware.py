from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import QueueUnavailable


class QueueUnavailableMiddleware:
    """A view that starts a job while Redis is down answers with the reason, not a 500.

    The job was refused before anything was written (see ``jobs.start_job``); the user goes
    back to the page they came from with the message, and can try again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, QueueUnavailable):
            return None
        messages.error(request, str(exception))
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = "core:dashboard"
        return redirect(back)
