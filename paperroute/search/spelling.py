"""Did you mean: corrections for query words from the index's own vocabulary (symspellpy).

The indexer counts the words of every title and abstract it indexes and keeps those seen at
least twice in the index generation (words.tsv). A reader builds a SymSpell dictionary from the
most frequent of them the first time a query holds a word no paper contains, so the memory
(about 60 MB for 60,000 words) is spent only by processes that meet a typo: under `paperroute
serve`, by the host's query service alone (paperroute.search.queryserver).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import Counter
from pathlib import Path

FILE = "words.tsv"
MIN_COUNT = 2  # a word seen once is as likely a typo in a paper as a word
MAX_WORDS = 60_000  # dictionary size: the commonest words cover what people misspell
MIN_LENGTH = 4  # shorter words have too many neighbours to correct safely
SHORT = 5  # words up to this long get one edit, longer ones two (as "fuzziness
# AUTO" does): two edits turn short nonsense into words ("grelk" > "great")

_WORD = re.compile(r"[^\W\d_]{2,}(?:-[^\W\d_]+)*")
_ASCII_WORD = re.compile(r"[a-z]{2,}(?:-[a-z]+)*")  # the same in lower-case ASCII, and quicker


@functools.cache
def english_words() -> frozenset[str]:
    """The English words of symspellpy's own frequency list (82,765 words, in its wheel): a
    query word among them is not a typo even when no paper in a small collection holds it."""
    import symspellpy

    path = Path(symspellpy.__file__).parent / "frequency_dictionary_en_82_765.txt"
    with path.open(encoding="utf-8") as handle:
        return frozenset(line.split(" ", 1)[0] for line in handle)


def words_of(text: str) -> list[str]:
    """The lower-case words of a title or abstract already in Unicode (textclean.unicode_text),
    as readers type them."""
    text = text.lower()
    return (_ASCII_WORD if text.isascii() else _WORD).findall(text)


def load_counts(generation: Path) -> Counter:
    path = generation / FILE
    counts: Counter = Counter()
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                word, _, count = line.rstrip("\n").partition("\t")
                if count.isdigit():
                    counts[word] = int(count)
    return counts


def save_counts(generation: Path, counts: Counter) -> None:
    """Keep the words seen at least MIN_COUNT times, most frequent first (written atomically)."""
    tmp = generation / f".{FILE}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        for word, count in counts.most_common():
            if count < MIN_COUNT:
                break
            handle.write(f"{word}\t{count}\n")
    os.replace(tmp, generation / FILE)


class Speller:
    """Corrections from one generation's vocabulary, built on first use."""

    def __init__(self, generation: Path) -> None:
        self.path = generation / FILE
        self._symspell = None
        self._lock = threading.Lock()
        self._mtime = self._modified()

    def _modified(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def stale(self) -> bool:
        """Whether a sync rewrote the vocabulary since this dictionary was made."""
        return self._modified() != self._mtime

    def _dictionary(self):
        with self._lock:
            if self._symspell is None:
                from symspellpy import SymSpell

                # Prefix 5 instead of the default 7 holds the memory to a third for the same
                # corrections of one or two edits in the words people misspell.
                symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=5)
                if self.path.exists():
                    with self.path.open(encoding="utf-8") as handle:
                        for number, line in enumerate(handle):
                            if number >= MAX_WORDS:
                                break
                            word, _, count = line.rstrip("\n").partition("\t")
                            symspell.create_dictionary_entry(word, int(count))
                self._symspell = symspell
            return self._symspell

    def correct(self, word: str) -> str | None:
        """The likeliest word one edit away (two for words over SHORT letters), preferring fewer
        edits, then frequency; None for an English word, which a collection may simply lack."""
        word = word.lower()
        if len(word) < MIN_LENGTH or not word.isalpha() or word in english_words():
            return None
        from symspellpy import Verbosity

        edits = 1 if len(word) <= SHORT else 2
        found = self._dictionary().lookup(word, Verbosity.CLOSEST, max_edit_distance=edits)
        best = max(found, key=lambda s: (-s.distance, s.count, s.term), default=None)
        return best.term if best is not None and best.term != word else None
