"""Authors claiming papers: the claim on the paper page, a moderator's decision in the admin, the
verified badge on the paper and author pages, isAuthorParticipating and the author's `user` in the
API, author-set links (page and API) and the change log."""

from __future__ import annotations

import json
import re
from datetime import date

import lxml.html
import pytest
from django.test import Client

from paperroute.community import authors, tokens
from paperroute.community.errors import NotAllowed
from paperroute.community.models import AuthorClaim, AuthorLog
from tests.community.helpers import add_paper, user

KEY = "2411.00777"
DAY = date(2024, 11, 27)
NAMES = ("Ada Lovelace", "Jos\\'e Mu\\~noz", "Alan Turing")


@pytest.fixture
def paper(db):
    return add_paper(KEY, "Engines of thought", authors=NAMES, listed=DAY)


def signed_in(name: str, *, staff: bool = False) -> Client:
    client = Client()
    account = user(name, staff=staff)
    if staff:
        account.is_superuser = True
        account.save()
    client.force_login(account)
    return client


def bearer(name: str) -> dict:
    _, secret = tokens.create(user(name), "script")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def admin_action(action: str, *claims: AuthorClaim):
    moderator = signed_in("mod", staff=True)
    response = moderator.post(
        "/admin/community/authorclaim/",
        {"action": action, "_selected_action": [str(c.pk) for c in claims]},
    )
    assert response.status_code == 302, response.content[:500]
    return moderator


def _authors_line(page: str) -> str:
    start = page.index('id="authors"')
    return page[start : page.index("</p>", start)]


def test_claim_approve_show_verified_then_withdraw(paper, client):
    jose = signed_in("jose")
    page = jose.get(f"/papers/{KEY}").content.decode()
    assert "Claim authorship" in page and '<option value="1">José Muñoz</option>' in page
    response = jose.post(f"/papers/{KEY}/claim", {"position": "1"})
    assert response.status_code == 302
    claim = AuthorClaim.objects.get()
    assert (claim.status, claim.user.username, claim.author.name) == ("pending", "jose", NAMES[1])
    page = jose.get(f"/papers/{KEY}").content.decode()
    assert "your claim is pending" in _authors_line(page) and "verified" not in _authors_line(page)
    assert "verified" not in _authors_line(client.get(f"/papers/{KEY}").content.decode())

    admin_action("approve", claim)
    claim.refresh_from_db()
    assert claim.status == "approved"
    line = _authors_line(client.get(f"/papers/{KEY}").content.decode())
    assert re.search(r"José Muñoz</a> <span class=\"verified\"[^>]*>.*verified.*@jose", line)
    author_page = client.get("/authors/José Muñoz").content.decode()
    assert "verified" in author_page and "@jose" in author_page and "Papers by José Muñoz" in author_page
    # The TeX spelling leads to the same clean page.
    assert "Papers by José Muñoz" in client.get("/authors/Jos\\'e Mu\\~noz").content.decode()

    jose.post(f"/papers/{KEY}/claim/withdraw")
    claim.refresh_from_db()
    assert claim.status == "withdrawn"
    assert "verified" not in _authors_line(client.get(f"/papers/{KEY}").content.decode())
    assert "@jose" not in client.get("/authors/José Muñoz").content.decode()
    log = list(AuthorLog.objects.order_by("at", "id").values_list("action", "actor__username"))
    assert log == [("claimed", "jose"), ("approved", "mod"), ("withdrawn", "jose")]


def test_moderators_reject_and_revoke_and_the_log_shows_it_in_the_admin(paper, client):
    first = authors.claim(user("jose"), paper, 1)
    second = authors.claim(user("ada"), paper, 0)
    admin_action("reject", first)
    admin_action("approve", second)
    moderator = admin_action("revoke", second)
    assert AuthorClaim.objects.get(pk=first.pk).status == "rejected"
    assert AuthorClaim.objects.get(pk=second.pk).status == "revoked"
    listing = moderator.get("/admin/community/authorlog/").content.decode()
    for action in ("claimed", "rejected", "approved", "revoked"):
        assert action in listing
    # History is not for rewriting: the log has no add, change or delete.
    assert (
        moderator.get(f"/admin/community/authorlog/{AuthorLog.objects.first().pk}/delete/").status_code == 403
    )


def test_one_claim_per_user_per_paper_and_one_verified_person_per_author(paper):
    jose = signed_in("jose")
    jose.post(f"/papers/{KEY}/claim", {"position": "1"})
    again = jose.post(f"/papers/{KEY}/claim", {"position": "2"})
    assert again.status_code == 400 and "already" in again.content.decode()
    authors.approve(user("mod", staff=True), AuthorClaim.objects.get())
    other = signed_in("impostor").post(f"/papers/{KEY}/claim", {"position": "1"})
    assert other.status_code == 400 and "verified already" in other.content.decode()
    assert signed_in("x").post(f"/papers/{KEY}/claim", {"position": "99"}).status_code == 400
    assert signed_in("y").post(f"/papers/{KEY}/claim", {"position": "one"}).status_code == 400


def test_claiming_needs_sign_in_and_the_csrf_token(paper):
    assert Client().post(f"/papers/{KEY}/claim", {"position": "0"}).status_code == 302  # to sign in
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user("jose"))
    assert strict.post(f"/papers/{KEY}/claim", {"position": "0"}).status_code == 403
    assert not AuthorClaim.objects.exists()


def test_claims_are_rate_limited(db):
    jose = signed_in("jose")
    codes = []
    for n in range(22):
        key = f"2411.{n:05d}"
        add_paper(key, authors=("Jose",))
        codes.append(jose.post(f"/papers/{key}/claim", {"position": "0"}).status_code)
    assert codes[:20] == [302] * 20 and codes[20:] == [429, 429]


def test_the_api_follows_claims(paper, client):
    item = lambda: client.get("/api/daily_papers", {"date": DAY.isoformat()}).json()  # noqa: E731
    detail = client.get(f"/api/papers/{KEY}").json()
    assert [a.get("user") for a in detail["authors"]] == [None, None, None]
    claim = authors.claim(user("jose"), paper, 1)
    authors.approve(user("mod", staff=True), claim)
    detail = client.get(f"/api/papers/{KEY}").json()
    verified = detail["authors"][1]
    assert verified["name"] == "José Muñoz" and verified["status"] == "claimed_verified"
    assert verified["user"]["user"] == "jose" and verified["statusLastChangedAt"].endswith("Z")
    assert "user" not in detail["authors"][0] or detail["authors"][0]["user"] is None
    found = item()
    assert found and found[0]["isAuthorParticipating"] is True
    authors.revoke(user("mod"), AuthorClaim.objects.get())
    assert item()[0]["isAuthorParticipating"] is False


def test_links_over_the_api_for_verified_authors_and_moderators_only(paper, client):
    url = f"/api/papers/{KEY}/links"
    body = {"githubRepo": "https://github.com/ada/engines", "projectPage": "https://engines.example.org/"}
    send = lambda who, data: client.post(url, json.dumps(data), "application/json", **bearer(who))  # noqa: E731
    assert client.post(url, json.dumps(body), "application/json").status_code == 401
    refused = send("stranger", body)
    assert refused.status_code == 403 and "verified author" in refused.json()["detail"]
    authors.approve(user("mod", staff=True), authors.claim(user("ada"), paper, 0))
    for bad in (
        {"githubRepo": "javascript:alert(1)"},
        {"githubRepo": "https://gitlab.com/ada/engines"},
        {"projectPage": "ftp://engines.example.org"},
        {"projectPage": "https://"},
    ):
        response = send("ada", bad)
        assert response.status_code == 400 and response.json()["detail"], bad
    done = send("ada", body)
    assert done.status_code == 200
    assert (
        done.json()["githubRepo"] == body["githubRepo"] and done.json()["projectPage"] == body["projectPage"]
    )
    assert client.get(f"/api/papers/{KEY}").json()["githubRepo"] == body["githubRepo"]
    page = client.get(f"/papers/{KEY}").content.decode()
    assert f'href="{body["githubRepo"]}"' in page and f'href="{body["projectPage"]}"' in page
    # A moderator may change them too; leaving a field out keeps it, an empty one clears it.
    assert send("mod", {"projectPage": ""}).json()["projectPage"] is None
    assert client.get(f"/api/papers/{KEY}").json()["githubRepo"] == body["githubRepo"]
    details = list(
        AuthorLog.objects.filter(action="links").order_by("at", "id").values_list("actor__username", "detail")
    )
    assert [who for who, _ in details] == ["ada", "mod"] and "engines.example.org" in details[1][1]


def test_links_form_on_the_paper_page(paper):
    ada = signed_in("ada")
    assert "Set the code and project links" not in ada.get(f"/papers/{KEY}").content.decode()
    assert ada.post(f"/papers/{KEY}/links", {"github_repo": "https://github.com/a/b"}).status_code == 403
    authors.approve(user("mod", staff=True), authors.claim(user("ada"), paper, 0))
    assert "Set the code and project links" in ada.get(f"/papers/{KEY}").content.decode()
    bad = ada.post(
        f"/papers/{KEY}/links", {"github_repo": "javascript:alert(1)", "project_page": ""}, follow=True
    )
    page = bad.content.decode()
    assert "The links were not saved" in page and 'href="javascript' not in page
    # Both fields come back as typed, the wrong one marked, so a typo costs no retyping.
    typed = {"github_repo": "https://gitlab.com/a/b", "project_page": "https://a.example.org/engines"}
    refused = ada.post(f"/papers/{KEY}/links", typed)
    assert refused.status_code == 400
    form = lxml.html.fromstring(refused.content)
    code, project = form.get_element_by_id("github-repo"), form.get_element_by_id("project-page")
    assert (code.get("value"), project.get("value")) == (typed["github_repo"], typed["project_page"])
    assert code.get("aria-invalid") == "true" and project.get("aria-invalid") is None
    ada.post(f"/papers/{KEY}/links", {"github_repo": "https://github.com/a/b", "project_page": ""})
    assert 'href="https://github.com/a/b"' in Client().get(f"/papers/{KEY}").content.decode()
    # The listing card shows the author's link too.
    assert 'href="https://github.com/a/b"' in Client().get("/authors/Ada Lovelace").content.decode()


def test_author_page_lists_every_paper_with_its_votes(db, client):
    for n in range(3):
        add_paper(f"2411.0100{n}", f"Paper number {n}", authors=("Jos\\'e Mu\\~noz",), hf_upvotes=n + 4)
    page = client.get("/authors/José Muñoz").content.decode()
    for n in range(3):
        assert f"Paper number {n}" in page
    assert "Jos\\'e" not in page and "Mu\\~noz" not in page
    for votes in ("4", "5", "6"):
        assert re.search(rf">\s*{votes}\s*<", page), votes


def test_a_moderator_removes_links_in_the_admin_and_the_log_says_so(paper, client):
    authors.approve(user("mod", staff=True), authors.claim(user("ada"), paper, 0))
    links = authors.set_links(user("ada"), paper, "https://github.com/ada/spam", "")
    moderator = signed_in("mod", staff=True)
    response = moderator.post(f"/admin/community/paperlinks/{links.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:500]
    assert client.get(f"/api/papers/{KEY}").json()["githubRepo"] is None
    assert "github.com/ada/spam" not in client.get(f"/papers/{KEY}").content.decode()
    last = AuthorLog.objects.filter(action="links").order_by("-at", "-id").first()
    assert last.actor.username == "mod" and last.detail == "code: https://github.com/ada/spam → (none)"


def test_a_verified_author_stays_verified_when_a_new_version_reorders_the_authors(paper, client):
    """Claims were matched by place in the list: v2 adding an author in front moved the badge to
    the person before the verified author, on the page and in the API."""
    claim = authors.claim(user("alan"), paper, 2)  # Alan Turing
    assert authors.approve(user("mod", staff=True), claim)
    reordered = add_paper(KEY, "Engines of thought", authors=("Grace Hopper", *NAMES), listed=DAY)
    shown = {entry.name: entry.verified_by for entry in authors.entries(reordered)}
    assert shown == {"Grace Hopper": "", "Ada Lovelace": "", "José Muñoz": "", "Alan Turing": "alan"}
    api = {
        a["name"]: a.get("user", {}).get("user") for a in client.get(f"/api/papers/{KEY}").json()["authors"]
    }
    assert api == {"Grace Hopper": None, "Ada Lovelace": None, "José Muñoz": None, "Alan Turing": "alan"}


def test_after_a_reorder_the_author_now_at_a_verified_authors_old_place_can_be_verified(paper):
    """A claim remembered its author's place in the list, and the database allowed one verified
    claim per place: after v2 put an author in front, the author who moved into a verified
    author's old place could be neither claimed nor approved."""
    alan = authors.claim(user("alan"), paper, 2)  # Alan Turing, third
    assert authors.approve(user("mod", staff=True), alan)
    reordered = add_paper(KEY, "Engines of thought", authors=("Grace Hopper", *NAMES), listed=DAY)
    jose = authors.claim(user("jose"), reordered, 2)  # José Muñoz is third now
    assert jose.author.name == NAMES[1]
    assert authors.approve(user("mod", staff=True), jose)
    shown = {entry.name: entry.verified_by for entry in authors.entries(reordered)}
    assert shown == {"Grace Hopper": "", "Ada Lovelace": "", "José Muñoz": "jose", "Alan Turing": "alan"}
    # Alan is still one verified person: a second claim on him is refused.
    with pytest.raises(NotAllowed, match="verified already"):
        authors.claim(user("impostor"), reordered, 3)
