"""/papers/<id>.md: a paper's page as Markdown, for agents and for huggingface_hub's read_paper.

Every piece of text from a source or a user is escaped, so that it reads as the words it is and
never becomes an image, HTML or a link of Markdown's own syntax. The links written are the site's
own and http(s) addresses that passed paperroute.catalog.links.http_url. (GitHub's dialect also
makes links of bare "www." and e-mail addresses in any text, escaped or not; it gives them http
and mailto addresses only.)

Titles and abstracts are shown as the HTML page shows them: TeX accents as letters
(Schr\\"odinger as Schrödinger); math stays TeX, which agents read.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse, HttpResponseNotFound
from django.urls import reverse

from paperroute.catalog import latex
from paperroute.catalog.links import http_url
from paperroute.catalog.models import Paper
from paperroute.catalog.records import url_spans
from paperroute.catalog.textclean import unicode_text
from paperroute.community import comments
from paperroute.community.submissions import submitter
from paperroute.web.context import absolute
from paperroute.web.views.common import cacheable
from paperroute.web.views.paper import find

# Characters Markdown may read as markup anywhere in a line ('@' and ':' too, for renderers that
# honour the escape; GitHub's links bare addresses all the same, as the docstring says).
_INLINE = re.compile(r"([\\`*_{}\[\]<>()!#|~&@:])")
# What makes a line a list item, a heading underline or a numbered item when it starts one.
_LINE_START = re.compile(r"^([-+=])|^(\d+)([.)])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape(text: str) -> str:
    """Text that renders as itself in CommonMark and GitHub Markdown."""
    lines = []
    for line in _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).split("\n"):
        # Leading spaces would make an indented code block.
        line = _INLINE.sub(r"\\\1", line.strip())
        lines.append(
            _LINE_START.sub(
                lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", line
            )
        )
    return "\n".join(lines)


def one_line(text: str) -> str:
    return escape(" ".join((text or "").split()))


def link(url: str) -> str:
    """An http(s) address as an autolink, or nothing when it is not one."""
    url = http_url(url)
    if not url or any(ch in url for ch in "<> \t\n"):
        return ""
    return f"<{url}>"


# Stand-ins for a comment's links while the text around them is escaped as a whole (a mark of
# the Unicode private use area, which no comment needs, and the link's number).
_MARK = "\ue000"
_MARKED = re.compile(_MARK + r"([0-9]+)" + _MARK)


def comment_text(text: str) -> str:
    """A comment escaped, with its http(s) addresses kept as links (as the HTML page does).

    The text is escaped whole, with a stand-in for each link, so that the spaces beside a link
    stay and a line is judged by how it starts (escaping the pieces between links one by one
    dropped the spaces: "see<http://…>and more")."""
    text = (text or "").replace(_MARK, "")
    pieces: list[str] = []
    links: list[str] = []
    position = 0
    for start, end in url_spans(text):
        url = link(text[start:end])
        if not url:
            continue
        pieces.append(text[position:start] + f"{_MARK}{len(links)}{_MARK}")
        links.append(url)
        position = end
    pieces.append(text[position:])
    return _MARKED.sub(lambda m: links[int(m.group(1))], escape("".join(pieces)))


def render(paper: Paper) -> str:
    page = absolute(reverse("paper", args=[paper.key]))
    lines = [f"# {one_line(latex.title_unicode(paper.title, paper.key))}", ""]
    facts = [
        ("Authors", ", ".join(one_line(name) for name in paper.author_names)),
        ("Published", paper.published.strftime("%Y-%m-%d") if paper.published else ""),
        ("Listed", paper.listed_on.isoformat() if paper.listed_on else ""),
        ("Submitted by", one_line(submitter(paper) or "")),
        ("Categories", ", ".join(one_line(c.code) for c in paper.ordered_categories)),
        ("Upvotes", str(getattr(paper, "upvotes", 0) or 0)),
        ("arXiv", link(paper.abs_link)),
        ("PDF", link(paper.pdf_link)),
        ("Code", link(paper.code_link)),
        ("Project page", link(paper.project_link)),
        ("Page", link(page)),
    ]
    lines += [f"- **{name}:** {value}" for name, value in facts if value]
    lines += ["", "## Abstract", "", escape(unicode_text(paper.abstract)) or "(none)"]
    if paper.ai_summary:
        lines += ["", "## AI summary", "", escape(paper.ai_summary)]
    if paper.ai_keywords:
        lines += ["", "Keywords: " + ", ".join(one_line(str(k)) for k in paper.ai_keywords)]
    shown = list(comments.visible(paper))
    lines += ["", f"## Comments ({len(shown)})"]
    for comment in shown:
        edited = " (edited)" if comment.edited_at else ""
        lines += [
            "",
            f"### {one_line(comment.author.username)}, "
            f"{comment.created_at.strftime('%Y-%m-%d %H:%M')} UTC{edited}",
            "",
            comment_text(comment.body),
        ]
    return "\n".join(lines) + "\n"


def paper_markdown(request, key: str):
    """The paper page as Markdown; for an unknown paper, a 404 that says so in plain text."""
    try:
        paper = find(key)
    except Http404 as exc:
        # Its readers are agents and scripts: huggingface_hub's read_paper shows a text body as
        # the server's message, and drops an HTML page.
        return HttpResponseNotFound(f"{exc.args[0]}\n", content_type="text/plain; charset=utf-8")
    response = HttpResponse(render(paper), content_type="text/markdown; charset=utf-8")
    return cacheable(response)
