"""What a digest holds: trending first, a section per followed topic, no paper twice, ever;
multipart text + HTML with inlined CSS; one-click unsubscribe headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import lxml.html
import pytest
from django.test import override_settings

from paperroute import search
from paperroute.community.models import Vote
from paperroute.digest import runs
from paperroute.digest.models import Outbox, SentPaper
from paperroute.digest.periods import daily
from paperroute.digest.smtp import messenger_factory
from tests.community.helpers import HOSTILE, add_paper, user
from tests.digest.conftest import DAY, config, subscriber
from tests.support import smtp_server

pytestmark = pytest.mark.django_db

NEXT = DAY + timedelta(days=1)


@pytest.fixture
def papers(settings, tmp_path):
    """A day of papers with votes, two that match followed topics, and an index over them."""
    config(settings, digest_concurrency=1)
    made = {
        "top": add_paper(
            "2411.10001",
            "Scaling laws for sparse mixture of experts",
            listed=DAY,
            hf_upvotes=50,
            code="https://github.com/example/moe",
        ),
        "second": add_paper(
            "2411.10002",
            "Speculative decoding with self-drafting language models",
            listed=DAY,
            hf_upvotes=40,
            abstract="Speculative decoding accelerates inference of large language models.",
        ),
        "third": add_paper(
            "2411.10003",
            "A benchmark for retrieval augmented generation",
            listed=DAY,
            hf_upvotes=30,
            categories=("cs.IR",),
        ),
        "fourth": add_paper(
            "2411.10004",
            "Vision transformers without attention",
            listed=DAY,
            hf_upvotes=20,
            categories=("cs.CV",),
        ),
        "quiet_sd": add_paper(
            "2411.10005",
            "Tree-based speculative decoding for faster serving",
            listed=DAY,
            abstract="We verify draft tokens along a tree in speculative decoding.",
        ),
        "gnn": add_paper(
            "2411.10006",
            "Graph neural networks for molecular property prediction",
            listed=DAY,
            categories=("cs.LG",),
            abstract="Message passing graph neural networks predict molecular properties.",
        ),
        "hostile": add_paper("2411.10007", HOSTILE, listed=DAY, hf_upvotes=10, authors=(HOSTILE,)),
        "tomorrow": add_paper(
            "2411.20001", "Sparse autoencoders find interpretable features", listed=NEXT, hf_upvotes=5
        ),
    }
    with override_settings(DATA_DIR=tmp_path):
        search.sync()
        yield made


def send(day=DAY):
    return runs.send(daily(day), messenger_factory=messenger_factory())


def titles_in(text: str, papers: dict) -> list[str]:
    """The papers a plain-text digest lists, in order, by their names in `papers`."""
    positions = {name: text.find(p.title) for name, p in papers.items() if p.title in text}
    return sorted(positions, key=positions.get)


def test_trending_comes_first_then_one_section_per_topic_without_repeats(smtp, papers):
    subscriber("ada@example.org", max_papers=3, topics=["speculative decoding", "graph neural networks"])
    assert send().complete
    text = smtp.text(smtp.wait_for("ada@example.org"))
    trending, rest = text.split("FOLLOWING: speculative decoding")
    sd_section, gnn_section = rest.split("FOLLOWING: graph neural networks")
    assert titles_in(trending, papers) == ["top", "second", "third"]
    # "second" matches the topic too but was shown above: it is not repeated.
    assert titles_in(sd_section, papers) == ["quiet_sd"]
    assert titles_in(gnn_section, papers) == ["gnn"]
    assert text.count(papers["second"].title) == 1


def test_categories_filter_every_section(smtp, papers):
    subscriber("vision@example.org", categories=["cs.CV"], topics=["speculative decoding"])
    send()
    text = smtp.text(smtp.wait_for("vision@example.org"))
    assert titles_in(text, papers) == ["fourth"] and "FOLLOWING" not in text


def test_no_paper_is_mailed_to_the_same_subscriber_twice_across_digests(smtp, papers):
    ada = subscriber("ada@example.org", max_papers=3)
    send()
    # The next day, votes put yesterday's top paper back among the trending ones.
    voter = user("voter")
    Vote.objects.create(
        user=voter, paper=papers["top"], created_at=datetime.combine(NEXT, time(12), tzinfo=UTC)
    )
    subscriber("late@example.org", max_papers=3)
    send(NEXT)
    ada_next = smtp.text(smtp.wait_for("ada@example.org", 2))
    late_next = smtp.text(smtp.wait_for("late@example.org"))
    assert papers["top"].title in late_next  # it is trending on that day
    assert papers["top"].title not in ada_next and papers["tomorrow"].title in ada_next
    sent_keys = list(SentPaper.objects.filter(subscriber=ada).values_list("paper__key", flat=True))
    assert len(sent_keys) == len(set(sent_keys)) == 4


def test_a_subscriber_with_nothing_new_gets_no_mail(smtp, papers):
    ada = subscriber("ada@example.org", max_papers=30)
    send()
    ada.refresh_from_db()
    assert len(smtp.to("ada@example.org")) == 1
    # Nothing new on the next day for this subscriber (they already had every paper).
    assert send(NEXT).complete
    assert len(smtp.to("ada@example.org")) == 2  # "tomorrow" is new
    day3 = NEXT + timedelta(days=1)
    assert send(day3).complete
    assert len(smtp.to("ada@example.org")) == 2
    assert Outbox.objects.get(subscriber=ada, run__period_start=day3).status == Outbox.SKIPPED


def test_the_message_is_multipart_with_inlined_css_and_one_click_unsubscribe(smtp, papers):
    ada = subscriber("ada@example.org", max_papers=10)
    send()
    accepted = smtp.wait_for("ada@example.org")
    message = accepted.parsed()
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    # Both parts fit SMTP's line limit, so they travel as they are (the sink announces 8BITMIME).
    assert [p["Content-Transfer-Encoding"] for p in message.iter_parts()] == ["8bit", "8bit"]
    assert max(map(len, accepted.raw.split(b"\r\n"))) <= 998
    html = smtp.html(accepted)
    # Every element carries its style: clients that drop <style> (Gmail web, Outlook) keep the look.
    assert re.search(
        r'<a class="title" href="https://papers.example.org/papers/2411.10001" style="[^"]*font-weight: 700',
        html,
    )
    assert re.search(r'<table class="card"[^>]* style="[^"]*border-radius: 10px', html)
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and styles[0].strip().startswith("@media")  # only what cannot be inlined
    # User text is escaped in both parts' sources.
    assert "<script>" not in html and "&lt;script&gt;" in html
    # The mail carries no script of any kind, and every link in it is http(s).
    document = lxml.html.fromstring(html)
    assert document.xpath("//script") == []
    assert [a for e in document.iter() for a in e.attrib if a.lower().startswith("on")] == []
    assert all(href.startswith(("https://", "http://")) for href in document.xpath("//a/@href"))
    assert 'href="https://github.com/example/moe"' in html  # the code badge
    prefs = f"https://papers.example.org/subscription/{ada.token}"
    assert f'href="{prefs}"' in html and f'href="{prefs}/unsubscribe"' in html
    assert prefs in smtp.text(accepted)

    assert message["List-Unsubscribe"] == (
        f"<{prefs}/unsubscribe>, <mailto:digest@papers.example.org?subject=unsubscribe%20{ada.token}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "paperroute daily digest <daily.digest.papers.example.org>"
    row = Outbox.objects.get(subscriber=ada)
    assert message["Message-ID"] == row.message_id
    assert re.fullmatch(r"<digest\.daily-2024-11-28\.[0-9a-f]{24}@papers\.example\.org>", row.message_id)
    assert message["Subject"].startswith("Daily papers, Thu 28 Nov: Scaling laws for sparse")
    # The daily digest goes out the morning after its day: it said "Trending today" of it.
    assert (
        "TRENDING ON THURSDAY" in smtp.text(accepted).upper() and "today" not in smtp.text(accepted).lower()
    )


def test_titles_and_teasers_written_in_tex_read_as_plain_text(smtp, papers):
    add_paper(
        "2411.10008",
        r"The spectral $\zeta$-function of the Schr\"odinger operator",
        listed=DAY,
        hf_upvotes=99,
        abstract=r"We bound $\mathcal{O}(n^2)$ terms of the \emph{spectral} $\zeta$-function in this paper.",
    )
    subscriber("ada@example.org", max_papers=3)
    send()
    accepted = smtp.wait_for("ada@example.org")
    said = "The spectral ζ-function of the Schrödinger operator"
    # The subject names the top paper, and both parts show its title and teaser as a reader reads them.
    assert said in accepted.parsed()["Subject"]
    for part in (smtp.text(accepted), smtp.html(accepted)):
        assert said in part and "We bound O(n^2) terms of the spectral ζ-function" in part
        assert "$" not in part and "\\zeta" not in part and "emph" not in part


def test_the_message_id_is_the_same_whenever_it_is_made():
    from paperroute.digest.messages import message_id

    assert message_id("digest.daily-2024-11-28", "7") == message_id("digest.daily-2024-11-28", "7")
    assert message_id("digest.daily-2024-11-28", "7") != message_id("digest.daily-2024-11-28", "8")


@pytest.mark.parametrize("announces_8bitmime", [True, False])
def test_bodies_travel_8bit_only_to_servers_that_announce_8bitmime(announces_8bitmime):
    from paperroute.digest.messages import build
    from paperroute.digest.smtp import SMTPMessenger

    text = "Schrödinger bridges in $O(n^2)$ time\n.\nsecond paragraph"
    html = "<p>Schrödinger bridges in <b>$O(n^2)$</b> time</p>\n<p>" + "é " * 700 + "</p>"
    data = build(
        to="ada@example.org",
        subject="Daily papers: Schrödinger",
        text=text,
        html=html,
        msg_id="<digest.test@papers.example.org>",
        date=datetime(2024, 11, 28, tzinfo=UTC),
    )
    # The text part fits SMTP's line limit and goes as it is; the HTML has a 1,400-byte line.
    assert (
        b"Content-Transfer-Encoding: 8bit" in data and b"Content-Transfer-Encoding: quoted-printable" in data
    )

    # aiosmtpd announces 8BITMIME unless it is asked to decode the data as ASCII text.
    with smtp_server(announce_8bitmime=announces_8bitmime) as server:
        messenger = SMTPMessenger("127.0.0.1", server.port)
        messenger.send("digest@papers.example.org", "ada@example.org", data)
        messenger.close()

    [accepted] = server.accepted
    assert ("BODY=8BITMIME" in accepted.mail_options) == announces_8bitmime
    assert accepted.raw.isascii() != announces_8bitmime
    message = accepted.parsed()
    assert message["Message-ID"] == "<digest.test@papers.example.org>"
    assert message["Subject"] == "Daily papers: Schrödinger"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert plain.replace("\r\n", "\n").rstrip("\n") == text
    assert "é " * 700 in message.get_body(preferencelist=("html",)).get_content()


def _contrast(one: str, two: str) -> float:
    def luminance(color: str) -> float:
        rgb = [int(color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_line_of_a_digest_is_readable_in_dark_mode():
    """Mail apps in dark mode apply the digest's dark @media rules: the section titles, links,
    authors, footer and a "For you" paper's reason kept their light-mode indigo and greys on
    the dark background, at a contrast of 3:1 or less. Every text must reach 4.5:1 (WCAG AA)."""
    from paperroute.digest import render
    from paperroute.digest.compose import Card, Digest, Section

    card = Card(
        1,
        "2411.1",
        "A title",
        "https://p.example.org/papers/2411.1",
        "Ada, Bob",
        "A teaser.",
        3,
        "https://github.com/a/b",
        ("cs.CL",),
    )
    digest = Digest(
        sections=[
            Section("Trending on Thursday", "", [card]),
            Section("For you", "", [card], {1: "by Ada, whom you follow"}),
        ],
        notes=["your topic “x” could not be searched"],
    )
    html = render.render_digest(daily(DAY), digest, email="ada@example.org", token="tok").html
    dark = re.search(r"@media \(prefers-color-scheme: dark\) \{(.*?\})\s*\}", html, re.S).group(1)
    colours = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", dark):
        found = re.search(r"(?<!-)color:\s*(#[0-9a-fA-F]{6})", body)
        for selector in selectors.split(","):
            if found:
                colours[selector.strip()] = found.group(1)
    wrapper = re.search(r"background-color:\s*(#[0-9a-f]{6})", dark.split(".body, .wrapper")[1]).group(1)
    card_bg = re.search(r"\.card \{[^}]*background-color:\s*(#[0-9a-f]{6})", dark).group(1)
    assert colours  # the block was read
    page = lxml.html.fromstring(html)
    checked = []
    for element in page.iter():
        style = element.get("style") or ""
        own = re.search(r"(?:^|;)\s*color:\s*(#[0-9a-fA-F]{6})", style)
        text = (element.text or "").strip()
        if not own or not text or "background-color" in style or "preheader" in element.get("class", ""):
            continue
        classes = element.get("class", "").split()
        ancestors = [c for a in element.iterancestors() for c in a.get("class", "").split()]
        colour = next((colours[f".{c}"] for c in classes if f".{c}" in colours), None)
        if colour is None and element.tag == "a" and "footer" in ancestors:
            colour = colours.get(".footer a")
        colour = colour or own.group(1)
        background = card_bg if "card" in ancestors else wrapper
        checked.append((text[:30], round(_contrast(colour, background), 2)))
    low = [one for one in checked if one[1] < 4.5]
    assert len(checked) > 8 and not low, low
