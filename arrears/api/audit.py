"""Every API call leaves an audit event: who (token and user), what (method, path, query), the answer.

Owners' personal data leaves the system through the API as it does through exports, and is logged
the same way (个人信息保护法). The query string is kept (filters and cursors, no personal data);
bodies are not (the write they made is its own record). The schema and docs pages are not logged.
"""

from __future__ import annotations

from arrears.core.logs import REQUEST_ID
from arrears.core.models import record

PREFIX = "/api/v1/"
UNLOGGED = {"/api/v1/openapi.json", "/api/v1/docs"}


class ApiAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(PREFIX) and request.path not in UNLOGGED:
            token = getattr(request, "api_token", None)
            record(actor=token.user if token else None, action="api.call", method=request.method,
                   path=request.path[:200], query=request.META.get("QUERY_STRING", "")[:500],
                   status=response.status_code, token=token.pk if token else None,
                   request_id=REQUEST_ID.get())
        return response
