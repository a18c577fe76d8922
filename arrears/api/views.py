from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from arrears.api import health


@never_cache
@require_GET
def healthz(request):
    """200 when every check holds, 503 otherwise; the body says which and why (no owner data)."""
    healthy, body = health.report()
    return JsonResponse(body, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
