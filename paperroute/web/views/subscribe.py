"""Subscribing to the digest, confirming, preferences, one-click unsubscribe, the bounce webhook."""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from paperroute.catalog.taxonomy import NAMES as CATEGORY_NAMES
from paperroute.community import ratelimit
from paperroute.community.errors import RateLimited
from paperroute.digest import bounces, notify, subscriptions
from paperroute.digest.errors import DigestError, InvalidSubscription, LinkInvalid, TooManyRequests
from paperroute.digest.models import Subscriber
from paperroute.web.context import absolute
from paperroute.web.views.common import client_ip, error_page, from_this_site

# Offered as checkboxes; any other arXiv category can be typed in.
COMMON_CATEGORIES = ("cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.RO", "cs.IR", "stat.ML")


# The form is on every listing page, and those pages are cached for all anonymous readers, so
# they cannot carry a per-reader CSRF token. A forged submission can do no more than the forger
# can do from their own browser (ask for a confirmation mail, under the same limits), and a
# browser's Origin header gives a form on another site away; everything that changes a
# subscription is CSRF-protected or keyed by the subscriber's secret token.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def subscribe(request):
    """The subscribe form; POST mails a confirmation link."""
    if request.method == "POST" and not from_this_site(request):
        return error_page(
            request,
            403,
            "Not allowed",
            "This form was sent from another site. Subscribe from this site's pages.",
        )
    existing = subscriptions.for_account(request.user)
    context = {
        "email": request.user.email if request.user.is_authenticated else "",
        "error": "",
        "existing": existing,
    }
    if request.method == "POST":
        context["email"] = request.POST.get("email", "")

        def mail(subscriber, kind, token):
            notify.send_confirmation(subscriber, kind, absolute(reverse("subscribe_confirm", args=[token])))

        try:
            sent_to = subscriptions.subscribe(
                context["email"], client_ip(request), mail=mail, user=request.user
            )
        except InvalidSubscription as exc:
            context["error"] = str(exc)
            return render(request, "subscribe/subscribe.html", context, status=400)
        except TooManyRequests as exc:
            return error_page(request, 429, "Too many requests", str(exc), Retry_After=str(exc.retry_after))
        except DigestError as exc:
            return error_page(request, 503, "Mail could not be sent", str(exc), Retry_After="300")
        return render(request, "subscribe/sent.html", {"email": sent_to})
    return render(request, "subscribe/subscribe.html", context)


# Confirming, pausing and changing a subscription, by the address they come from (the one-click
# unsubscribe of mail clients is never limited).
PREFERENCE_CHANGES = "60/hour"


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """A confirmation link: GET shows a button (mail scanners follow links), POST confirms."""
    try:
        if request.method != "POST":
            return render(request, "subscribe/confirm.html", {"token": token})
        ratelimit.check("prefs", client_ip(request), PREFERENCE_CHANGES)
        subscriber = subscriptions.confirm(token)
    except LinkInvalid as exc:
        return error_page(request, 400, "This link cannot be used", str(exc))
    except RateLimited as exc:
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    return redirect(reverse("subscription", args=[subscriber.token]) + "?welcome=1")


@require_http_methods(["GET", "POST"])
def preferences(request, token: str):
    """What a subscriber receives, how often, and pausing; reached by the link in every mail."""
    try:
        subscriber = subscriptions.by_token(token)
    except LinkInvalid as exc:
        return error_page(request, 404, "Unknown subscription", str(exc))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            ratelimit.check("prefs", client_ip(request), PREFERENCE_CHANGES)
        except RateLimited as exc:
            return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
        action = request.POST.get("action", "save")
        if action in ("pause", "resume"):
            subscriptions.set_status(
                subscriber, Subscriber.PAUSED if action == "pause" else Subscriber.CONFIRMED
            )
            return redirect(reverse("subscription", args=[token]) + f"?done={action}")
        if action == "resubscribe":
            try:
                subscriptions.resubscribe(subscriber)
            except LinkInvalid as exc:
                return error_page(request, 400, "Subscribe again from the form", str(exc))
            return redirect(reverse("subscription", args=[token]) + "?done=resubscribed")
        try:
            subscriptions.update_preferences(
                subscriber,
                frequency=request.POST.get("frequency", ""),
                max_papers=request.POST.get("max_papers", ""),
                categories=request.POST.getlist("categories") + [request.POST.get("other_categories", "")],
                topics=request.POST.get("topics", ""),
            )
        except InvalidSubscription as exc:
            errors[exc.field] = str(exc)
        else:
            return redirect(reverse("subscription", args=[token]) + "?done=saved")
    return render(
        request,
        "subscribe/preferences.html",
        _preferences_context(request, subscriber, errors),
        status=400 if errors else 200,
    )


def _preferences_context(request, subscriber: Subscriber, errors: dict) -> dict:
    chosen = list(subscriber.categories)
    if errors:  # show what was typed, not what is stored
        chosen = request.POST.getlist("categories")
    common = [(code, CATEGORY_NAMES.get(code, code), code in chosen) for code in COMMON_CATEGORIES]
    other = ", ".join(c for c in chosen if c not in COMMON_CATEGORIES)
    return {
        "subscriber": subscriber,
        "errors": errors,
        "common_categories": common,
        "other_categories": request.POST.get("other_categories", other) if errors else other,
        "topics": request.POST.get("topics", "") if errors else "\n".join(subscriber.topics),
        "paper_choices": subscriptions.PAPER_CHOICES,
        "welcome": request.GET.get("welcome") == "1",
        "done": request.GET.get("done", ""),
    }


# RFC 8058: mail clients POST "List-Unsubscribe=One-Click" here with no cookies and no token of
# ours, so the secret in the URL is the only authentication and CSRF cannot apply. A GET only
# shows a button, because link scanners fetch every URL in a mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        subscriber = subscriptions.by_token(token)
    except LinkInvalid as exc:
        return error_page(request, 404, "Unknown subscription", str(exc))
    if request.method == "POST":
        subscriptions.unsubscribe(subscriber)
        return render(request, "subscribe/unsubscribed.html", {"subscriber": subscriber})
    return render(request, "subscribe/unsubscribe.html", {"subscriber": subscriber})


@csrf_exempt
@require_http_methods(["POST"])
def bounce_webhook(request):
    """Bounces and complaints from the mail provider, as JSON (see paperroute.digest.bounces)."""
    if not bounces.enabled():
        return JsonResponse({"error": "the bounce webhook is off; set PAPERROUTE_BOUNCE_WEBHOOK"}, status=404)
    if not bounces.authorized(request.headers.get("Authorization", "")):
        response = JsonResponse({"error": "send the webhook secret as Authorization: Bearer …"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="paperroute bounces"'
        return response
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    except RecursionError:  # the C decoder stops at Python's recursion limit
        return JsonResponse({"error": "the body is nested too deeply to be a bounce report"}, status=400)
    try:
        outcome = bounces.apply(payload)
    except bounces.BadReport as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(outcome.as_dict())
