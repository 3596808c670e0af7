"""The words the indexer counts for spelling corrections, as readers type them."""

from collections import Counter

from paperroute.search.documents import IndexDoc, prepare
from paperroute.search.spelling import words_of


def test_words_are_the_lower_case_words_readers_type():
    # Plain ASCII text takes a quicker path than text with accents: the words are the same.
    assert words_of("Self-Attention Bridges for GPT-4 in 2024") == [
        "self-attention",
        "bridges",
        "for",
        "gpt",
        "in",
    ]
    assert words_of("Schrödinger Bridges for GPT-4 in 2024") == ["schrödinger", "bridges", "for", "gpt", "in"]


def test_a_batch_counts_every_paper_s_words_with_tex_made_unicode():
    docs = [
        IndexDoc(1, r"Schr\"odinger bridges", "Bridges of diffusion.", ["A. Person (MIT)"], ["cs.LG"], 0),
        IndexDoc(2, "Diffusion", r"Schr\"odinger again.", ["B. Person"], ["math.PR"], 0),
    ]
    entries, words = prepare(docs)
    assert [e.title for e in entries] == ["Schrödinger bridges", "Diffusion"]
    assert entries[0].authors == ("A. Person (MIT)", "A. Person")  # as written, and as shown
    assert entries[1].categories == ("math.pr", "math")
    assert words == Counter({"schrödinger": 2, "bridges": 2, "diffusion": 2, "of": 1, "again": 1})
