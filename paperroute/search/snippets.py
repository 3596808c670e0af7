"""Plain-text snippets with highlight spans: the callers escape and mark them up."""

from __future__ import annotations

import re
from functools import lru_cache

from paperroute.search.lexical import STEM, folded

# tantivy's simple tokenizer: runs of alphanumeric characters.
WORD = re.compile(r"[^\W_]+")
WIDTH = 240
# The accented letters of each ASCII letter (é, è, ê… of e): stems lose their accents, as the
# index does, so a stem's prefix is looked for in either spelling of a word ("levi": Lévy).
_ACCENTED: dict[str, str] = {}
for _code in range(0xC0, 0x250):
    _base = folded(chr(_code)).lower()[:1]
    if _base.isascii() and _base.isalpha():
        _ACCENTED[_base] = _ACCENTED.get(_base, "") + chr(_code).lower()


def _letter(ch: str) -> str:
    accented = "".join(sorted(set(_ACCENTED.get(ch, ""))))
    return f"[{re.escape(ch)}{accented}]" if accented else re.escape(ch)


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    stems = STEM.analyze(word)
    return stems[0] if stems else ""


@lru_cache(maxsize=2048)
def _candidates(stems: frozenset[str]) -> re.Pattern:
    # The English stemmer only rewrites the end of a word (flies -> fli, happy -> happi), so a
    # word can only have a wanted stem if it starts like it: checking those few words alone
    # keeps snippets cheap (stemming every word of 20 abstracts cost ~30 ms a query).
    prefixes = sorted({stem[: max(1, min(3, len(stem) - 1))] for stem in stems}, key=len, reverse=True)
    spelled = ("".join(map(_letter, prefix)) for prefix in prefixes)
    return re.compile(r"(?<![^\W_])(?:" + "|".join(spelled) + r")[^\W_]*", re.I)


def spans(text: str, stems: set[str]) -> list[tuple[int, int]]:
    """[start, end) spans of the words in `text` whose stems are wanted."""
    if not stems:
        return []
    pattern = _candidates(frozenset(stems))
    return [(m.start(), m.end()) for m in pattern.finditer(text) if _stem(m.group()) in stems]


def snippet(text: str, stems: set[str], width: int = WIDTH) -> tuple[str, list[tuple[int, int]]]:
    """The `width`-character stretch of `text` with the most distinct wanted words."""
    text = " ".join(text.split())
    found = spans(text, stems)
    if len(text) <= width:
        return text, found
    start = 0
    if found:
        best, best_score = 0, -1.0
        for i, (begin, _) in enumerate(found):
            inside = {_stem(text[b:e]) for b, e in found[i:] if e <= begin + width}
            score = len(inside) * 10 - i * 0.01  # ties go to the earlier stretch
            if score > best_score:
                best, best_score = begin, score
        # Start a little before the first match, at a word boundary.
        start = max(0, best - 40)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < best else best
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    prefix = "… " if start else ""
    suffix = " …" if end < len(text) else ""
    shift = len(prefix) - start
    kept = [(b + shift, e + shift) for b, e in found if b >= start and e <= end]
    return prefix + text[start:end] + suffix, kept
