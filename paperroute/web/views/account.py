"""Signing in by emailed link, signing out, and the settings page with API tokens."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from paperroute.community import accounts, notify, ratelimit, tokens
from paperroute.community.errors import InvalidInput, MailNotSent, NotAllowed, RateLimited, SignInLinkInvalid
from paperroute.digest import subscriptions
from paperroute.web import account_data
from paperroute.web.context import absolute
from paperroute.web.views.common import client_ip, error_page, local_target


def _next(request, value: str) -> str:
    return local_target(request, value) or reverse("home")


# What a reader sent here from a page that needs an account came to do, by that page's path.
REASONS = (
    ("/submit", "submit a paper"),
    ("/library", "keep a library of papers"),
    ("/collections", "keep collections of papers"),
    ("/account/settings", "change your settings"),
)


def _reason(next_url: str) -> str:
    path = next_url.split("?", 1)[0]
    return next((why for prefix, why in REASONS if path == prefix or path.startswith(prefix + "/")), "")


def signin(request):
    """Ask for an address and email it a sign-in link."""
    next_url = _next(request, request.POST.get("next") or request.GET.get("next", ""))
    if request.user.is_authenticated:
        return redirect(next_url)
    context = {"next": next_url, "email": "", "error": "", "reason": _reason(next_url)}
    if request.method == "POST":
        context["email"] = request.POST.get("email", "")

        def link_for(token: str) -> str:
            # Encoded, so that the path comes back whole (its own ? and &) and nothing in it can
            # end the link or start a line of the email.
            return absolute(reverse("signin_confirm", args=[token]) + "?" + urlencode({"next": next_url}))

        try:
            sent_to = accounts.send_link(context["email"], client_ip(request), link_for)
        except InvalidInput as exc:
            context["error"] = str(exc)
            return render(request, "account/signin.html", context, status=400)
        except RateLimited as exc:
            return error_page(
                request, 429, "Too many sign-in emails", str(exc), Retry_After=str(exc.retry_after)
            )
        except MailNotSent as exc:
            return error_page(
                request, 503, "Mail could not be sent", f"{str(exc).capitalize()}.", Retry_After="300"
            )
        return render(
            request,
            "account/signin_sent.html",
            {
                "email": sent_to,
                "link_minutes": settings.CONFIG.signin_link_minutes,
                "mail_minutes": settings.CONFIG.signin_mail_minutes,
            },
        )
    return render(request, "account/signin.html", context)


def confirm(request, token: str):
    """A sign-in link: GET shows a button (mail scanners follow links), POST signs in."""
    next_url = _next(request, request.GET.get("next", ""))
    try:
        if request.method != "POST":
            email = accounts.check_link(token)
            return render(
                request, "account/signin_confirm.html", {"email": email, "token": token, "next": next_url}
            )
        user = accounts.redeem(token)
    except SignInLinkInvalid as exc:
        return render(
            request, "account/signin.html", {"error": str(exc), "next": next_url, "email": ""}, status=400
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, f"Signed in as {user.username}.")
    return redirect(next_url)


@require_POST
def signout(request):
    logout(request)
    return redirect("home")


# A person makes a few API tokens, a script in a loop many. Revoking has a limit of its own, far
# higher: a leaked token must be revocable however many were made.
NEW_TOKENS = "30/hour"
REVOKES = "300/hour"


@login_required
def settings_page(request):
    """The reader's public name and API tokens."""
    new_secret = ""
    errors = {}
    if request.method == "POST":
        try:
            if request.POST.get("form") == "name":
                accounts.rename(request.user, request.POST.get("username", ""))
                messages.success(request, "Your name was changed.")
                return redirect("account_settings")
            if request.POST.get("form") == "notifications":
                ratelimit.check("prefs", str(request.user.pk), "60/hour")
                wanted = request.POST.get("reply_mail") == "on"
                notify.set_reply_mail(request.user, wanted)
                messages.success(
                    request,
                    "You will get an email when someone replies to you."
                    if wanted
                    else "You will no longer get emails about replies.",
                )
                return redirect("account_settings")
            if request.POST.get("form") == "token":
                ratelimit.check("tokens", str(request.user.pk), NEW_TOKENS)
            elif request.POST.get("form") == "revoke":
                ratelimit.check("revokes", str(request.user.pk), REVOKES)
            if request.POST.get("form") == "token":
                token, new_secret = tokens.create(request.user, request.POST.get("name", ""))
            elif request.POST.get("form") == "revoke":
                raw = request.POST.get("token", "")
                if (
                    raw.isascii()
                    and raw.isdigit()
                    and len(raw) < 19
                    and tokens.revoke(request.user, int(raw))
                ):
                    messages.success(request, "The token was revoked.")
                return redirect("account_settings")
        except InvalidInput as exc:
            errors[exc.field] = str(exc)
        except RateLimited as exc:
            return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    return render(
        request,
        "account/settings.html",
        {
            "tokens": request.user.api_tokens.all(),
            "new_secret": new_secret,
            "errors": errors,
            # What was typed, shown again beside its error (cut as the fields allow).
            "typed": {name: request.POST.get(name, "")[:200] for name in ("username", "name")},
            "submissions": request.user.submissions.select_related("paper")[:50],
            "reply_mail": notify.wants_reply_mail(request.user),
            "digest": subscriptions.sending_to(request.user),
        },
        status=400 if errors else 200,
    )


DATA_DOWNLOADS = "30/hour"


@login_required
def data_download(request):
    """Everything the site keeps about the reader (account_data), as a JSON file."""
    try:
        ratelimit.check("account-data", str(request.user.pk), DATA_DOWNLOADS)
    except RateLimited as exc:
        return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
    body = json.dumps(account_data.export(request.user), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    name = re.sub(r"[^A-Za-z0-9_.-]", "", request.user.username) or "account"
    response["Content-Disposition"] = f'attachment; filename="paperroute-{name}-{timezone.localdate()}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def delete_account(request):
    """What deleting the account takes with it, and a form that asks for its name to do it."""
    user = request.user
    errors = {}
    if request.method == "POST":
        try:
            accounts.check_deletion(user, request.POST.get("confirm", ""))
        except InvalidInput as exc:
            errors[exc.field] = str(exc)
        except NotAllowed as exc:
            return error_page(request, 403, "Not from here", f"{str(exc).capitalize()}.")
        except RateLimited as exc:
            return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
        else:
            with transaction.atomic():
                ended = subscriptions.end_for_account(user)
                accounts.delete(user)
            logout(request)
            messages.success(
                request,
                "Your account was deleted." + (" Your digest subscription was ended." if ended else ""),
            )
            return redirect("home")
    context = {
        "errors": errors,
        "typed": request.POST.get("confirm", "")[:200],
        "admin": user.is_superuser,
        "votes": user.votes.count(),
        "comments": user.comments.count(),
        # Replies by others to the reader's comments go with them, as when one is deleted.
        "replies": accounts.replies_by_others(user),
        "collections": user.collections.count(),
        "public_collections": user.collections.filter(public=True).count(),
        "follows": user.follows.count(),
        "notes": user.paper_notes.count(),
        "tokens": user.api_tokens.count(),
        "submissions": user.submissions.count(),
        "digest": subscriptions.of_account(user, live=True).exists(),
    }
    return render(request, "account/delete.html", context, status=400 if errors else 200)


def reply_mail_stop(request, token: str):
    """The "stop these emails" link of a reply notification: works without signing in.

    GET shows one button (mail scanners follow links, and must not unsubscribe anyone); POST
    turns the mails off.
    """
    account = notify.user_for_token(token)
    if account is None:
        return error_page(
            request,
            404,
            "Unknown link",
            "This link is not valid (it may have been cut short); sign in and use your settings page.",
        )
    if request.method == "POST":
        try:
            ratelimit.check("prefs", client_ip(request), "60/hour")
        except RateLimited as exc:
            return error_page(request, 429, "Slow down", str(exc), Retry_After=str(exc.retry_after))
        notify.set_reply_mail(account, False)
        return render(request, "account/reply_mail_stopped.html", {"account": account})
    return render(
        request,
        "account/reply_mail_stop.html",
        {"account": account, "token": token, "on": notify.wants_reply_mail(account)},
    )


def admin_login(request, extra_context=None):
    """The admin's login page: moderators sign in by email link like everyone else."""
    if request.user.is_authenticated and not request.user.is_staff:
        return error_page(
            request,
            403,
            "Moderators only",
            "The admin is for moderators. Ask one to give your account staff status.",
        )
    target = request.GET.get("next", reverse("admin:index"))
    return redirect(f"{reverse('signin')}?{urlencode({'next': target})}")
