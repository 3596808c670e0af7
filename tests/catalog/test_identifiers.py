"""What a reader pastes into the search box to name one paper, and what is only words."""

import pytest

from paperroute.catalog.records import pasted_identifier


@pytest.mark.parametrize(
    "text, named",
    [
        ("2411.17700", ("arxiv", "2411.17700")),
        (" arXiv:2411.17700v3 ", ("arxiv", "2411.17700")),
        ("http://export.arxiv.org/abs/hep-th/9901001v2", ("arxiv", "hep-th/9901001")),
        ("www.arxiv.org/pdf/2411.17700", ("arxiv", "2411.17700")),
        ("https://arxiv.org/abs/2411.17700?context=cs.CL", ("arxiv", "2411.17700")),
        ("DOI:10.48550/ARXIV.2411.17700", ("arxiv", "2411.17700")),
        ("https://hf.co/papers/2411.17700", ("arxiv", "2411.17700")),
        ("https://dx.doi.org/10.1103/PhysRevD.110.104001", ("doi", "10.1103/PhysRevD.110.104001")),
        ("10.1145/3292500.3330701", ("doi", "10.1145/3292500.3330701")),
    ],
)
def test_an_identifier_names_its_paper(text, named):
    assert pasted_identifier(text) == named


# Words, numbers and other sites' links are searched for as text.
@pytest.mark.parametrize(
    "text",
    [
        "speculative decoding",
        "1234.5678",
        "2411",
        "10.5 percent",
        "https://example.org/abs/2411.17700",
        "",
        "arXiv",
    ],
)
def test_other_text_is_no_identifier(text):
    assert pasted_identifier(text) is None
