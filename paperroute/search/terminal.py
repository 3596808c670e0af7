"""Search results for the command line: text with terminal emphasis, or JSON."""

from __future__ import annotations

import textwrap

from paperroute.search.service import Hit, Results

BOLD, PLAIN = "\x1b[1m", "\x1b[0m"


def _mark(text: str, spans: list[tuple[int, int]], emphasis: bool) -> str:
    if not emphasis or not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(f"{BOLD}{text[start:end]}{PLAIN}")
        last = end
    out.append(text[last:])
    return "".join(out)


def _papers(hits: list[Hit]) -> dict[str, dict]:
    from paperroute.catalog.models import Paper

    rows = Paper.objects.filter(key__in=[h.key for h in hits]).values(
        "key", "title", "listed_on", "published", "primary_category"
    )
    papers = {}
    for row in rows:
        day = row["listed_on"] or (row["published"].date() if row["published"] else None)
        papers[row["key"]] = {
            "title": row["title"],
            "date": day.isoformat() if day else "",
            "category": row["primary_category"],
        }
    return papers


def hits_json(hits: list[Hit]) -> list[dict]:
    papers = _papers(hits)
    return [
        {
            "id": h.key,
            "date": papers.get(h.key, {}).get("date", ""),
            "title": h.title or papers.get(h.key, {}).get("title", ""),
            "category": papers.get(h.key, {}).get("category", ""),
            "score": h.score,
            "snippet": h.snippet,
            "highlights": h.highlights,
            "title_highlights": h.title_highlights,
        }
        for h in hits
    ]


def results_json(results: Results, offset: int = 0) -> dict:
    return {
        "mode": results.mode,
        "total": results.total,
        "total_exact": results.exact,
        "offset": offset,
        "message": results.message,
        "corrected": results.corrected,
        "suggestion": results.suggestion,
        "fewer": results.fewer,
        "hits": hits_json(results.hits),
    }


def render_hits(hits: list[Hit], *, emphasis: bool, start: int = 1) -> list[str]:
    """Numbered lines: id, date and title, then the snippet indented."""
    papers = _papers(hits)
    lines = []
    for number, hit in enumerate(hits, start=start):
        paper = papers.get(hit.key, {"title": "", "date": ""})
        title = _mark(hit.title or paper["title"], hit.title_highlights, emphasis)
        lines.append(f"{number:>3}. {hit.key}  {paper['date'] or '          '}  {title}")
        snippet = _mark(hit.snippet, hit.highlights, emphasis)
        # Wrap the plain text, then re-mark: escape codes must not count toward the width.
        wrapped = textwrap.wrap(hit.snippet, width=96) if not emphasis else [snippet]
        lines.extend(f"     {line}" for line in wrapped)
    return lines


def render_results(results: Results, *, emphasis: bool, offset: int = 0) -> list[str]:
    lines = []
    if results.message:
        lines.append(f"note: {results.message}")
    if results.corrected:
        lines.append(f"showing results for: {results.corrected} (--exact searches {results.original!r})")
    elif results.suggestion:
        lines.append(f"did you mean: {results.suggestion}")
    if not results.hits:
        lines.append("no papers match" + (f"; fewer words: {results.fewer}" if results.fewer else ""))
        return lines
    shown = f"{offset + 1}-{offset + len(results.hits)}"
    count = f"{results.total}" if results.exact else f"about {results.total}"
    lines.append(f"{results.mode} search: {shown} of {count} papers")
    lines.extend(render_hits(results.hits, emphasis=emphasis, start=offset + 1))
    return lines
