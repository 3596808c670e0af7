"""BM25 keyword search with tantivy; every query is built term by term, never parsed from text."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tantivy

from paperroute.search.documents import Entry
from paperroute.search.filters import Filters
from paperroute.search.query import ParsedQuery

Occur = tantivy.Occur
Q = tantivy.Query


def _pid(value: int | float | bool | None) -> int:
    """A document's "pid" fast field, which every indexed document has."""
    assert isinstance(value, int), value
    return value


@dataclass(frozen=True)
class LexicalParams:
    """Field weights and query-side choices (tuned on SciFact train, see BENCHMARKS.md)."""

    title_weight: float = 0.25  # extra BM25 on the title alone, over title + abstract
    author_weight: float = 0.5  # a free-text word that is an author's name
    stopwords: bool = True  # drop English stop words from queries (not from documents)
    query_tf: bool = True  # a word repeated in the query counts that many times


DEFAULT_PARAMS = LexicalParams()


def _analyzer(stem: bool, stopwords: bool) -> tantivy.TextAnalyzer:
    # The chain of tantivy's built-in "default" analyzer, which the index uses for authors'
    # names; with `stem`, the one it uses for titles and abstracts (registered as "en_stem"),
    # so that query terms equal indexed terms. Those also lose their accents: a reader types
    # "Schrodinger" or "Levy" as often as "Schrödinger" or "Lévy".
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    builder = builder.filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase())
    if stem:
        builder = builder.filter(tantivy.Filter.ascii_fold())
    if stopwords:
        builder = builder.filter(tantivy.Filter.stopword("english"))
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


STEM = _analyzer(stem=True, stopwords=False)
STEM_NO_STOP = _analyzer(stem=True, stopwords=True)
PLAIN = _analyzer(stem=False, stopwords=False)
# Words held by at most this many documents are counted match by match (papers_with).
EXACT_BELOW = 1000
# Up to this many papers are picked out by one term query each (among). At 1M papers a term set
# query over the pids took 0.4 ms for 10 papers and 1.5 ms for 100, one term each 0.03 and
# 0.24 ms; from about 3,000 papers on, the set is the quicker.
AMONG_TERMS = 1000


# Letters that do not decompose into a base letter and an accent.
_OWN_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ł": "l", "Ł": "L"}
    | {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i"}
)


def folded(text: str) -> str:
    """Text without its accents (Schölkopf: Scholkopf, Sørensen: Sorensen), for names, which
    readers type either way."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_OWN_LETTERS))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("pid", stored=True, indexed=True, fast=True)
    builder.add_text_field("text", tokenizer_name="en_stem", index_option="position")
    builder.add_text_field("title", tokenizer_name="en_stem", index_option="freq")
    builder.add_text_field("authors", tokenizer_name="default", index_option="position")
    builder.add_text_field("cats", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", indexed=True, fast=True)
    # Written by indexes built before 2026-11-29 (each result's key, title and abstract), no
    # longer: results now read those from the database (search.service._rows). Kept in the
    # schema so that those indexes still open.
    builder.add_bytes_field("row", stored=True)
    return builder.build()


class LexicalIndex:
    """One tantivy index in a directory."""

    def __init__(self, path: Path, params: LexicalParams | None = None) -> None:
        self.path = path
        self._params = params
        path.mkdir(parents=True, exist_ok=True)
        self.schema = schema()
        self.index = tantivy.Index(self.schema, path=str(path))
        # Titles and abstracts are analysed as queries are (STEM, accents folded), under the
        # built-in analyzer's name, so that indexes made before folding still open.
        self.index.register_tokenizer("en_stem", STEM)
        self.searcher = self.index.searcher()

    @property
    def params(self) -> LexicalParams:
        # Read at query time, so that a benchmark can try other weights on a built index.
        return self._params or DEFAULT_PARAMS

    def reload(self) -> None:
        self.index.reload()
        self.searcher = self.index.searcher()

    @property
    def num_docs(self) -> int:
        return self.searcher.num_docs

    # -- writing ---------------------------------------------------------------------------

    def writer(self, threads: int = 1) -> tantivy.IndexWriter:
        return self.index.writer(heap_size=128_000_000, num_threads=max(1, threads))

    @staticmethod
    def add(writer: tantivy.IndexWriter, entry: Entry) -> None:
        document = tantivy.Document()
        document.add_unsigned("pid", entry.pid)
        document.add_text("text", f"{entry.title}\n{entry.abstract}")
        document.add_text("title", entry.title)
        for name in entry.authors:
            document.add_text("authors", name)
            plain = folded(name)
            if plain != name:  # Schölkopf is found by author:scholkopf too
                document.add_text("authors", plain)
        for term in entry.categories:
            document.add_text("cats", term)
        document.add_integer("day", entry.day)
        writer.add_document(document)

    def delete(self, writer: tantivy.IndexWriter, pids: Iterable[int]) -> None:
        # By query, not delete_documents_by_term: tantivy-py turns a Python int into an i64
        # term, which never matches this u64 field, and silently deletes nothing.
        pids = list(pids)
        for start in range(0, len(pids), 10_000):
            writer.delete_documents_by_query(
                Q.term_set_query(self.schema, "pid", pids[start : start + 10_000])
            )

    # -- queries ---------------------------------------------------------------------------

    def terms(self, words: list[str]) -> Counter:
        """Stemmed query terms with their counts."""
        text = " ".join(words)
        tokens = (STEM_NO_STOP if self.params.stopwords else STEM).analyze(text)
        if not tokens:  # a query of stop words only ("to be or not to be") still means them
            tokens = STEM.analyze(text)
        counts = Counter(tokens)
        if not self.params.query_tf:
            counts = Counter(dict.fromkeys(counts, 1))
        return counts

    def _phrase(self, field: str, phrase: str, analyzer=STEM) -> Q | None:
        words = analyzer.analyze(phrase)
        if not words:
            return None
        if len(words) == 1:
            return Q.term_query(self.schema, field, words[0])
        return Q.phrase_query(self.schema, field, words)

    def filter_clauses(self, filters: Filters) -> list[tuple[Occur, Q]]:
        """Clauses that restrict without scoring."""
        clauses = []
        if filters.first_day is not None or filters.last_day is not None:
            clauses.append(
                Q.range_query(
                    self.schema, "day", tantivy.FieldType.Integer, filters.first_day, filters.last_day
                )
            )
        for group in filters.category_groups:
            clauses.append(Q.term_set_query(self.schema, "cats", group))
        for name in filters.authors:
            # As typed, and without accents: a name indexed without them (Scholkopf) is found by
            # author:schölkopf, one with them by author:scholkopf (the index holds both forms).
            spellings = [self._phrase("authors", n, PLAIN) for n in dict.fromkeys((name, folded(name)))]
            found = [q for q in spellings if q is not None]
            if len(found) == 1:
                clauses.append(found[0])
            elif found:
                clauses.append(Q.boolean_query([(Occur.Should, q) for q in found]))
        return [(Occur.Must, Q.const_score_query(q, 0.0)) for q in clauses]

    def constraint_clauses(self, parsed: ParsedQuery) -> list[tuple[Occur, Q]]:
        """Phrases that must appear and words or phrases that must not."""
        clauses = []
        for phrase in parsed.phrases:
            query = self._phrase("text", phrase)
            if query is not None:
                clauses.append((Occur.Must, query))
        for excluded in parsed.excluded:
            query = self._phrase("text", excluded)
            if query is not None:
                clauses.append((Occur.MustNot, query))
        return clauses

    @staticmethod
    def scoring_words(parsed: ParsedQuery) -> list[str]:
        """Free words and the words of phrases: a phrase ranks by its words' BM25."""
        return [*parsed.words, *(word for phrase in parsed.phrases for word in phrase.split())]

    def scoring_query(self, parsed: ParsedQuery) -> Q | None:
        """BM25 over title + abstract, the title again, and author names, weighted by query tf."""
        counts = self.terms(self.scoring_words(parsed))
        if not counts:
            return None
        p = self.params
        clauses = []
        for term, count in counts.items():
            clauses.append(
                (Occur.Should, Q.boost_query(Q.term_query(self.schema, "text", term), float(count)))
            )
            if p.title_weight:
                clauses.append(
                    (
                        Occur.Should,
                        Q.boost_query(Q.term_query(self.schema, "title", term), count * p.title_weight),
                    )
                )
        if p.author_weight:
            for word in dict.fromkeys(PLAIN.analyze(" ".join(self.scoring_words(parsed)))):
                clauses.append(
                    (Occur.Should, Q.boost_query(Q.term_query(self.schema, "authors", word), p.author_weight))
                )
        return Q.boolean_query(clauses)

    def build(
        self, parsed: ParsedQuery, filters: Filters, *, scoring: bool = True, every_word: bool = False
    ) -> Q:
        """The whole query: scoring words (if any), phrases, exclusions and filters; with
        `every_word`, only papers holding all the words."""
        clauses = self.constraint_clauses(parsed) + self.filter_clauses(filters)
        if every_word:
            clauses += [(Occur.Must, Q.const_score_query(word, 0.0)) for word in self.word_clauses(parsed)]
        scored = self.scoring_query(parsed) if scoring else None
        if scored is not None:
            clauses.append((Occur.Must, scored))
        if not any(occur == Occur.Must for occur, _ in clauses):
            clauses.append((Occur.Must, Q.all_query()))
        return Q.boolean_query(clauses)

    def run(
        self, query: Q, limit: int, *, newest_first: bool = False, count: bool = False
    ) -> tuple[list[tuple[int, float]], int]:
        """(pid, score) best first, and how many documents match (if `count`, else how many came)."""
        if newest_first:
            result = self.searcher.search(query, limit=max(1, limit), count=count, order_by_field="day")
            hits = [(0.0, address) for _, address in result.hits]
        else:
            # Counting every match costs a pass over whole posting lists: only when asked.
            result = self.searcher.search(query, limit=max(1, limit), count=count)
            hits = result.hits
        hits = hits[: max(0, limit)]
        # SearchResult.count exists at run time; tantivy's type stubs leave it out.
        total = result.count if count else len(hits)  # type: ignore[attr-defined]
        if not hits:
            return [], total or 0
        pids = self.searcher.fast_field_values("pid", [address for _, address in hits])
        return [(_pid(pid), float(score)) for (score, _), pid in zip(hits, pids)], total

    def search(
        self, parsed: ParsedQuery, filters: Filters, limit: int, count: bool = True, every_word: bool = False
    ) -> tuple[list[tuple[int, float]], int]:
        """BM25 hits for a parsed query; a query with no words lists the newest matches, and one
        whose words the index cannot hold (over 40 characters) matches nothing."""
        if parsed.has_text and not self.terms(self.scoring_words(parsed)) and not parsed.phrases:
            return [], 0
        query = self.build(parsed, filters, every_word=every_word)
        return self.run(query, limit, newest_first=not self.terms(self.scoring_words(parsed)), count=count)

    def word_clauses(self, parsed: ParsedQuery) -> list[Q]:
        """One clause per distinct query word (stop words aside): the paper holds it in its
        title or abstract (stemmed), or among its authors' names."""
        clauses = {}
        analyzer = STEM_NO_STOP if self.params.stopwords else STEM
        for word in self.scoring_words(parsed):
            stems = analyzer.analyze(word)
            if not stems or tuple(stems) in clauses:
                continue
            text = [(Occur.Must, Q.term_query(self.schema, "text", s)) for s in stems]
            names = [(Occur.Must, Q.term_query(self.schema, "authors", n)) for n in PLAIN.analyze(word)]
            either = [(Occur.Should, Q.boolean_query(text))]
            if names:
                either.append((Occur.Should, Q.boolean_query(names)))
            clauses[tuple(stems)] = Q.boolean_query(either)
        return list(clauses.values())

    def count_all(self, parsed: ParsedQuery, filters: Filters) -> int:
        """How many papers hold every query word, under the phrases and filters."""
        words = self.word_clauses(parsed)
        if not words:
            return 0
        clauses = self.constraint_clauses(parsed) + self.filter_clauses(filters)
        clauses += [(Occur.Must, Q.const_score_query(word, 0.0)) for word in words]
        _, total = self.run(Q.boolean_query(clauses), 1, count=True)
        return total

    def among(self, pids: list[int]) -> Q:
        """Matches the given papers, unscored."""
        if 0 < len(pids) <= AMONG_TERMS:
            terms = [
                (Occur.Should, Q.term_query(self.schema, "pid", int(pid))) for pid in dict.fromkeys(pids)
            ]
            return Q.const_score_query(Q.boolean_query(terms), 0.0)
        return Q.const_score_query(Q.term_set_query(self.schema, "pid", [int(pid) for pid in pids]), 0.0)

    def holding_all(self, parsed: ParsedQuery, pids: list[int]) -> set[int]:
        """Those of the given papers that hold every query word."""
        words = self.word_clauses(parsed)
        if not pids or not words:
            return set(pids)
        clauses = [(Occur.Must, Q.const_score_query(word, 0.0)) for word in words]
        clauses.append((Occur.Must, self.among(pids)))
        hits, _ = self.run(Q.boolean_query(clauses), len(pids))
        return {pid for pid, _ in hits}

    def holding_words(self, parsed: ParsedQuery, filters: Filters, pids: list[int]) -> set[int]:
        """Those of the given papers whose title or abstract holds every query word (stemmed,
        stop words aside), under the query's phrases, exclusions and filters. It reads whichever
        is shorter: the papers holding the rarest word, across the index, or the given papers."""
        analyzer = STEM_NO_STOP if self.params.stopwords else STEM
        words = self.scoring_words(parsed)
        stems = list(dict.fromkeys(stem for word in words for stem in analyzer.analyze(word)))
        if not stems or not pids:
            return set()
        # A word's frequency still counts replaced documents: an upper bound on the matches.
        rarest = min(self.searcher.doc_freq("text", stem) for stem in stems)
        if not rarest:
            return set()
        clauses = [(Occur.Must, Q.term_query(self.schema, "text", stem)) for stem in stems]
        clauses += self.constraint_clauses(parsed) + self.filter_clauses(filters)
        if rarest > len(pids):
            clauses.append((Occur.Must, self.among(pids)))
        hits, _ = self.run(Q.const_score_query(Q.boolean_query(clauses), 0.0), min(rarest, len(pids)))
        return {pid for pid, _ in hits}.intersection(pids)

    def prefix_search(
        self, words: list[str], limit: int, parsed: ParsedQuery | None = None, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        """Papers holding every complete word, and a word that begins with the last one (as it
        is being typed); those whose title has them first. Within the query's filters, phrases
        and exclusions, when given."""
        *complete, last = words
        clauses = self.filter_clauses(filters) if filters is not None else []
        if parsed is not None:
            clauses += self.constraint_clauses(ParsedQuery(phrases=parsed.phrases, excluded=parsed.excluded))
        for term in STEM.analyze(" ".join(complete)):
            clauses.append((Occur.Must, Q.term_query(self.schema, "text", term)))
            clauses.append((Occur.Should, Q.boost_query(Q.term_query(self.schema, "title", term), 2.0)))
        # The index holds stems ("specul" for speculative), so the typed prefix is matched
        # against stems and words alike: its stem, or anything that starts with it.
        prefix = re.escape(folded(last.lower()))
        stems = STEM.analyze(last) or [last.lower()]
        typed = Q.boolean_query(
            [
                (Occur.Should, Q.regex_query(self.schema, "text", f"{prefix}.*")),
                (Occur.Should, Q.term_query(self.schema, "text", stems[0])),
            ]
        )
        clauses.append((Occur.Must, typed))
        clauses.append((Occur.Should, Q.boost_query(Q.regex_query(self.schema, "title", f"{prefix}.*"), 3.0)))
        hits, _ = self.run(Q.boolean_query(clauses), limit)
        return hits

    def papers_with(self, word: str) -> int:
        """How many papers hold a word in their title or abstract (0: no paper knows it).

        From the term's document frequency, which the index keeps: counting the matches walked
        the posting list, about 0.2 ms a common word at 1M papers, several times a search. The
        frequency still counts a paper's old document, replaced or removed, until segments
        merge; so a rare word, which might be held by old documents only (a typo since fixed),
        is counted exactly, which costs little for a short list.
        """
        terms = STEM.analyze(word)
        if not terms:
            return 0
        held = self.searcher.doc_freq("text", terms[0])
        if 0 < held <= EXACT_BELOW:
            _, held = self.run(Q.term_query(self.schema, "text", terms[0]), 1, count=True)
        return held

    def has_category(self, code: str) -> bool:
        """Whether some paper is in the category, or in a category of the archive (cs)."""
        return self.searcher.doc_freq("cats", code) > 0

    def in_authors(self, word: str) -> bool:
        """Whether some paper's authors' names hold the word: a surname typed as a free word is
        no typo, though no title or abstract holds it (word_clauses match it among the authors)."""
        terms = PLAIN.analyze(word)
        return bool(terms) and self.searcher.doc_freq("authors", terms[0]) > 0

    def known(self, word: str) -> bool:
        """Whether a search for the word can find a paper by it: in a title, an abstract or among
        the authors' names."""
        return bool(self.papers_with(word)) or self.in_authors(word)

    def scores_for(self, parsed: ParsedQuery, pids: list[int]) -> dict[int, float]:
        """BM25 scores of the given papers (0 for those the words miss)."""
        scored = self.scoring_query(parsed)
        if scored is None or not pids:
            return {}
        query = Q.boolean_query(
            [
                (Occur.Must, scored),
                (Occur.Must, self.among(pids)),
            ]
        )
        hits, _ = self.run(query, len(pids))
        return dict(hits)

    def matching(
        self, parsed: ParsedQuery, filters: Filters, limit: int, within: list[int] | None = None
    ) -> tuple[list[int], int]:
        """Papers (of `within`, if given) passing the phrases, exclusions and filters, unranked."""
        query = self.build(parsed, filters, scoring=False)
        if within is not None:
            query = Q.boolean_query(
                [
                    (Occur.Must, query),
                    (Occur.Must, self.among(within)),
                ]
            )
        hits, total = self.run(query, limit, count=True)
        return [pid for pid, _ in hits], total
