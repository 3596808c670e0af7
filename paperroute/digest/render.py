"""Turning a digest (or a confirmation) into text and HTML with the CSS inlined."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.urls import reverse

from paperroute.digest.compose import Card, Digest, site_url
from paperroute.digest.periods import Period

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"


@lru_cache(maxsize=1)
def _styles() -> tuple[str, str]:
    return ((TEMPLATES / "digest.css").read_text(), (TEMPLATES / "digest-media.css").read_text())


@lru_cache(maxsize=1)
def inliner() -> css_inline.CSSInliner:
    # The @media rules cannot be inlined, so they stay in a <style> block; nothing is fetched.
    return css_inline.CSSInliner(extra_css=_styles()[0], keep_at_rules=True,
                                 load_remote_stylesheets=False)


def inline(html: str) -> str:
    return inliner().inline(html)


def inline_many(documents: list[str]) -> list[str]:
    """Inline a batch of documents (on several cores: css-inline runs them in parallel)."""
    return inliner().inline_many(documents)


def render_card(card: Card) -> None:
    """Fill in a card's HTML and text once; every digest that shows it reuses them."""
    if not card.html:
        card.html = get_template("email/digest_paper.html").render({"card": card})
        card.text = get_template("email/digest_paper.txt").render({"card": card}).strip() + "\n"


def site_name() -> str:
    return urlsplit(site_url()).hostname or "paperroute"


def preferences_url(token: str) -> str:
    return site_url() + reverse("subscription", args=[token])


def unsubscribe_url(token: str) -> str:
    return site_url() + reverse("unsubscribe", args=[token])


@dataclass
class Rendered:
    subject: str
    text: str
    html: str  # not yet inlined


def subject_for(period: Period, digest: Digest) -> str:
    top = digest.papers[0].title if digest.papers else ""
    if len(top) > 70:
        top = top[:67].rsplit(" ", 1)[0] + "…"
    kind = "Daily papers" if period.frequency == "daily" else "Weekly papers"
    when = (f"{period.start:%a} {period.start.day} {period.start:%b}" if period.frequency == "daily"
            else f"week of {period.start:%b} {period.start.day}")
    return f"{kind}, {when}: {top}" if top else f"{kind}, {when}"


def render_sections(digest: Digest, cache: dict | None = None) -> tuple[str, str]:
    """The sections' HTML and text; many subscribers share a section, so each is made once."""
    cache = {} if cache is None else cache
    html, text = [], []
    for section in digest.sections:
        key = (section.title, section.topic, tuple(card.pid for card in section.cards))
        if key not in cache:
            for card in section.cards:
                render_card(card)
            context = {"section": section}
            cache[key] = (get_template("email/digest_section.html").render(context),
                          get_template("email/digest_section.txt").render(context))
        html.append(cache[key][0])
        text.append(cache[key][1])
    return "".join(html), "".join(text)


def render_digest(period: Period, digest: Digest, *, email: str, token: str,
                  cache: dict | None = None) -> Rendered:
    """The digest's subject, plain text and (un-inlined) HTML for one subscriber.

    `cache` (one dict per period) keeps rendered sections between subscribers.
    """
    sections_html, sections_text = render_sections(digest, cache)
    count = len(digest.papers)
    context = {
        "subject": subject_for(period, digest),
        "heading": ("Trending papers, " if period.frequency == "daily" else "The week's papers, ")
        + period.label,
        "intro": f"{count} paper{'s' if count != 1 else ''} picked for you.",
        "preheader": "; ".join(c.title for c in digest.papers[:3])[:200],
        "sections_html": sections_html, "sections_text": sections_text, "notes": digest.notes,
        "frequency": period.frequency, "email": email,
        "site_url": site_url(), "site_name": site_name(),
        "preferences_url": preferences_url(token), "unsubscribe_url": unsubscribe_url(token),
        "media_css": _styles()[1],
    }
    html = get_template("email/digest.html").render(context)
    text = get_template("email/digest.txt").render(context)
    return Rendered(context["subject"], text, html)


def render_confirmation(kind: str, *, email: str, confirm_url: str, token: str) -> Rendered:
    """The confirmation mail ("confirm") or the reminder to a subscriber ("manage")."""
    subject = ("Your paperroute digest preferences" if kind == "manage"
               else "Confirm your paperroute digest subscription")
    context = {"kind": kind, "email": email, "confirm_url": confirm_url, "subject": subject,
               "preferences_url": preferences_url(token), "site_url": site_url(),
               "hours": settings.CONFIG["DIGEST_CONFIRM_HOURS"], "media_css": _styles()[1]}
    html = inline(render_to_string("email/subscribe_confirm.html", context))
    return Rendered(subject, render_to_string("email/subscribe_confirm.txt", context), html)
