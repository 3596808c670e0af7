"""/submit: a signed-in reader puts an arXiv paper on today's listing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from paperroute.community import submissions
from paperroute.community.errors import InvalidInput, RateLimited
from paperroute.web.views.common import error_page


@login_required
def page(request):
    # ?arxiv=ID: the search page's link for a paper that is not here yet fills the form in.
    context = {"value": request.GET.get("arxiv", "")[:300], "error": ""}
    if request.method == "POST":
        context["value"] = request.POST.get("arxiv", "")
        try:
            paper, added = submissions.submit(request.user, context["value"], today=timezone.localdate())
        except InvalidInput as exc:
            context["error"] = str(exc)
            return render(request, "submit.html", context, status=400)
        except RateLimited as exc:
            return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
        except submissions.ArxivUnavailable as exc:
            context["error"] = str(exc)
            return render(request, "submit.html", context, status=503)
        if added:
            messages.success(request, "Thank you: the paper is on today's listing.")
        else:
            messages.info(request, "This paper is already here.")
        return redirect(reverse("paper", args=[paper.key]))
    return render(request, "submit.html", context)
