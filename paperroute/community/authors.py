"""Authors claiming their papers: claims, moderators' decisions, the links verified authors set,
and the log of every change.

A signed-in reader claims one author of a paper ("this is me"); a moderator approves or rejects
the claim in the admin. An approved claim shows the author as verified and lets its user set the
paper's code repository and project page. Its user can withdraw a claim and a moderator can
revoke one. Every change is an AuthorLog row: who, what, when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from paperroute.catalog.links import http_url
from paperroute.catalog.models import Author, Paper
from paperroute.catalog.textclean import author_key, display_name
from paperroute.community import ratelimit, stamp
from paperroute.community.errors import InvalidInput, NotAllowed
from paperroute.community.models import AuthorClaim, AuthorLog, PaperLinks

CLAIM_RATE = "20/hour"
LINKS_RATE = "30/hour"
# https://github.com/owner/repo, optionally with a trailing slash or .git.
GITHUB_REPO = re.compile(
    r"^https://(www\.)?github\.com/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}/?$"
)


@dataclass(frozen=True)
class AuthorEntry:
    """One author of a paper as its page shows it."""

    position: int
    name: str  # the display name: TeX made Unicode, affiliation left out
    verified_by: str  # the handle of the user whose claim was approved, or ""
    mine: str  # the status of the viewer's own open claim on this author, or ""


def entries(paper: Paper, my_claim: AuthorClaim | None = None) -> list[AuthorEntry]:
    """The paper's authors in order, with who is verified and what the viewer has claimed (their
    `open_claim`)."""
    # By the author claimed, not by the place in the list: a new version that adds an author in
    # front moved a verified badge onto someone else.
    verified = {c.author_id: c.user.username for c in approved(paper)}
    mine = {my_claim.author_id: my_claim.status} if my_claim is not None else {}
    return [
        AuthorEntry(
            a.position, display_name(a.author.name), verified.get(a.author_id, ""), mine.get(a.author_id, "")
        )
        for a in paper.bylines
    ]


def open_claim(user, paper: Paper) -> AuthorClaim | None:
    """The user's pending or approved claim on the paper, if any."""
    if not user.is_authenticated:
        return None
    return AuthorClaim.objects.filter(paper=paper, user=user, status__in=AuthorClaim.OPEN).first()


def approved(paper: Paper) -> list[AuthorClaim]:
    """The paper's approved claims, with their users (prefetched by listings.annotated)."""
    loaded = getattr(paper, "approved_claims", None)
    if loaded is not None:
        return loaded
    return [c for c in paper.author_claims.all() if c.status == AuthorClaim.APPROVED]


def is_verified_author(user, paper: Paper) -> bool:
    return bool(
        user.is_authenticated
        and AuthorClaim.objects.filter(paper=paper, user=user, status=AuthorClaim.APPROVED).exists()
    )


def verified_handles(name: str) -> list[str]:
    """The handles of users verified as an author of this name on any paper, first verified first."""
    rows = (
        AuthorClaim.objects.filter(status=AuthorClaim.APPROVED, author__key=author_key(name))
        .order_by("changed_at", "pk")
        .values_list("user__username", flat=True)
    )
    return list(dict.fromkeys(rows))


def claim(user, paper: Paper, position: int) -> AuthorClaim:
    """Claim the paper's author at `position` as the user; the claim waits for a moderator."""
    authorship = paper.authorships.select_related("author").filter(position=position).first()
    if authorship is None:
        raise InvalidInput("that paper has no such author", "position")
    if open_claim(user, paper) is not None:
        raise NotAllowed("you have claimed an author of this paper already; withdraw that claim first")
    taken = AuthorClaim.objects.filter(paper=paper, author=authorship.author, status=AuthorClaim.APPROVED)
    if taken.exists():
        raise NotAllowed("this author is verified already; if that is wrong, tell a moderator")
    ratelimit.check("claims", str(user.pk), CLAIM_RATE)
    try:
        with transaction.atomic():
            made = AuthorClaim.objects.create(
                paper=paper, author=authorship.author, position=position, user=user
            )
            _log(
                user, AuthorLog.CLAIMED, paper, made, f"claimed to be {display_name(authorship.author.name)}"
            )
    except IntegrityError:  # a double click: the other request made the claim
        raise NotAllowed("you have claimed an author of this paper already") from None
    return made


def withdraw(user, made: AuthorClaim) -> None:
    """The claim's own user takes it back, pending or approved."""
    if made.user_id != user.pk:
        raise NotAllowed("only its user can withdraw a claim")
    if made.status not in AuthorClaim.OPEN:
        raise NotAllowed("this claim is closed already")
    _decide(user, made, AuthorClaim.WITHDRAWN, AuthorLog.WITHDRAWN)


def approve(moderator, made: AuthorClaim) -> bool:
    """A moderator verifies a pending claim; False when it is not pending or the author is taken."""
    return made.status == AuthorClaim.PENDING and _try(
        moderator, made, AuthorClaim.APPROVED, AuthorLog.APPROVED
    )


def reject(moderator, made: AuthorClaim) -> bool:
    return made.status == AuthorClaim.PENDING and _try(
        moderator, made, AuthorClaim.REJECTED, AuthorLog.REJECTED
    )


def revoke(moderator, made: AuthorClaim) -> bool:
    """A moderator takes back an approved claim."""
    return made.status == AuthorClaim.APPROVED and _try(
        moderator, made, AuthorClaim.REVOKED, AuthorLog.REVOKED
    )


def _try(actor, made: AuthorClaim, status: str, action: str) -> bool:
    try:
        _decide(actor, made, status, action)
    except (IntegrityError, NotAllowed):  # another claim on the author was approved, or this one changed
        return False
    return True


def _decide(actor, made: AuthorClaim, status: str, action: str) -> None:
    with transaction.atomic():
        # Conditional, so two moderators deciding at once do not both log a change.
        changed = AuthorClaim.objects.filter(pk=made.pk, status=made.status).update(status=status)
        if not changed:
            raise NotAllowed("the claim changed meanwhile; reload and try again")
        before, made.status = made.status, status
        _log(actor, action, made.paper, made, f"{before} → {status}")
        stamp.bump()


def _log(actor, action: str, paper: Paper, made: AuthorClaim | None = None, detail: str = "") -> None:
    AuthorLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        paper=paper,
        claim=made,
        detail=detail,
    )


# Links ----------------------------------------------------------------------------------------


def may_set_links(user, paper: Paper) -> bool:
    return bool(user.is_authenticated and (user.is_staff or is_verified_author(user, paper)))


def links_allowed(user, my_claim: AuthorClaim | None) -> bool:
    """may_set_links, told by the user's `open_claim` on the paper (a user has one at most)."""
    verified = my_claim is not None and my_claim.status == AuthorClaim.APPROVED
    return bool(user.is_authenticated and (user.is_staff or verified))


def clean_github(value: str | None) -> str:
    """A GitHub repository URL as stored ('' clears it), or InvalidInput."""
    url = (value or "").strip()
    if not url:
        return ""
    if not http_url(url) or not GITHUB_REPO.match(url):
        raise InvalidInput(
            "githubRepo must be a GitHub repository, https://github.com/owner/repo", "githubRepo"
        )
    return url.rstrip("/")


def clean_page(value: str | None) -> str:
    """A project page URL as stored ('' clears it), or InvalidInput."""
    url = (value or "").strip()
    if not url:
        return ""
    if not http_url(url) or not urlsplit(url).hostname or "." not in (urlsplit(url).hostname or ""):
        raise InvalidInput(
            "projectPage must be an http(s) address such as https://example.org/project", "projectPage"
        )
    return url


def links_of(paper: Paper) -> tuple[str, str]:
    """(code repository, project page): what a verified author set, else what was harvested."""
    try:
        own: PaperLinks | None = paper.author_links
    except PaperLinks.DoesNotExist:
        own = None
    code = (own.github_repo if own else "") or paper.code_link
    page = (own.project_page if own else "") or paper.project_link
    return http_url(code), http_url(page)


def set_links(user, paper: Paper, github_repo: str | None, project_page: str | None) -> PaperLinks:
    """Set the paper's code repository and project page; None leaves one as it is, '' clears it."""
    if not may_set_links(user, paper):
        raise NotAllowed("only a verified author of this paper or a moderator can set its links")
    repo = None if github_repo is None else clean_github(github_repo)
    page = None if project_page is None else clean_page(project_page)
    ratelimit.check("links", str(user.pk), LINKS_RATE)
    with transaction.atomic():
        links, _ = PaperLinks.objects.select_for_update().get_or_create(paper=paper)
        before = (links.github_repo, links.project_page)
        if repo is not None:
            links.github_repo = repo
        if page is not None:
            links.project_page = page
        links.updated_by = user
        links.save()
        after = (links.github_repo, links.project_page)
        if after != before:
            _log(user, AuthorLog.LINKS, paper, None, _links_change(before, after))
            stamp.bump()
    # Whatever was cached on the paper object is stale now.
    paper.author_links = links
    return links


def remove_links(moderator, links: PaperLinks) -> None:
    """A moderator takes an author's links off their paper (in the admin); logged like a change."""
    with transaction.atomic():
        detail = _links_change((links.github_repo, links.project_page), ("", ""))
        _log(moderator, AuthorLog.LINKS, links.paper, None, detail or "removed")
        links.delete()
        stamp.bump()


def _links_change(before: tuple[str, str], after: tuple[str, str]) -> str:
    """What changed in (code, project page), as the authors' log says it."""
    return "; ".join(
        f"{label}: {old or '(none)'} → {new or '(none)'}"
        for label, old, new in zip(("code", "project page"), before, after, strict=True)
        if old != new
    )


def find_author(name: str) -> Author | None:
    return Author.objects.filter(key=author_key(name)).first()
