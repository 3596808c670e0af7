""" "For you" on the demo sample: the tab, the API and the digest section learn from what a
reader saves, upvotes, dismisses and follows, and say why they picked each paper."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest

from paperroute import search
from paperroute.catalog.models import Paper
from paperroute.community import tokens, votes
from paperroute.library import follows, foryou, shelf
from tests.community.helpers import user
from tests.search.conftest import sample  # noqa: F401  (the module's catalogue)

pytestmark = pytest.mark.django_db
DAY = date(2024, 11, 28)  # the demo's arXiv day
TAB = f"/papers/date/{DAY}?view=foryou&cat="


def shown(client, url: str = TAB) -> list[tuple[str, str]]:
    """(paper key, why) of each card on a listing page, in order."""
    page = client.get(url).content.decode()
    cards = re.findall(r'<article class="card.*?</article>', page, re.S)
    result = []
    for card in cards:
        key = re.search(r'<h3 class="card-title"[^>]*><a href="/papers/([^"]+)"', card).group(1)
        why = re.search(r'<li class="why">(.*?)</li>', card, re.S)
        result.append((key, html.unescape(why.group(1).strip()) if why else ""))
    return result


def vector(key: str):
    return search.paper_matrix([Paper.objects.get(key=key).pk])[0][0]


def paper_about(words: str) -> Paper:
    hit = search.search(words, limit=1, since=DAY, until=DAY).hits[0]
    return Paper.objects.get(key=hit.key)


@pytest.fixture
def reader(client, sample):  # noqa: F811
    account = user("reader")
    client.force_login(account)
    return account


def test_the_tab_is_offered_to_signed_in_readers_only(client, reader):
    page = client.get(f"/papers/date/{DAY}").content.decode()
    assert ">For you" in page
    client.logout()
    assert ">For you" not in client.get(f"/papers/date/{DAY}").content.decode()


def test_nothing_to_learn_from_says_how_to_start(client, reader):
    page = client.get(TAB).content.decode()
    assert "Nothing here to rank for you yet" in page and "/library/following" in page


def test_saved_papers_bring_their_neighbours_first_and_say_so(client, reader):
    liked = paper_about("speculative decoding draft model")
    shelf.add(reader, liked)
    picks = shown(client)
    assert picks, "a saved paper gives the tab something to rank"
    # The saved paper's nearest neighbours among the day's papers lead the ranking.
    day = list(Paper.objects.filter(listed_on=DAY).exclude(pk=liked.pk).values_list("pk", flat=True))
    vectors, ids = search.paper_matrix(day)
    nearest = ids[(vectors @ vector(liked.key)).argsort()[::-1][:5]]
    neighbours = set(Paper.objects.filter(pk__in=nearest.tolist()).values_list("key", flat=True))
    assert len(neighbours & {key for key, _ in picks[:10]}) >= 3
    assert picks[0][1].startswith("like “") and liked.title[:30] in picks[0][1]


def test_not_interested_drops_the_paper_and_pushes_its_likes_down(client, reader):
    liked = paper_about("speculative decoding draft model")
    shelf.add(reader, liked)
    before = shown(client)
    first = before[0][0]
    response = client.post(f"/papers/{first}/state", {"action": "dismiss"})
    assert response.status_code == 302
    after = [key for key, _ in shown(client)]
    assert first not in after
    # The paper most like the dismissed one falls, rather than moving up the slot it left.
    dismissed = vector(first)
    rest = [key for key, _ in before[1:20]]
    nearest = max(rest, key=lambda key: float(vector(key) @ dismissed))
    assert nearest not in after or after.index(nearest) > rest.index(nearest)
    # Taking every "not interested" back (the library's "Show them all again") restores it.
    assert client.post("/library/dismissed/forget").status_code == 302
    assert [key for key, _ in shown(client)] == [key for key, _ in before]


def test_a_followed_topic_starts_a_reader_with_nothing_saved(client, reader):
    follows.follow(reader, "topic", "protein structure")
    picks = shown(client)
    assert picks and picks[0][1] == "follows topic “protein structure”"
    assert re.search(r"protein", Paper.objects.get(key=picks[0][0]).title, re.I)


def test_every_pick_says_truly_why_it_is_there(client, reader):
    """A followed topic was the reason given for every paper of the day, however far from it:
    "follows topic “speculative decoding”" on a paper about motion generation, and a paper in
    a followed category never said so."""
    follows.follow(reader, "topic", "speculative decoding")
    follows.follow(reader, "category", "cs.CL")
    picks = shown(client)
    assert picks and all(why for _, why in picks)
    about = [key for key, why in picks if why == "follows topic “speculative decoding”"]
    assert about and about[0] == paper_about("speculative decoding").key
    for key in about:
        paper = Paper.objects.get(key=key)
        assert "decod" in (paper.title + paper.abstract).lower(), paper.title
    in_category = [
        key for key, why in picks if why == "in cs.CL (Computation and Language), which you follow"
    ]
    assert in_category
    assert all(Paper.objects.filter(key=key, categories__code="cs.CL").exists() for key in in_category)


def test_a_followed_name_the_model_never_learnt_finds_the_papers_that_say_it(client, reader):
    """The embedding places papers about "LoRA" far from the word itself: with the cosine alone a
    reader following it was offered none of the day's LoRA papers."""
    follows.follow(reader, "topic", "LoRA")
    day = Paper.objects.filter(listed_on=DAY)
    saying = {p.key for p in day if re.search(r"\bLoRA\b", p.title + " " + p.abstract, re.I)}
    far = [key for key in saying if float(vector(key) @ search.embed_texts(["LoRA"])[0]) < foryou.TOPIC_MATCH]
    assert len(saying) >= 3 and far, "the sample has LoRA papers the embedding alone misses"
    picks = shown(client)
    assert saying <= {key for key, _ in picks}
    assert all(why == "follows topic “LoRA”" for key, why in picks if key in saying)
    for key, _ in picks:
        paper = Paper.objects.get(key=key)
        assert "lora" in (paper.title + paper.abstract).lower(), paper.title


def test_papers_by_followed_authors_come_first(client, reader):
    shelf.add(reader, paper_about("speculative decoding draft model"))
    paper = Paper.objects.filter(listed_on=DAY).exclude(authors=None).order_by("key")[37]
    name = paper.author_names[0]
    follows.follow(reader, "author", name)
    key, why = shown(client)[0]
    by_author = Paper.objects.filter(listed_on=DAY, authors__key=follows.of(reader).authors[0].value)
    assert key in {p.key for p in by_author}
    assert why.endswith("whom you follow")


def test_upvotes_count_like_saves(client, reader):
    votes.set_vote(reader, paper_about("speculative decoding draft model"), True)
    assert shown(client)[0][1].startswith("like “")


def test_the_api_gives_the_tab_s_ranking_to_a_token(client, reader):
    shelf.add(reader, paper_about("speculative decoding draft model"))
    _, secret = tokens.create(reader, "script")
    client.logout()
    assert client.get("/api/recommendations").status_code == 401
    assert (
        client.get(
            "/api/recommendations", {"date": str(DAY)}, HTTP_AUTHORIZATION="Bearer prt_wrong"
        ).status_code
        == 401
    )
    response = client.get(
        "/api/recommendations", {"date": str(DAY), "limit": 10}, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200
    items = response.json()
    assert len(items) == 10 and items[0]["reason"].startswith("like “")
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    client.force_login(reader)
    assert [i["paper"]["id"] for i in items] == [key for key, _ in shown(client)][:10]
    assert client.get("/api/recommendations", {"date": "2021-02-30"}).status_code == 404


def test_the_whole_day_is_ranked_but_what_the_reader_keeps(reader):
    saved = paper_about("speculative decoding draft model")
    shelf.add(reader, saved)
    day = list(Paper.objects.filter(listed_on=DAY).values_list("pk", flat=True))
    picks = foryou.rank(reader, day)
    # Every paper of the day once, but the one already saved: that is not news to the reader.
    assert sorted(p.paper_id for p in picks) == sorted(pid for pid in day if pid != saved.pk)


def test_a_reader_with_a_long_history_is_never_offered_what_they_keep_or_refused(client, reader):
    """The ranking reads only the newest saves (500) and dismissals (200); the papers before
    those came back as picks, on the tab, in the API and in the digest."""
    from datetime import timedelta

    from paperroute.library.models import CollectionItem, PaperState

    day = list(Paper.objects.filter(listed_on=DAY).order_by("pk").values_list("pk", flat=True))
    refused, kept = day[: foryou.MAX_NEGATIVES + 20], day[-(foryou.MAX_POSITIVES + 20) :]
    start = datetime(2024, 11, 1, tzinfo=UTC)
    PaperState.objects.bulk_create(
        PaperState(user=reader, paper_id=pid, dismissed_at=start + timedelta(minutes=n))
        for n, pid in enumerate(refused)
    )
    saved = shelf.saved_collection(reader)
    CollectionItem.objects.bulk_create(
        CollectionItem(collection=saved, paper_id=pid, position=n + 1, added_at=start + timedelta(minutes=n))
        for n, pid in enumerate(kept)
    )
    follows.follow(reader, "category", "cs.CL")
    picked = {pick.paper_id for pick in foryou.rank(reader, day)}
    assert picked and not picked & (set(refused) | set(kept))
    on_tab = {key for key, _ in shown(client)}
    assert not on_tab & set(Paper.objects.filter(pk__in=[*refused, *kept]).values_list("key", flat=True))


def test_the_digest_has_a_for_you_section_with_reasons(reader):
    from paperroute.digest.compose import Composer
    from paperroute.digest.models import Subscriber
    from paperroute.digest.periods import Period
    from paperroute.digest.render import render_digest

    shelf.add(reader, paper_about("speculative decoding draft model"))
    follows.follow(reader, "topic", "protein structure")
    subscriber = Subscriber.objects.create(
        email="reader@example.org",
        email_key="reader@example.org",
        status=Subscriber.CONFIRMED,
        token="t" * 32,
        user=reader,
    )
    composer = Composer(Period("daily", DAY, DAY), now=datetime(2024, 11, 29, tzinfo=UTC))
    composer.prepare([subscriber])
    digest = composer.digest(subscriber)
    sections = {section.title: [card.pid for card in section.cards] for section in digest.sections}
    assert "For you" in sections
    # The topic followed in the library is searched like the subscription's own topics, and
    # its papers are in the digest: in its own section, or already in For you.
    about_proteins = composer.topic("protein structure")
    assert about_proteins
    shown = {pid for pids in sections.values() for pid in pids}
    assert set(about_proteins[:3]) <= shown
    rendered = render_digest(composer.period, digest, email=subscriber.email, token=subscriber.token)
    assert "FOR YOU" in rendered.text and "Why: like “" in rendered.text
    assert "Why: like “" in rendered.html
