"""Forms on the site: sign-in by link, voting, comments, submissions, tokens; and the page cache."""

import re
from datetime import date

import lxml.html
import pytest

from paperroute.community import votes
from paperroute.community.models import Comment
from tests.community.arxiv_replay import respond
from tests.community.helpers import HOSTILE, add_paper, user
from tests.replay import ReplayServer
from tests.support import _body


@pytest.mark.django_db
def test_signing_in_by_the_emailed_link(client, mailbox):
    form = client.get("/account/signin?next=/trending").content.decode()
    assert '<label for="email">' in form
    sent = client.post("/account/signin", {"email": "grace@example.org", "next": "/trending"})
    assert (
        "Check your email" in sent.content.decode() and "printed on the console" not in sent.content.decode()
    )
    link = mailbox.link("grace@example.org")
    path = link.split("127.0.0.1:8000", 1)[1]
    confirm = client.get(path)  # a mail scanner opening the link signs nobody in
    assert "Sign in as grace@example.org?" in confirm.content.decode()
    assert "_auth_user_id" not in client.session
    done = client.post(path)
    assert done["Location"] == "/trending" and client.session["_auth_user_id"]
    again = client.post(path)
    assert again.status_code == 400 and "already been used" in again.content.decode()


@pytest.mark.django_db
def test_the_emailed_link_brings_back_the_whole_page_and_nothing_else(client, mailbox):
    """`next` arrives whole (its own ? and &), and text that would start a line of the email or
    end the link is no page to go back to: the email holds no words but the site's own."""
    client.post("/account/signin", {"email": "ada@example.org", "next": "/search?q=diffusion&mode=lexical"})
    path = mailbox.link("ada@example.org").split("127.0.0.1:8000", 1)[1]
    assert client.post(path)["Location"] == "/search?q=diffusion&mode=lexical"
    client.logout()
    bait = "/\n\nIMPORTANT: this link is broken. Sign in at https://evil.example/login instead.\n"
    for number, next_url in enumerate((bait, "/ trending", "/\rx", "/\u2028x", "/\x85x")):
        address = f"bob{number}@example.org"  # one sign-in email an address a few minutes
        client.post("/account/signin", {"email": address, "next": next_url})
        message = mailbox.wait_for(address)
        for part in ("plain", "html"):
            assert "evil.example" not in _body(message, part) and "IMPORTANT" not in _body(message, part)
        path = mailbox.link(address).split("127.0.0.1:8000", 1)[1]
        assert client.post(path)["Location"] == "/", repr(next_url)
        client.logout()


@pytest.mark.django_db
def test_without_a_mail_server_the_page_says_where_the_link_went(client, settings, capsys):
    """The demo has no mail server: its sign-in link is printed on the console, and the page
    that says "check your email" says so."""
    from paperroute.mail import CONSOLE_BACKEND

    settings.EMAIL_BACKEND = CONSOLE_BACKEND
    sent = client.post("/account/signin", {"email": "grace@example.org"}).content.decode()
    assert "printed on the console" in sent and "/account/signin/" in capsys.readouterr().out
    subscribed = client.post("/subscribe", {"email": "grace@example.org", "frequency": "daily"})
    assert "printed on the console" in subscribed.content.decode()


@pytest.mark.django_db
def test_a_bad_address_is_explained_on_the_form(client, mailbox):
    response = client.post("/account/signin", {"email": "nope"})
    assert response.status_code == 400 and "Enter an email address" in response.content.decode()


# 260 characters: Django's validator takes it (up to 320), the address columns hold 254.
LONG_ADDRESS = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".org"


@pytest.mark.django_db
def test_an_address_longer_than_254_characters_is_explained_on_the_form(client, mailbox):
    """PostgreSQL refused to store it: the sign-in form answered 500."""
    assert len(LONG_ADDRESS) == 260
    response = client.post("/account/signin", {"email": LONG_ADDRESS})
    assert response.status_code == 400
    assert "An email address can be at most 254 characters" in response.content.decode()


@pytest.mark.django_db
def test_voting_from_a_form_and_from_the_script(reader_client):
    add_paper("2411.00501", listed=date(2024, 11, 28), hf_upvotes=3)
    back = reader_client.post("/papers/2411.00501/vote", {"action": "up", "next": "/papers/date/2024-11-28"})
    assert back["Location"] == "/papers/date/2024-11-28"
    page = reader_client.get("/papers/date/2024-11-28").content.decode()
    assert 'aria-pressed="true"' in page and '<span class="count" data-count>4</span>' in page
    # Without JavaScript the form comes back to its card, not to the top of the page.
    paper = re.search(r'<article class="card[^"]*" aria-labelledby="t-(\d+)"', page).group(1)
    assert f'name="next" value="/papers/date/2024-11-28#p-{paper}"' in page
    back = reader_client.post(
        "/papers/2411.00501/vote", {"action": "up", "next": f"/papers/date/2024-11-28#p-{paper}"}
    )
    assert back["Location"] == f"/papers/date/2024-11-28#p-{paper}"
    state = reader_client.post("/papers/2411.00501/vote", {"action": "down"}, HTTP_ACCEPT="application/json")
    assert state.json() == {"upvoted": False, "upvotes": 3}
    assert (
        reader_client.post("/papers/2411.00501/vote", {"next": "https://evil.example/"})["Location"]
        == "/papers/2411.00501"
    )


@pytest.mark.django_db
def test_anonymous_readers_are_sent_to_sign_in(client):
    add_paper("2411.00502", listed=date(2024, 11, 28))
    assert client.post("/papers/2411.00502/vote")["Location"].startswith("/account/signin?next=")
    assert client.get("/submit")["Location"].startswith("/account/signin")
    # The sign-in page says what the reader came to do.
    assert "<h1>Sign in to submit a paper</h1>" in client.get("/submit", follow=True).content.decode()
    assert "<h1>Sign in</h1>" in client.get("/account/signin?next=/trending").content.decode()


@pytest.mark.django_db
def test_comments_link_urls_escape_markup_and_obey_their_author(reader_client):
    from django.test import Client

    add_paper("2411.00503", listed=date(2024, 11, 28))
    reader_client.post("/papers/2411.00503/comments", {"body": f"See https://example.org/a?b=1 {HOSTILE}"})
    comment = Comment.objects.get()
    page = reader_client.get("/papers/2411.00503").content.decode()
    assert '<a href="https://example.org/a?b=1" rel="nofollow ugc noopener">' in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert f"/comments/{comment.pk}/edit" in page
    reader_client.post(f"/comments/{comment.pk}/edit", {"body": "Edited text"})
    assert "Edited text" in reader_client.get("/papers/2411.00503").content.decode()
    client = Client()
    client.force_login(user("other"))
    assert client.post(f"/comments/{comment.pk}/delete").status_code == 403
    assert client.get(f"/comments/{comment.pk}/edit").status_code == 403
    reader_client.post(f"/comments/{comment.pk}/delete")
    assert not Comment.objects.exists()
    empty = reader_client.post("/papers/2411.00503/comments", {"body": "  "}, follow=True)
    assert "Your comment was not posted: the comment is empty" in empty.content.decode()


@pytest.mark.django_db
def test_a_refused_comment_comes_back_with_what_was_typed(reader_client, settings):
    add_paper("2411.00503", listed=date(2024, 11, 28))
    # Over the limit (sent by a script, or a browser that ignores the field's maxlength): refused,
    # and the writer keeps every word of it, escaped.
    long = "Line one. " + HOSTILE + "</textarea>\n" + "x" * 5000
    refused = reader_client.post("/papers/2411.00503/comments", {"body": long})
    assert refused.status_code == 400
    field = lxml.html.fromstring(refused.content).get_element_by_id("comment-body")
    assert field.text_content() == long and field.get("aria-invalid") == "true"
    assert "<script>alert" not in refused.content.decode()
    # Too many comments: the form says so, keeps the text and does not call it wrong.
    settings.CONFIG = settings.CONFIG.replace(rate_comments="1/hour")
    reader_client.post("/papers/2411.00503/comments", {"body": "First."})
    limited = reader_client.post("/papers/2411.00503/comments", {"body": "A long, careful second thought."})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    page = lxml.html.fromstring(limited.content)
    field = page.get_element_by_id("comment-body")
    assert field.text_content() == "A long, careful second thought." and field.get("aria-invalid") is None
    said = page.get_element_by_id(field.get("aria-describedby")).text_content()
    assert said.startswith("Your comment was not posted: too many comments"), said
    assert page.findtext(".//title").startswith("Error: ")
    assert [c.body for c in Comment.objects.all()] == ["First."]
    # The page is answered at the form's address, which takes only POSTs: its other forms (the
    # upvote, Save) return to the paper's page.
    backs = page.xpath("//main//form/input[@name='next']/@value")
    assert len(backs) >= 3 and {back.split("#")[0] for back in backs} == {"/papers/2411.00503"}
    assert reader_client.get("/papers/2411.00503/comments").status_code == 405


@pytest.mark.django_db
def test_a_refused_reply_comes_back_in_its_own_form_with_what_was_typed(reader_client, settings):
    add_paper("2411.00503", listed=date(2024, 11, 28))
    reader_client.post("/papers/2411.00503/comments", {"body": "A question."})
    question = Comment.objects.get()
    settings.CONFIG = settings.CONFIG.replace(rate_comments="1/hour")
    response = reader_client.post(
        "/papers/2411.00503/comments", {"body": "An answer.", "parent": question.pk}
    )
    assert response.status_code == 429
    page = lxml.html.fromstring(response.content)
    assert page.get_element_by_id(f"reply-{question.pk}").get("open") is not None
    assert page.get_element_by_id(f"reply-body-{question.pk}").text_content() == "An answer."
    assert page.get_element_by_id("comment-body").text_content() == ""


@pytest.mark.django_db
def test_submitting_from_the_form(reader_client, settings):
    with ReplayServer(respond) as arxiv:
        settings.CONFIG = settings.CONFIG.replace(arxiv_api_url=arxiv.url + "/api/query")
        bad = reader_client.post("/submit", {"arxiv": "not an id"})
        assert bad.status_code == 400 and "not an arXiv id" in bad.content.decode()
        done = reader_client.post("/submit", {"arxiv": "https://arxiv.org/abs/2606.13677v1"}, follow=True)
    page = done.content.decode()
    assert "Mana: Dexterous Manipulation" in page and "Submitted by reader" in page
    assert "Mana: Dexterous Manipulation" in reader_client.get("/").content.decode()


@pytest.mark.django_db
def test_api_tokens_are_shown_once_and_revocable(reader_client):
    page = reader_client.post("/account/settings", {"form": "token", "name": "my-laptop"}).content.decode()
    secret = re.search(r"prt_[A-Za-z0-9_-]+", page).group(0)
    listed = reader_client.get("/account/settings").content.decode()
    assert secret not in listed and "<td>my-laptop</td>" in listed
    token_id = re.search(r'name="token" value="(\d+)"', listed).group(1)
    reader_client.post("/account/settings", {"form": "revoke", "token": token_id})
    assert "my-laptop" not in reader_client.get("/account/settings").content.decode()


@pytest.mark.django_db
def test_making_api_tokens_is_rate_limited_and_revoking_one_still_works(reader_client, monkeypatch):
    from paperroute.web.views import account

    monkeypatch.setattr(account, "NEW_TOKENS", "2/hour")
    for number in range(2):
        assert (
            reader_client.post("/account/settings", {"form": "token", "name": f"t{number}"}).status_code
            == 200
        )
    refused = reader_client.post("/account/settings", {"form": "token", "name": "one-more"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "too many new API tokens" in refused.content.decode()
    # A leaked token can be revoked however many were made.
    first = reader_client.user.api_tokens.order_by("pk").first()
    assert (
        reader_client.post("/account/settings", {"form": "revoke", "token": str(first.pk)}).status_code == 302
    )
    assert list(reader_client.user.api_tokens.values_list("name", flat=True)) == ["t1"]
    monkeypatch.setattr(account, "REVOKES", "1/hour")
    refused = reader_client.post("/account/settings", {"form": "revoke", "token": "0"})
    assert refused.status_code == 429 and "too many revoked API tokens" in refused.content.decode()


@pytest.mark.django_db
def test_the_name_field_says_what_a_name_may_hold_before_a_mistake(reader_client):
    page = reader_client.get("/account/settings").content.decode()
    assert "2 to 30 letters (a–z, A–Z), digits, dots, dashes or underscores, without spaces" in page
    assert 'aria-describedby="username-hint"' in page


@pytest.mark.django_db
def test_renaming_works_a_few_times_a_day_and_then_waits(reader_client):
    """A name given up is free for anyone at once: one reader may not cycle through names."""
    from paperroute.community.accounts import RENAMES

    allowed = int(RENAMES.split("/")[0])
    # A name that cannot be had is no rename, and does not count.
    for _ in range(allowed + 1):
        assert reader_client.post("/account/settings", {"form": "name", "username": "x"}).status_code == 400
    for number in range(allowed):
        done = reader_client.post("/account/settings", {"form": "name", "username": f"name{number}"})
        assert done.status_code == 302, number
    refused = reader_client.post("/account/settings", {"form": "name", "username": "one-more"})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "too many changes of name" in refused.content.decode().lower()
    assert "name19" in reader_client.get("/account/settings").content.decode()


@pytest.mark.django_db
def test_the_page_cache_serves_repeats_and_forgets_on_a_vote(client):
    paper = add_paper("2411.00504", listed=date(2024, 11, 28), hf_upvotes=1)
    assert client.get("/papers/date/2024-11-28")["X-Page-Cache"] == "miss"
    assert client.get("/papers/date/2024-11-28")["X-Page-Cache"] == "hit"
    votes.set_vote(user("voter"), paper, True)  # as if from another process: only the DB changed
    fresh = client.get("/papers/date/2024-11-28")
    assert fresh["X-Page-Cache"] == "miss" and '<span class="count">2</span>' in fresh.content.decode()


@pytest.mark.django_db
def test_a_readers_submissions_and_comment_history_show_titles_as_the_site_does(reader_client):
    from paperroute.community.models import Submission

    paper = add_paper(
        "2411.00631", r"The spectral $\zeta$-function of Schr\"odinger operators", listed=date(2024, 11, 28)
    )
    Submission.objects.create(paper=paper, user=reader_client.user)
    comment = Comment.objects.create(paper=paper, author=reader_client.user, body="Nice bound.")
    shown = "The spectral ζ-function of Schrödinger operators"
    for address in ("/account/settings", f"/comments/{comment.pk}/history"):
        page = reader_client.get(address).content.decode()
        assert shown in page and r"\zeta" not in page, address
