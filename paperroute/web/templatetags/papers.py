"""Template filters for paper pages: readable LaTeX, search highlights, author lists, comments,
category names."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from paperroute.catalog import latex
from paperroute.catalog.links import http_url
from paperroute.catalog.records import url_spans
from paperroute.catalog.taxonomy import NAMES, labelled
from paperroute.catalog.taxonomy import name as taxonomy_name
from paperroute.catalog.textclean import teaser_text

register = template.Library()


@register.filter
def tex(text: str):
    """Title or abstract HTML with its LaTeX made readable, everything else escaped."""
    return mark_safe(latex.to_html(text or ""))


@register.filter
def tex_plain(text: str) -> str:
    """The same as plain text (escaped by the template like any other string)."""
    return latex.to_plain(text or "")


@register.filter
def teaser(text: str, length: int = 300) -> str:
    """The start of an abstract, cut at a word boundary."""
    plain = latex.to_plain(teaser_text(text or ""))
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0].rstrip(",;:") + "…"


@register.filter
def highlight(text: str, spans) -> str:
    """Escaped text with <mark> around the [start, end) character spans."""
    text = text or ""
    out: list[str] = []
    position = 0
    for start, end in sorted(spans or []):
        start, end = max(start, position), min(end, len(text))
        if start >= end:
            continue
        out.append(escape(text[position:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    out.append(escape(text[position:]))
    return mark_safe("".join(out))


@register.filter
def short_authors(names: list[str], count: int = 3) -> str:
    """The first authors and how many more: "A, B, C +12"."""
    names = list(names or [])
    if len(names) <= count + 1:
        return ", ".join(names)
    return ", ".join(names[:count]) + f" +{len(names) - count}"


@register.filter
def comment_html(text: str):
    """A plain-text comment, escaped, with its http(s) links made clickable and line breaks kept."""
    text = text or ""
    out: list[str] = []
    position = 0
    for start, end in url_spans(text):
        url = http_url(text[start:end])
        if not url:
            continue
        out.append(escape(text[position:start]))
        out.append(f'<a href="{escape(url)}" rel="nofollow ugc noopener">{escape(url)}</a>')
        position = end
    out.append(escape(text[position:]))
    return linebreaksbr(mark_safe("".join(out)), autoescape=False)


@register.filter
def host(url: str) -> str:
    """github.com/owner/repo from a repository URL, for badges."""
    url = (url or "").split("://", 1)[-1]
    return url[4:] if url.startswith("www.") else url


@register.filter
def category_name(code: str) -> str:
    """The arXiv name of a category or archive code, for tooltips: cs.CL -> Computation and Language."""
    return taxonomy_name(code)


@register.simple_tag
def category_chip(code: str):
    """A card's compact category chip. Its name is in the link's accessible name, after the code it
    shows (speech input says what it sees: WCAG 2.5.3), and the same words are its tooltip: a title
    of the name alone would become the link's description, the name said twice. A tag rather than an
    included template: a page of 100 cards has 300 chips, which took 8 ms to render as bare codes;
    an include made that 19 ms, this tag about 8."""
    href = reverse("category", args=[code])
    known = NAMES.get(code)
    if known is None:
        return format_html('<a class="chip" href="{href}">{code}</a>', href=href, code=code)
    return format_html(
        '<a class="chip" href="{href}" title="{label}">'
        '{code}<span class="visually-hidden"> ({known})</span></a>',
        href=href,
        label=labelled(code),
        code=code,
        known=known,
    )


@register.filter
def sort_phrase(sort: str) -> str:
    return {"votes": "most upvoted first", "trending": "trending first", "newest": "newest first"}.get(
        sort, ""
    )


@register.filter
def page_numbers(page) -> list[int | None]:
    """The page numbers to link, with None where a run of them is left out: 1 2 … 7 8 9 … 19."""
    return [
        n if isinstance(n, int) else None
        for n in page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]


@register.simple_tag(takes_context=True)
def reader_subscription(context):
    """The signed-in reader's digest subscription while it sends (or is paused), else None: the
    subscribe box then says where their digest goes instead of asking again. Anonymous pages,
    the ones cached, never ask the database."""
    from paperroute.digest import subscriptions

    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return subscriptions.sending_to(request.user)
