"""A digest as its subscriber reads it: the plain-text part says what the HTML part says, notes
read as prose, and nothing in the mail tells one subscriber about the others."""

from __future__ import annotations

import re

import lxml.html
import pytest
from django.test import override_settings

from paperroute import search
from paperroute.digest import runs
from paperroute.digest.periods import daily, weekly
from paperroute.digest.smtp import messenger_factory
from tests.community.helpers import add_paper
from tests.digest.conftest import DAY, config, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def papers(settings, tmp_path):
    """A day of voted papers, one of them in four categories, and an index over them."""
    many = ("cs.LG", "stat.ML", "cs.AI", "cs.CL")
    code = "https://github.com/example/sparse"
    made = dict(
        many=add_paper(
            "2411.30001",
            "Sparse attention across four archives",
            listed=DAY,
            hf_upvotes=30,
            categories=many,
            code=code,
        ),
        one=add_paper(
            "2411.30002", "Retrieval for long documents", listed=DAY, hf_upvotes=20, categories=("cs.IR",)
        ),
        quiet=add_paper("2411.30003", "Graph neural networks for molecules", listed=DAY),
    )
    config(settings, digest_concurrency=1)
    with override_settings(DATA_DIR=tmp_path):
        search.sync()
        yield made


def send():
    return runs.send(daily(DAY), messenger_factory=messenger_factory())


def text_card(text: str, title: str) -> str:
    """The lines of the plain-text part that show the paper with this title."""
    [card] = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.startswith(f"* {title}")]
    return card


def html_cards(html: str) -> dict[str, list[str]]:
    """Each paper of the HTML part by title, with the categories its card shows."""
    return {
        card.xpath('.//a[contains(@class, "title")]')[0].text_content(): [
            span.text_content() for span in card.xpath('.//span[contains(@class, "category")]')
        ]
        for card in lxml.html.fromstring(html).xpath('//table[contains(@class, "card")]')
    }


def test_the_text_part_shows_each_papers_categories_as_the_html_part_does(smtp, papers):
    """A reader on a text-only mail client got no categories at all; now every paper's text
    lines name the same categories (the primary one first) as its card in the HTML part."""
    subscriber("ada@example.org")
    assert send().complete
    accepted = smtp.wait_for("ada@example.org")
    text, cards = smtp.text(accepted), html_cards(smtp.html(accepted))
    assert [label.split()[0] for label in cards[papers["many"].title]] == ["cs.LG", "cs.AI", "cs.CL"]
    assert set(cards) == {p.title for p in papers.values()}
    for title, labels in cards.items():
        card = text_card(text, title)
        codes = [label.split()[0] for label in labels]
        assert codes and re.search(r"\n  " + r".*, ".join(map(re.escape, codes)), card), card
    many = text_card(text, papers["many"].title)
    assert "  30 upvotes · code: https://github.com/example/sparse\n" in many
    assert "stat.ML" not in many  # neither part shows a fourth category
    assert "  cs.CL (Computation and Language)\n" in text_card(text, papers["quiet"].title)


def test_both_parts_name_each_category_beside_its_code(smtp, papers):
    """A card showed "cs.LG  cs.AI  cs.CL": a reader who does not know arXiv's codes could not
    tell what a paper is about. The HTML part gives each name as text (mail apps drop the site's
    visually-hidden names and most show no tooltip); the text part names as many as its line
    holds, the paper's own category always."""
    subscriber("ada@example.org")
    assert send().complete
    accepted = smtp.wait_for("ada@example.org")
    text, cards = smtp.text(accepted), html_cards(smtp.html(accepted))
    assert cards[papers["many"].title] == [
        "cs.LG (Machine Learning)",
        "cs.AI (Artificial Intelligence)",
        "cs.CL (Computation and Language)",
    ]
    assert cards[papers["one"].title] == ["cs.IR (Information Retrieval)"]
    # Three names would take a second line, which broke a name in two: the third stays a code.
    many = text_card(text, papers["many"].title)
    assert "\n  cs.LG (Machine Learning), cs.AI (Artificial Intelligence), cs.CL\n" in many
    assert "\n  cs.IR (Information Retrieval)\n" in text_card(text, papers["one"].title)


def test_a_code_arxiv_does_not_name_is_shown_as_it_is_and_escaped():
    """A category the taxonomy does not know (an old archive, an imported paper's own code) has
    no name to give: both parts show the code alone, beside the named ones, and the HTML part
    escapes it."""
    from paperroute.digest.compose import Card, Digest, Section
    from paperroute.digest.render import render_digest

    odd = "<b>q-alg</b>"
    card = Card(
        1, "2411.1", "A title", "https://p.example.org/papers/2411.1", "Ada", "", 0, "", ("cs.LG", odd)
    )
    digest = Digest(sections=[Section("Trending on Thursday", "", [card])])
    rendered = render_digest(daily(DAY), digest, email="ada@example.org", token="tok")
    assert html_cards(rendered.html) == {"A title": ["cs.LG (Machine Learning)", odd]}
    assert "<b>" not in rendered.html and "&lt;b&gt;q-alg&lt;/b&gt;" in rendered.html
    assert "\n  cs.LG (Machine Learning), <b>q-alg</b>\n" in text_card(rendered.text, "A title")


def test_a_topic_that_could_not_be_searched_is_named_as_a_reader_writes_it(smtp, papers, monkeypatch):
    """The note quoted the topic as Python code ('it\\'s …', backslashes doubled); it reads as
    prose in both parts, and the HTML part escapes it."""
    topic = 'it\'s <b>"diffusion"</b> \\ models'

    def broken(*args, **kwargs):
        raise search.SearchError("the search index could not be opened")

    monkeypatch.setattr(search, "search", broken)
    subscriber("ada@example.org", topics=[topic])
    assert send().complete
    accepted = smtp.wait_for("ada@example.org")
    said = f"Note: your topic “{topic}” could not be searched."
    assert said in smtp.text(accepted)
    html = smtp.html(accepted)
    [note] = lxml.html.fromstring(html).xpath('//p[contains(@class, "note")]')
    assert note.text_content() == said and len(note) == 0  # text, no <b> element
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_message_ids_do_not_tell_a_subscriber_their_id_or_anyone_elses(smtp, papers, settings):
    """The Message-ID held the subscriber's sequential id (`<digest.daily-2024-11-28.48213.…>`):
    whoever got a digest learnt how many subscribers the site has. It is now a hash keyed with
    the site's secret, still the same each time the same digest is made."""
    from paperroute.digest.messages import message_id
    from paperroute.digest.models import Outbox, Subscriber

    ada = subscriber("ada@example.org")
    bob = subscriber("bob@example.org")
    Subscriber.objects.filter(pk=bob.pk).update(id=48213)
    assert send().complete
    ids = {}
    for who in (ada, Subscriber.objects.get(pk=48213)):
        accepted = smtp.wait_for(who.email)
        message = accepted.parsed()
        ids[who.pk] = message["Message-ID"]
        assert re.fullmatch(r"<digest\.daily-2024-11-28\.[0-9a-f]{24}@papers\.example\.org>", ids[who.pk])
        assert ids[who.pk] == Outbox.objects.get(subscriber=who).message_id
        # What says which subscriber it is for is the random token of the unsubscribe links.
        assert who.token in message["List-Unsubscribe"]
    assert b"48213" not in smtp.wait_for("bob@example.org").raw  # neither headers nor parts
    assert ids[ada.pk] != ids[48213]
    # The same digest gets the same Message-ID whenever it is made, but not without the key.
    assert message_id("digest.daily-2024-11-28", "48213") == ids[48213]
    settings.SECRET_KEY = "another site's secret key, fifty characters or more"
    assert message_id("digest.daily-2024-11-28", "48213") != ids[48213]


LONG_TITLE = (
    "Sparse attention with learned routing scales mixture-of-experts transformers to a trillion "
    "parameters on commodity hardware"
)
LONG_TEASER = (
    "We show that sparse attention with learned routing lets a mixture of experts scale to a "
    "trillion parameters on commodity hardware, halving the cost of training at equal quality."
)


def too_long(text: str) -> list[str]:
    """The lines past 76 characters, but for one that is a link alone (never broken)."""
    return [
        line for line in text.splitlines() if len(line) > 76 and not re.fullmatch(r" *https?://\S+", line)
    ]


def test_the_text_part_is_wrapped_for_a_text_only_mail_client(smtp, papers):
    """A text-only mail client shows lines as they come: a long title, a teaser of up to 280
    characters and the footer ran off the edge of the screen. Lines now stop at 76 characters,
    each piece under its line's indent, and a link is never broken."""
    add_paper(
        "2411.30004",
        LONG_TITLE,
        listed=DAY,
        hf_upvotes=25,
        abstract=LONG_TEASER,
        authors=("Ada Augusta Lovelace", "Alan Mathison Turing", "Grace Brewster Murray Hopper"),
    )
    subscriber("ada@example.org")
    assert send().complete
    accepted = smtp.wait_for("ada@example.org")
    text = smtp.text(accepted).replace("\r\n", "\n")
    assert too_long(text) == []
    card = text_card(text, "Sparse attention with learned")
    first, *rest = card.splitlines()
    assert first.startswith("* Sparse attention") and all(line.startswith("  ") for line in rest)
    words = " ".join(card.split())
    assert f"* {LONG_TITLE} Ada Augusta Lovelace, Alan Mathison Turing, Grace Brewster Murray Hopper" in words
    assert LONG_TEASER in words
    assert "  https://papers.example.org/papers/2411.30004" in rest
    assert "subscribed at\nhttps://papers.example.org/\n" in text
    assert LONG_TITLE in smtp.html(accepted)  # the HTML part is not wrapped


def test_the_confirmation_mail_is_wrapped_too():
    from paperroute.digest.render import render_confirmation

    url = "https://papers.example.org/subscribe/confirm/" + "x" * 90
    text = render_confirmation("confirm", email="ada@example.org", confirm_url=url, token="tok").text
    assert too_long(text) == [] and f"\n{url}\n" in text
    assert "Someone (hopefully you) asked to send the trending papers of the day from" in text


def test_a_digest_links_the_whole_day_or_week_in_the_subscribers_categories(smtp, papers, client):
    """The digest shows a few of the period's papers and its subject may count them all ("87 new
    papers"), but it had no link to the rest: it now ends with one to the day's (or week's)
    listing, in the subscriber's categories, in both parts."""
    subscriber("ir@example.org", categories=["cs.IR"])
    subscriber("weekly@example.org", frequency="weekly")
    assert send().complete
    assert runs.send(weekly(DAY), messenger_factory=messenger_factory()).complete
    daily_url = "https://papers.example.org/papers/date/2024-11-28?cat=cs.IR"
    weekly_url = "https://papers.example.org/papers/week/2024-W48"
    for who, label, url in [
        ("ir@example.org", "All of Thursday's papers", daily_url),
        ("weekly@example.org", "All of the week's papers", weekly_url),
    ]:
        accepted = smtp.wait_for(who)
        assert f" {label}: {url} " in " ".join(smtp.text(accepted).split())  # wrapped or not
        [link] = lxml.html.fromstring(smtp.html(accepted)).xpath(f'//a[@href="{url}"]')
        assert link.text_content() == f"{label} →"
    # The link leads to that listing on the site.
    page = client.get(daily_url.removeprefix("https://papers.example.org"))
    assert page.status_code == 200 and papers["one"].title in page.content.decode()
    assert papers["quiet"].title not in page.content.decode()  # not in cs.IR
    page = client.get(weekly_url.removeprefix("https://papers.example.org"))
    assert page.status_code == 200 and papers["many"].title in page.content.decode()


def test_a_cards_meta_line_lines_up_with_the_text_above_it(smtp, papers):
    """The code badge and the categories were spaced from what came before them: on a paper
    without votes the line started 6px to the right of the title and teaser above it. Each item
    is now spaced from the next one, whichever comes first."""
    subscriber("ada@example.org")
    assert send().complete
    page = lxml.html.fromstring(smtp.html(smtp.wait_for("ada@example.org")))
    lines = page.xpath('//p[contains(@class, "meta")]')
    firsts = {line[0].get("class") for line in lines}
    assert firsts == {"votes", "category"}  # "quiet" has no votes and no code
    for line in lines:
        assert [item for item in line if "margin-left" in item.get("style", "")] == []
        assert all("margin-right: 6px" in item.get("style") for item in line[:-1])
    [many] = [line for line in lines if len(line) == 5]
    assert [item.get("class") for item in many] == ["votes", "badge", "category", "category", "category"]


def test_a_screen_reader_hears_upvotes_not_a_triangle(smtp, papers):
    """A card's vote count is shown as "▲ 30", which a screen reader read out as "black
    up-pointing triangle 30"; it now says "30 upvotes", as the text part does."""
    subscriber("ada@example.org")
    assert send().complete
    accepted = smtp.wait_for("ada@example.org")
    votes = lxml.html.fromstring(smtp.html(accepted)).xpath('//span[contains(@class, "votes")]')
    assert [(v.text_content(), v.get("role"), v.get("aria-label")) for v in votes] == [
        ("▲ 30", "img", "30 upvotes"),
        ("▲ 20", "img", "20 upvotes"),
    ]
    assert "30 upvotes" in smtp.text(accepted)


def test_the_for_you_section_stands_apart_from_the_intro_in_the_text_part():
    """A digest opening with "For you" ran its title on from the intro ("12 papers picked for
    you.\nFOR YOU"), and after another section it had one blank line where the others have two."""
    from paperroute.digest.compose import Card, Digest, Section
    from paperroute.digest.render import render_digest

    card = Card(1, "2411.1", "A title", "https://p.example.org/papers/2411.1", "Ada", "", 0, "", ("cs.CL",))
    other = Card(2, "2411.2", "B title", "https://p.example.org/papers/2411.2", "Bob", "", 0, "", ("cs.CL",))
    digest = Digest(sections=[Section("For you", "", [card], {1: "by Ada, whom you follow"})])
    text = render_digest(daily(DAY), digest, email="ada@example.org", token="tok").text
    assert "1 paper picked for you.\n\nFOR YOU\n\n* A title" in text
    digest.sections.insert(0, Section("Trending on Thursday", "", [other]))
    text = render_digest(daily(DAY), digest, email="ada@example.org", token="tok").text
    assert "2411.2\n\n\nFOR YOU\n\n* A title" in text
