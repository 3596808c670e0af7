"""What a new reader meets first: clear submit errors, errors beside their forms, honest status."""

from __future__ import annotations

import re
from datetime import date

import pytest

from paperroute.community.models import Comment
from tests.community.helpers import add_paper, user


@pytest.mark.django_db
def test_submitting_while_arxiv_is_unreachable_says_so_in_words(reader_client, settings):
    settings.CONFIG = settings.CONFIG.replace(arxiv_api_url="http://arxiv.invalid/api/query")
    response = reader_client.post("/submit", {"arxiv": "2606.13677"})
    page = response.content.decode()
    assert response.status_code == 503
    assert "arXiv could not be reached from this site just now" in page
    assert "Errno" not in page and "arxiv.invalid" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["1234.5678", "2413.00001", "2400.1234"])
def test_an_id_with_an_impossible_month_is_refused(reader_client, text):
    response = reader_client.post("/submit", {"arxiv": text})
    assert response.status_code == 400
    assert "that is not an arXiv id or link" in response.content.decode()


@pytest.mark.django_db
def test_a_hugging_face_link_submits_the_paper_it_names(reader_client):
    add_paper("2411.00601", "A paper", listed=date(2024, 11, 28))
    response = reader_client.post("/submit", {"arxiv": "https://huggingface.co/papers/2411.00601"})
    # Already here: the reader is taken to its page rather than told the link is not one.
    assert response.status_code == 302 and response["Location"] == "/papers/2411.00601"


@pytest.mark.django_db
def test_an_empty_comment_is_reported_beside_the_comment_form(reader_client):
    add_paper("2411.00601", "A paper", listed=date(2024, 11, 28))
    response = reader_client.post("/papers/2411.00601/comments", {"body": "   "}, follow=True)
    page = response.content.decode()
    form = page[page.index('<form id="comment-form"') :]
    form = form[: form.index("</form>")]
    assert "Your comment was not posted: the comment is empty" in form
    assert 'aria-describedby="comment-error"' in form
    top = page[page.index("<main") : page.index('<article class="paper"')]
    assert "Your comment was not posted" not in top
    assert Comment.objects.count() == 0


@pytest.mark.django_db
def test_comment_times_are_valid_html_datetimes(reader_client):
    paper = add_paper("2411.00602", "A discussed paper", listed=date(2024, 11, 28))
    Comment.objects.create(paper=paper, author=user("ada"), body="Nice.")
    page = reader_client.get("/papers/2411.00602").content.decode()
    values = re.findall(r'<time datetime="([^"]+)"', page)
    # The comment's time, and the paper's dates (a day alone where no time is known).
    for value in values:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?", value), value
    comments = page[page.index('id="comments"') :]
    (value,) = re.findall(r'<time datetime="([^"]+)"', comments)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", value), value


@pytest.mark.django_db
def test_the_welcome_is_only_for_a_confirmed_subscription(client):
    from tests.digest.conftest import subscriber

    gone = subscriber("gone@example.org", status="unsubscribed")
    page = client.get(f"/subscription/{gone.token}?welcome=1").content.decode()
    assert "You are subscribed" not in page and "unsubscribed" in page
    here = subscriber("here@example.org")
    assert "You are subscribed" in client.get(f"/subscription/{here.token}?welcome=1").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/papers/2411.00603", "/feeds/daily.xml", "/api/daily_papers"])
def test_html_json_and_feeds_are_compressed_for_clients_that_ask(client, url):
    import gzip

    add_paper(
        "2411.00603",
        "A compressed paper",
        listed=date(2024, 11, 28),
        hf_upvotes=1,
        abstract="Words that repeat compress well. " * 20,
    )
    plain = client.get(url)
    packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert len(packed.content) * 2 < len(plain.content)
    assert gzip.decompress(packed.content) == plain.content
