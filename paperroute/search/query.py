"""The user's query syntax, parsed by hand: no user text ever reaches an engine's own parser.

    "exact phrase"   -excluded   -"excluded phrase"   author:vaswani   author:"ashish vaswani"
    cat:cs.CL   year:2024   year:2020..2023   year:2020..   anything else is free text

Nothing here raises: what cannot be used is dropped and said in `notes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
FIELDS = {
    "author": "author",
    "au": "author",
    "authors": "author",
    "cat": "cat",
    "category": "cat",
    "year": "year",
}
OPERATORS = {"AND", "OR", "&&", "||"}
# Characters that mean something to other engines' query languages and nothing here.
NOISE = re.compile(r"[()\[\]{}*?~^!\\/+<>=|&]")
YEAR = re.compile(r"^(\d{4})?(?:\.\.(\d{4})?)?$")
CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[a-z-]+)?$", re.I)


@dataclass
class ParsedQuery:
    """What a query asks for, engine-neutral."""

    words: list[str] = field(default_factory=list)  # free text, in order, repeats kept
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # words or phrases
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # lower-cased codes or archives
    years: tuple[int | None, int | None] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The free text and phrases, for the embedding model."""
        return " ".join([*self.words, *self.phrases]).strip()

    @property
    def has_text(self) -> bool:
        return bool(self.text)

    @property
    def has_filters(self) -> bool:
        return bool(self.authors or self.categories or self.years)


def _scan(query: str) -> list[tuple[bool, str | None, str, bool, int, int]]:
    """Split into (negated, field, value, quoted, start, end) tokens, `query[start:end]` being the
    token as typed; an unmatched quote ends as plain text."""
    tokens: list[tuple[bool, str | None, str, bool, int, int]] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        start = i
        negated = query[i] == "-" and i + 1 < n and not query[i + 1].isspace()
        if negated:
            i += 1
        name = None
        match = re.match(r"([A-Za-z]+):(?=\S)", query[i:])
        if match and match.group(1).lower() in FIELDS:
            name = FIELDS[match.group(1).lower()]
            i += match.end()
        if query[i] == '"':
            end = query.find('"', i + 1)
            if end < 0:
                tokens.append((negated, name, query[i + 1 :], False, start, n))
                tokens.append((False, "!", "unmatched quote", False, n, n))
                break
            tokens.append((negated, name, query[i + 1 : end], True, start, end + 1))
            i = end + 1
            continue
        end = i
        while end < n and not query[end].isspace() and query[end] != '"':
            end += 1
        tokens.append((negated, name, query[i:end], False, start, end))
        i = end
    return tokens


def without_filters(query: str) -> tuple[str, list[str]]:
    """The query without the filters typed into it (author:, cat:, year:), and those filters as
    typed: `year:2023 "speculative decoding" -survey` is `"speculative decoding" -survey` without
    `year:2023`."""
    kept: list[str] = []
    dropped: list[str] = []
    for _, name, _, _, start, end in _scan(query):
        if name == "!":
            continue
        (dropped if name else kept).append(query[start:end])
    return " ".join(kept), dropped


def _year_range(value: str) -> tuple[int | None, int | None] | None:
    match = YEAR.match(value.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    low = int(match.group(1)) if match.group(1) else None
    high = int(match.group(2)) if match.group(2) else None
    if low == 0 or high == 0:
        return None  # the calendar starts at year 1
    if ".." not in value:
        high = low
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high


def parse(query: str) -> ParsedQuery:
    """Parse user input; never raises."""
    parsed = ParsedQuery()
    query = query.replace("\x00", " ")
    if len(query) > MAX_QUERY_CHARS:
        query = query[:MAX_QUERY_CHARS]
        parsed.notes.append(f"used the first {MAX_QUERY_CHARS:,} characters of the query")
    negate_next = False
    for negated, name, value, quoted, _, _ in _scan(query):
        if name == "!":
            parsed.notes.append("ignored the unmatched quote")
            continue
        negated = negated or negate_next
        negate_next = False
        if name is None and not quoted and value in OPERATORS:
            continue
        if name is None and not quoted and value == "NOT":
            negate_next = True
            continue
        clean = " ".join(NOISE.sub(" ", value).split())
        if name is not None and negated:
            # Filters only narrow: leaving papers out by author, category or year is not
            # supported, and reading -cat:cs.CL as cat:cs.CL showed exactly what was excluded.
            parsed.notes.append(f"ignored -{name}:{value} (a filter cannot exclude; it can only narrow)")
            continue
        if name == "author":
            if clean:
                parsed.authors.append(clean.lower())
        elif name == "cat":
            if CATEGORY.match(clean):
                parsed.categories.append(clean.lower())
            else:
                parsed.notes.append(f"ignored cat:{value} (write a category like cat:cs.CL)")
        elif name == "year":
            years = _year_range(value)
            if years is None:
                parsed.notes.append(f"ignored year:{value} (write year:2024 or year:2020..2023)")
            else:
                parsed.years = years
        elif not any(ch.isalnum() for ch in clean):
            continue  # punctuation alone matches nothing
        elif negated:
            parsed.excluded.append(clean)
        elif quoted and " " in clean:
            parsed.phrases.append(clean)
        else:
            parsed.words.extend(clean.split())
    if len(parsed.words) > MAX_TERMS:
        parsed.words = parsed.words[:MAX_TERMS]
        parsed.notes.append(f"used the first {MAX_TERMS} words of the query")
    return parsed
