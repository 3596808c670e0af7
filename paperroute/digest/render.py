"""Turning a digest (or a confirmation) into text and HTML with the CSS inlined."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import css_inline
from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.urls import get_script_prefix, reverse
from django.utils.html import escape

from paperroute.catalog import taxonomy
from paperroute.digest.compose import Card, Digest, Section, site_url
from paperroute.digest.periods import Period

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"


@lru_cache(maxsize=1)
def _styles() -> tuple[str, str]:
    return ((TEMPLATES / "digest.css").read_text(), (TEMPLATES / "digest-media.css").read_text())


@lru_cache(maxsize=1)
def inliner() -> css_inline.CSSInliner:
    # The @media rules cannot be inlined, so they stay in a <style> block; nothing is fetched.
    return css_inline.CSSInliner(extra_css=_styles()[0], keep_at_rules=True, load_remote_stylesheets=False)


def inline(html: str) -> str:
    return inliner().inline(html)


def inline_fragment(html: str) -> str:
    """Inline a piece of a digest (a card, a section's frame) once, for every digest showing it.

    The stylesheet's selectors are single classes (only `.footer a` looks at an ancestor, and
    the footer is in the page), so a piece comes out styled the same on its own as in place.
    """
    return pack_lines(css_inline.inline_fragment(html, _styles()[0]))


def pack_lines(html: str, limit: int = 900) -> str:
    """Join an HTML document's lines into as few as fit in `limit` bytes each.

    A line break between tags is whitespace like a space, and the mail servers on the way
    do part of their work per line; SMTP allows 998 bytes.
    """
    lines: list[str] = []
    size = limit + 1
    for line in html.split("\n"):
        length = len(line.encode("utf-8"))
        if size + 1 + length <= limit:
            lines[-1] += " " + line
            size += 1 + length
        else:
            lines.append(line)
            size = length
    return "\n".join(lines)


# Where pieces that were inlined on their own go into the one around them.
CARDS_HERE = "<!--paperroute:cards-->"
SECTIONS_HERE = "<!--paperroute:sections-->"


TEXT_WIDTH = 76  # characters in a line of a plain-text part (RFC 5322 asks for at most 78)
_LONG_LINE = re.compile(rf"^.{{{TEXT_WIDTH + 1},}}$", re.MULTILINE)


def wrap_text(text: str) -> str:
    """A plain-text part with every long line broken at spaces, each piece under the line's
    indent (under the text of a "* " item): a text-only mail client shows lines as they come, so a
    280-character teaser ran off a terminal's edge. A link or other long word is never broken."""
    return _LONG_LINE.sub(lambda match: _wrap_line(match.group(0), TEXT_WIDTH), text)


def _wrap_line(line: str, width: int) -> str:
    # Greedy, as textwrap.fill(break_long_words=False) is, which made wrapping three times as
    # slow: every digest's footer has a line or two to break.
    body = line.lstrip(" ")
    indent = line[: len(line) - len(body)]
    hang = indent + "  " if body.startswith("* ") else indent
    lines: list[str] = []
    current = ""
    for word in body.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = hang + word
        else:
            current = f"{current} {word}" if current else indent + word
    lines.append(current)
    return "\n".join(lines)


CATEGORIES_SHOWN = 3  # on a card, as on the site's cards


def text_categories(codes: tuple[str, ...], width: int = TEXT_WIDTH - 2) -> str:
    """A card's categories for the plain-text part, each named while the line (under the card's
    indent) stays within `width`: "cs.LG (Machine Learning), cs.AI (Artificial Intelligence), cs.CL".

    Three names often take two lines, and wrapping broke a name in two ("cs.CV (Computer Vision
    and" / "Pattern Recognition)"). The first is always named: it is the paper's own category;
    the later ones are cross-lists, and once one does not fit, the rest stay codes rather than a
    name coming after a bare code. A code arXiv's taxonomy lacks is shown as it is."""
    shown = codes[:CATEGORIES_SHOWN]
    parts = [taxonomy.labelled(code) for code in shown[:1]]
    for i, code in enumerate(shown[1:], 1):
        label = taxonomy.labelled(code)
        if len(", ".join([*parts, label, *shown[i + 1 :]])) > width:
            return ", ".join([*parts, *shown[i:]])
        parts.append(label)
    return ", ".join(parts)


def html_categories(codes: tuple[str, ...]) -> list[str]:
    """A card's categories for the HTML part, each as "cs.LG (Machine Learning)": mail apps
    show neither a title tooltip nor the site's visually-hidden names, so the name is text."""
    return [taxonomy.labelled(code) for code in codes[:CATEGORIES_SHOWN]]


def render_card(card: Card) -> None:
    """Fill in a card's HTML (styles inlined) and text once; every digest showing it reuses them."""
    if not card.html:
        html = {"card": card, "categories": html_categories(card.categories)}
        card.html = inline_fragment(get_template("email/digest_paper.html").render(html))
        text = {"card": card, "categories": text_categories(card.categories)}
        card.text = wrap_text(get_template("email/digest_paper.txt").render(text).strip()) + "\n"


def site_name() -> str:
    return urlsplit(site_url()).hostname or "paperroute"


def listing_url(period: Period, categories: tuple[str, ...] = ()) -> str:
    """The site's page of the period's papers (the day's, or the week's), in the subscriber's
    categories: the digest shows a few of them."""
    path = _listing_path("day" if period.frequency == "daily" else "week", period.slug, get_script_prefix())
    return site_url() + path + (f"?{urlencode([('cat', code) for code in categories])}" if categories else "")


@lru_cache(maxsize=16)
def _listing_path(name: str, slug: str, prefix: str) -> str:
    return reverse(name, args=[slug])  # once per period, not for every digest (see _token_path)


def preferences_url(token: str) -> str:
    return site_url() + _token_path("subscription", token)


def unsubscribe_url(token: str) -> str:
    return site_url() + _token_path("unsubscribe", token)


_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def _token_path(name: str, token: str) -> str:
    # A digest run asks for two of these per subscriber; reverse() costs more than the rest of
    # the message headers together, and a URL-safe token (what new_token makes) needs no quoting.
    if _URL_SAFE.fullmatch(token):
        head, tail = _path_around_token(name, get_script_prefix())
        return head + token + tail
    return reverse(name, args=[token])


@lru_cache(maxsize=16)
def _path_around_token(name: str, prefix: str) -> tuple[str, str]:
    head, _, tail = reverse(name, args=["TOKEN"]).rpartition("TOKEN")  # the last one is ours
    return head, tail


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def subject_for(period: Period, digest: Digest) -> str:
    """The period, and the paper readers voted on or picked first; else how many papers are new."""
    kind = "Daily papers" if period.frequency == "daily" else "Weekly papers"
    when = (
        f"{period.start:%a} {period.start.day} {period.start:%b}"
        if period.frequency == "daily"
        else f"week of {period.start:%b} {period.start.day}"
    )
    if digest.headline is not None:
        top = digest.headline.title
        return f"{kind}, {when}: " + (top if len(top) <= 70 else top[:67].rsplit(" ", 1)[0] + "…")
    count = digest.period_papers
    return f"{kind}, {when}: {count:,} new paper{'s' if count != 1 else ''}" if count else f"{kind}, {when}"


def render_sections(digest: Digest, cache: dict | None = None) -> tuple[str, str]:
    """The sections' HTML (inlined) and text; many subscribers share a section, so each is made once."""
    cache = {} if cache is None else cache
    html, text = [], []
    for section in digest.sections:
        if section.reasons is not None:
            own = _own_section(section, cache)
            html.append(own[0])
            text.append(own[1])
            continue
        key = (section.title, section.topic, tuple(card.pid for card in section.cards))
        if key not in cache:
            frame = _frame(section, cache)
            # Pieces go in on lines of their own, so that every line stays within SMTP's limit.
            cards = "\n".join(card.html for card in section.cards)
            cache[key] = (
                frame.replace(CARDS_HERE, f"\n{cards}\n", 1),
                get_template("email/digest_section.txt").render({"section": section}),
            )
        html.append(cache[key][0])
        text.append(cache[key][1])
    return "\n".join(html), "".join(text)


def _frame(section: Section, cache: dict) -> str:
    """The section's inlined HTML around a placeholder for its cards, once per title; its cards
    rendered too."""
    for card in section.cards:
        render_card(card)
    key = ("frame", section.title, section.topic)
    if key not in cache:
        cache[key] = inline_fragment(
            get_template("email/digest_section.html").render({"section": section, "cards_html": CARDS_HERE})
        )
    return cache[key]


WHY_STYLE = "margin:-4px 0 14px;color:#57606a;font-size:13px"


def _own_section(section: Section, cache: dict) -> tuple[str, str]:
    """A section made for one reader, each paper with why it was picked; not kept in the cache."""
    frame = _frame(section, cache)
    reasons = section.reasons or {}
    # A blank line before the title, as digest_section.txt has: it ran on from the intro.
    html, text = [], [f"\n{section.title.upper()}\n\n"]
    for card in section.cards:
        why = reasons.get(card.pid, "")
        line = f'\n<p class="why" style="{WHY_STYLE}">Why: {escape(why)}</p>' if why else ""
        html.append(card.html + line)
        text.append(card.text + (f"  Why: {why}\n" if why else "") + "\n")
    cards = "\n".join(html)
    return frame.replace(CARDS_HERE, f"\n{cards}\n", 1), "".join(text)


def render_digest(
    period: Period, digest: Digest, *, email: str, token: str, cache: dict | None = None
) -> Rendered:
    """The digest's subject, plain text and HTML (styles inlined) for one subscriber.

    `cache` (one dict per period) keeps rendered sections between subscribers. Cards and
    sections are inlined once each, and only the page around them for every subscriber:
    inlining every whole digest cost more than the rest of composing it.
    """
    sections_html, sections_text = render_sections(digest, cache)
    count = len(digest.papers)
    subject = subject_for(period, digest)
    heading = "Trending papers, " if digest.trending else "New papers, "
    if period.frequency != "daily":
        heading = "The week's papers, "
    context = {
        "subject": subject,
        "heading": heading + period.label,
        "intro": f"{count} paper{'s' if count != 1 else ''} picked for you.",
        "preheader": "; ".join(c.title for c in digest.papers[:3])[:200],
        "sections_html": SECTIONS_HERE,
        "sections_text": sections_text,
        "notes": digest.notes,
        "listing_url": listing_url(period, digest.categories),
        "listing_label": f"All of {period.start:%A}'s papers"
        if period.frequency == "daily"
        else "All of the week's papers",
        "frequency": period.frequency,
        "email": email,
        "site_url": site_url(),
        "site_name": site_name(),
        "preferences_url": preferences_url(token),
        "unsubscribe_url": unsubscribe_url(token),
        "media_css": _styles()[1],
    }
    page = pack_lines(inline(get_template("email/digest.html").render(context)))
    html = page.replace(SECTIONS_HERE, f"\n{sections_html}\n", 1)
    # The cards were wrapped once each; here the rest (a reason, a note, the footer).
    text = wrap_text(get_template("email/digest.txt").render(context))
    return Rendered(subject, text, html)


def render_confirmation(kind: str, *, email: str, confirm_url: str, token: str) -> Rendered:
    """The confirmation mail ("confirm") or the reminder to a subscriber ("manage")."""
    subject = (
        "Your paperroute digest preferences"
        if kind == "manage"
        else "Confirm your paperroute digest subscription"
    )
    context = {
        "kind": kind,
        "email": email,
        "confirm_url": confirm_url,
        "subject": subject,
        "preferences_url": preferences_url(token),
        "site_url": site_url(),
        "hours": settings.CONFIG.digest_confirm_hours,
        "media_css": _styles()[1],
    }
    html = inline(render_to_string("email/subscribe_confirm.html", context))
    return Rendered(subject, wrap_text(render_to_string("email/subscribe_confirm.txt", context)), html)
