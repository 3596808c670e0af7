"""/healthz: the site's checks as JSON, 200 when all pass and 503 otherwise, for load balancers."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from paperroute import health


@require_safe
@never_cache
def healthz(request):
    """Report the database, index lag, worker heartbeat, outbox backlog and last ingests."""
    result = health.report()
    return JsonResponse(result, status=200 if result["ok"] else 503)
