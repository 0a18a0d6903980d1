"""The site's Content-Security-Policy: ``settings.CONTENT_SECURITY_POLICY`` everywhere, widened
only for third-party admin pages whose templates carry inline script we cannot move."""

from csp.middleware import CSPMiddleware, PolicyParts

# django-import-export's export form: onchange="onSelectToggleChange(event)" on its
# "select all" box. 'unsafe-hashes' with the handler's hash allows exactly that handler.
_IMPORT_EXPORT_TOGGLE = "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"


class SiteCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        path = request.path_info
        if path.startswith("/rq/"):
            # django-rq's dashboard (administrators only) writes its row actions inline.
            parts.update = {**(parts.update or {}), "script-src": ["'unsafe-inline'"]}
        elif path.startswith("/admin/"):
            parts.update = {
                **(parts.update or {}),
                "script-src": ["'unsafe-hashes'", _IMPORT_EXPORT_TOGGLE],
            }
        return parts
