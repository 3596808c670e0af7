"""Submissions: an arXiv id or link, fetched from (a replay of) the arXiv API, listed today."""

from datetime import date

import pytest

from paperroute.catalog.models import Paper
from paperroute.community import submissions
from paperroute.community.errors import InvalidInput, RateLimited
from paperroute.community.models import Submission
from tests.community.arxiv_replay import respond
from tests.community.helpers import add_paper, user
from tests.replay import ReplayServer, Reply

TODAY = date(2026, 11, 28)


@pytest.fixture
def arxiv(settings):
    with ReplayServer(respond) as server:
        settings.CONFIG = settings.CONFIG.replace(arxiv_api_url=server.url + "/api/query")
        yield server


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2606.13677", "2606.13677"),
        (" arXiv:2606.13677v1 ", "2606.13677"),
        ("https://arxiv.org/abs/2606.13677v2", "2606.13677"),
        ("https://www.arxiv.org/pdf/2606.13677v1.pdf", "2606.13677"),
        ("https://arxiv.org/abs/hep-th/9901001?context=x", "hep-th/9901001"),
        # What a reader copies from Hugging Face or a reference list names the paper too.
        ("https://huggingface.co/papers/2606.13677", "2606.13677"),
        ("https://arxiv.org/html/2606.13677v1", "2606.13677"),
        ("https://doi.org/10.48550/arXiv.2606.13677", "2606.13677"),
        ("arxiv.org/abs/2606.13677", "2606.13677"),
    ],
)
def test_ids_and_links_are_understood(text, expected):
    assert submissions.parse_submission(text) == expected


@pytest.mark.parametrize("text", ["", "hello", "https://example.org/abs/2606.13677", "2606.1"])
def test_other_text_is_refused_with_an_example(text):
    with pytest.raises(InvalidInput, match="2406.01234"):
        submissions.parse_submission(text)


def test_a_doi_that_is_not_arxivs_is_refused_saying_why():
    with pytest.raises(InvalidInput, match="10.1145/3292500.3330701 is not an arXiv paper's DOI"):
        submissions.parse_submission("https://doi.org/10.1145/3292500.3330701")


@pytest.mark.django_db
def test_a_submission_lands_on_todays_listing_credited_to_the_submitter(arxiv):
    alice = user("alice")
    paper, added = submissions.submit(alice, "https://arxiv.org/abs/2606.13677v1", today=TODAY)
    assert added
    assert paper.title == "Mana: Dexterous Manipulation of Articulated Tools"
    assert paper.listed_on == TODAY and paper.submitted_on == TODAY
    assert paper.announced_on is not None and paper.announced_on < TODAY
    assert Submission.objects.get(paper=paper).user == alice
    assert submissions.submitter(paper) == "alice"
    assert arxiv.requests[0].params["id_list"] == "2606.13677"
    # Submitting it again goes to the same paper, asks arXiv nothing and credits nobody else.
    again, added = submissions.submit(user("bob"), "2606.13677", today=TODAY)
    assert (again.pk, added) == (paper.pk, False)
    assert len(arxiv.requests) == 1 and Submission.objects.count() == 1


@pytest.mark.django_db
def test_a_paper_already_in_the_catalogue_is_a_duplicate(arxiv):
    existing = add_paper("2411.00030", listed=date(2024, 11, 28))
    paper, added = submissions.submit(user(), "2411.00030", today=TODAY)
    assert (paper.pk, added) == (existing.pk, False)
    assert Paper.objects.get(pk=existing.pk).listed_on == date(2024, 11, 28)
    assert arxiv.requests == []


@pytest.mark.django_db
def test_an_id_arxiv_does_not_know_is_refused(arxiv):
    with pytest.raises(InvalidInput, match="arXiv has no paper with the id 2606.99999"):
        submissions.submit(user(), "2606.99999", today=TODAY)
    assert not Paper.objects.filter(key="2606.99999").exists()


@pytest.mark.django_db
def test_arxiv_being_down_is_reported(settings):
    with ReplayServer(lambda path, params: Reply(b"down", status=503)) as server:
        settings.CONFIG = settings.CONFIG.replace(arxiv_api_url=server.url + "/api/query")
        with pytest.raises(submissions.ArxivUnavailable, match="try again"):
            submissions.submit(user(), "2606.13677", today=TODAY)


@pytest.mark.django_db
def test_submissions_are_rate_limited_per_user(arxiv, settings):
    settings.CONFIG = settings.CONFIG.replace(rate_submissions="1/day")
    submissions.submit(user(), "2606.13677", today=TODAY)
    with pytest.raises(RateLimited, match="submissions"):
        submissions.submit(user(), "2606.13591", today=TODAY)
