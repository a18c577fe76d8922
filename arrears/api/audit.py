"""Every API call leaves an audit event: who (token and user), what (method, path, query), the answer.

Owners' personal data leaves the system through the API as it does through exports, and is logged
the same way (个人信息保护法). The query's filters and cursors are kept; a parameter the API does not
take keeps its name only, never its value (a client's ?access_token=… or ?name=… would otherwise
be written for good into an append-only log). Bodies are not kept (the write they made is its own
record). The schema and docs pages are not logged.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

from arrears.core.logs import REQUEST_ID
from arrears.core.models import record

PREFIX = "/api/v1/"
UNLOGGED = {"/api/v1/openapi.json", "/api/v1/docs"}
QUERY_LIMIT = 500


@cache
def _parameters() -> frozenset[str]:
    """The query parameters some operation of the API declares (its filters, limit and cursor)."""
    from arrears.api.v1 import api

    document = api.get_openapi_schema()
    return frozenset(parameter["name"] for operations in document["paths"].values()
                     for operation in operations.values() for parameter in operation.get("parameters", [])
                     if parameter.get("in") == "query")


def logged_query(request) -> str:
    known = _parameters()
    pairs = [(name, value if name in known else "") for name, values in request.GET.lists() for value in values]
    return urlencode(pairs)[:QUERY_LIMIT]


class ApiAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(PREFIX) and request.path not in UNLOGGED:
            token = getattr(request, "api_token", None)
            record(actor=token.user if token else None, action="api.call", method=request.method,
                   path=request.path[:200], query=logged_query(request),
                   status=response.status_code, token=token.pk if token else None,
                   request_id=REQUEST_ID.get())
        return response
