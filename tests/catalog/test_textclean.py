import random
import re
import time
import unicodedata

import pytest
from pylatexenc.latex2text import LatexNodes2Text

from paperroute.catalog.sources import arxiv_rss
from paperroute.catalog.textclean import author_key, split_author, teaser_text, unicode_text
from tests.conftest import fixture_bytes
from tests.support import seconds_per_call

DAY = "arxiv_rss/rss2_allarchives_2024-11-28_1504items.xml.gz"
# Math as a reader of the source sees it, found independently of the module under test.
MATH = re.compile(
    r"\$\$.+?\$\$|(?<!\\)\$(?:\\.|[^$\\])+?\$|\\\(.+?\\\)|\\\[.+?\\\]"
    r"|\\begin\{(\w+\*?)\}.*?\\end\{\1\}",
    re.S,
)
FORBIDDEN_IN_TEASERS = ("\\begin{", "\\end{", "\\cite", "\\ref{", "\\label{")


@pytest.fixture(scope="module")
def papers():
    return arxiv_rss.parse(fixture_bytes(DAY)).items


def by_id(papers, arxiv_id):
    return next(p for p in papers if p.arxiv_id == arxiv_id)


def test_every_tex_author_name_of_the_day_reads_as_unicode(papers):
    with_tex = [p for p in papers if any(re.search(r"[\\{}]", a) for a in p.authors)]
    names = {a for p in with_tex for a in p.authors if re.search(r"[\\{}]", a)}
    print(f"{len(with_tex)} of {len(papers)} papers have TeX in an author name ({len(names)} names)")
    assert len(with_tex) == 187 and len(names) == 283
    for paper in with_tex:
        for author in paper.authors:
            name, affiliation = split_author(author)
            assert not re.search(r"[\\{}()]", name), (paper.arxiv_id, author, name)
            assert name and affiliation == ""
    # pylatexenc, a full TeX parser, reads each of these names the same way.
    reference = LatexNodes2Text()
    for tex in names:
        assert split_author(tex)[0] == unicodedata.normalize("NFC", reference.latex_to_text(tex)), tex


@pytest.mark.parametrize(
    "tex, unicode",
    [
        ("\\'Angel Luis Mu\\~noz Casta\\~neda", "Ángel Luis Muñoz Castañeda"),
        ("Przemys{\\l}aw Musialski", "Przemysław Musialski"),
        ("C\\u{a}t\\u{a}lin Pa\\c{s}cu Moca", "Cătălin Paşcu Moca"),
        ("Serdar Kad{\\i}o\\u{g}lu", "Serdar Kadıoğlu"),
        ("Gu{\\dh}mundur K. Stef\\'ansson", "Guðmundur K. Stefánsson"),
        ('\\"Ozen\\c{c} G\\"ung\\"or', "Özenç Güngör"),
        ("Jaros{\\l}aw \\.Zygierewicz", "Jarosław Żygierewicz"),
        ("Tom\\'a\\v{s} Man\\v{c}al", "Tomáš Mančal"),
        ("Maciej Zi\\k{e}ba", "Maciej Zięba"),
        ("Sofie Castro Holb{\\ae}k", "Sofie Castro Holbæk"),
        ("Jeppe Liborius Sj{\\o}rup", "Jeppe Liborius Sjørup"),
        ("Marta {\\L}uksza", "Marta Łuksza"),
        ("Olivier L\\'ev\\^eque", "Olivier Lévêque"),
    ],
)
def test_real_author_names_from_the_day(papers, tex, unicode):
    assert tex in {a for p in papers for a in p.authors}
    assert split_author(tex) == (unicode, "")
    assert author_key(tex) == author_key(unicode) == author_key(f"  {unicode.replace(' ', '   ')} ")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Jean Dupont (IFPEN)", ("Jean Dupont", "IFPEN")),
        ("  Jean   Dupont\t(IFPEN)  ", ("Jean Dupont", "IFPEN")),
        ("Jean Dupont, IFPEN", ("Jean Dupont, IFPEN", "")),
        ("Jean Dupont (Lab (CNRS))", ("Jean Dupont", "Lab (CNRS)")),
        ("Jean Dupont (Lab (CNRS)", ("Jean Dupont", "Lab (CNRS)")),
        ("Jean Dupont (IFPEN", ("Jean Dupont", "IFPEN")),
        ("Jean Dupont (IFPEN) (Sorbonne)", ("Jean Dupont", "IFPEN; Sorbonne")),
        ("Jean (Johnny) Dupont", ("Jean (Johnny) Dupont", "")),
        ("Jean Dupont IFPEN)", ("Jean Dupont IFPEN", "")),
        (
            "Fran\\c{c}ois Mar\\'echal (Universit\\'e de Gen\\`eve)",
            ("François Maréchal", "Université de Genève"),
        ),
        ("Jörg Müller", ("Jörg Müller", "")),
        ("Ángel Luis Muñoz Castañeda", ("Ángel Luis Muñoz Castañeda", "")),
        ("(IFPEN)", ("(IFPEN)", "")),
        ("\\url{", ("\\url{", "")),
        ("", ("", "")),
    ],
)
def test_split_author(text, expected):
    assert split_author(text) == expected


def test_author_key_joins_tex_and_unicode_spellings():
    assert author_key('J\\"org M\\"uller') == author_key("Jörg Müller")
    assert author_key('J\\"{o}rg  M{\\"u}ller') == author_key("JÖRG MÜLLER") == "jörg müller"
    assert author_key("Jo\u0308rg Mu\u0308ller") == author_key("Jörg Müller")  # decomposed input
    assert author_key("Jean Dupont (IFPEN)") == author_key("jean dupont")
    assert author_key("Jean Dupont") != author_key("Jean Dupond")


def math_spans(text):
    return [m.group() for m in MATH.finditer(text)]


def test_titles_and_abstracts_lose_accent_commands_but_keep_math(papers):
    texts = [text for p in papers for text in (p.title, p.abstract)]
    with_math = 0
    for text in texts:
        shown = unicode_text(text)
        spans = math_spans(text)
        with_math += bool(spans)
        # Each math span of the source is in the output, byte for byte and in order.
        position = 0
        for span in spans:
            position = shown.find(span, position)
            assert position >= 0, (span, shown)
            position += len(span)
        outside = MATH.sub(" ", shown)
        assert not re.search(r"\\[\"'~`^]|\\[cvuHk]\{|[{}]", outside), outside
    print(f"{with_math} of {len(texts)} titles and abstracts hold math")
    assert with_math == 519


@pytest.mark.parametrize(
    "arxiv_id, field, tex, unicode",
    [
        ("2411.17730", "title", 'Schr\\"odinger equation', "Schrödinger equation"),
        ("2411.17875", "title", "On an Erd\\H{o}s-Szekeres Game", "On an Erdős-Szekeres Game"),
        (
            "2411.17797",
            "title",
            "Informa\\c{c}\\~ao de Fisher e poss\\'iveis Aplica\\c{c}\\~oes Tecnol\\'ogicas",
            "Informação de Fisher e possíveis Aplicações Tecnológicas",
        ),
        ("2411.18035", "title", "Planetary Nebul{\\ae}", "Planetary Nebulæ"),
        ("2411.17813", "title", "consistent with {\\Lambda}CDM", "consistent with ΛCDM"),
        ("2411.18398", "abstract", "Karhunen-Lo\\`eve expansion", "Karhunen-Loève expansion"),
        (
            "2411.17778",
            "abstract",
            "(Bousquet-M{\\'e}lou and Butler 2007)",
            "(Bousquet-Mélou and Butler 2007)",
        ),
        ("2411.07174", "abstract", "Choi-Jamio{\\l}kowski", "Choi-Jamiołkowski"),
        ("2411.17825", "abstract", "Zden\\v{e}k Frol\\'{\\i}k.", "Zdeněk Frolík."),
        ("2411.18187", "abstract", "nonlinear Schr\\''odinger", "nonlinear Schrödinger"),
        ("2411.17712", "abstract", "less than 50\\% CPU", "less than 50% CPU"),
        ("2411.17961", "abstract", "rate \\textbf{redu}ction", "rate reduction"),
        ("2411.18036", "abstract", "DiVincenzo {\\it et al}. put", "DiVincenzo et al. put"),
        (
            "2411.17796",
            "abstract",
            "``iterative Combinatorial Brain Surgeon''",
            "“iterative Combinatorial Brain Surgeon”",
        ),
        ("2411.18105", "abstract", "245\\textendash8800 MHz", "245–8800 MHz"),
        ("2411.17896", "abstract", "the results in \\cite{BCPR}. Namely", "the results in. Namely"),
        (
            "2411.18009",
            "abstract",
            "at \\url{https://github.com/ch9397/FixedWing-MonoPPO}.",
            "at https://github.com/ch9397/FixedWing-MonoPPO.",
        ),
        ("2411.17705", "abstract", "at \\href{https://github.com/Kanyooo/EEG-DCNet}{here}.", "at here."),
        (
            "2411.17928",
            "abstract",
            "library\\footnote{\\texttt{https://github.com/JokerJohn/Cloud\\_Map\\_Evaluation}} will",
            "library (https://github.com/JokerJohn/Cloud_Map_Evaluation) will",
        ),
        ("2411.18203", "abstract", "models~(VLMs)", "models\u00a0(VLMs)"),
        ("2411.17717", "abstract", "accounts for ~70% of cases", "accounts for ~70% of cases"),
        ("2411.18420", "abstract", "since z~1.5,", "since z~1.5,"),
    ],
)
def test_real_titles_and_abstracts(papers, arxiv_id, field, tex, unicode):
    source = getattr(by_id(papers, arxiv_id), field)
    assert tex in source
    assert unicode in unicode_text(source)


@pytest.mark.parametrize(
    "tex, unicode",
    [
        ("\\'e \\'{e} {\\'e} \\\"o \\~n \\^o \\`a", "é é é ö ñ ô à"),
        ("\\c{c} \\v{s} \\u{a} \\H{o} \\k{a} \\=a \\.z \\r{a} \\v S", "ç š ă ő ą ā ż å Š"),
        (
            "{\\l} \\L{} {\\o} \\O{} \\ss{} \\ae{} \\AE{} \\oe{} \\aa{} \\AA{} \\i{} \\j{} \\'\\i",
            "ł Ł ø Ø ß æ Æ œ å Å ı ȷ í",
        ),
        ("\\& \\% \\$ \\# \\_", "& % $ # _"),
        ("Fig.~3 and 1--2 or A---B ``quoted''", "Fig.\u00a03 and 1–2 or A—B “quoted”"),
        (
            "\\emph{a} \\textbf{b} \\textit{c} \\texttt{d} \\textsc{e} \\textrm{f} {\\em g} {\\bf h}",
            "a b c d e f g h",
        ),
        (
            "as shown \\cite{a}, \\citep[p.~2]{b} and \\citet{c}; see Sec.~\\ref{s} and Eq.~\\eqref{e}\\label{x}.",
            "as shown, and; see Sec. and Eq..",
        ),
        ("Code\\footnote{At \\url{https://x.org/~me/a_b}.} here", "Code (At https://x.org/~me/a_b.) here"),
        ("\\href{https://x.org}{our site} and {{stray}} }braces{", "our site and stray braces"),
        (
            "a $\\'e \\cite{x} {y}$ b \\(\\~n\\) c \\[ {z} \\] d $$ {w} $$",
            "a $\\'e \\cite{x} {y}$ b \\(\\~n\\) c \\[ {z} \\] d $$ {w} $$",
        ),
        ("\\begin{equation*} {x} \\end{equation*}", "\\begin{equation*} {x} \\end{equation*}"),
        ("Plain title — already Unicode: Jörg's “model”", "Plain title — already Unicode: Jörg's “model”"),
    ],
)
def test_unicode_text_constructs(tex, unicode):
    assert unicode_text(tex) == unicode


def test_teasers_of_the_day_hold_no_environments_or_citations(papers):
    for paper in papers:
        teaser = teaser_text(paper.abstract)
        assert not any(bad in teaser for bad in FORBIDDEN_IN_TEASERS), (paper.arxiv_id, teaser)
        assert "\n" not in teaser and "  " not in teaser
    # Display math gives way to an ellipsis; inline math and the words around it stay.
    teaser = teaser_text(by_id(papers, "2411.17730").abstract)
    assert "Schrödinger equation with potential … where $\\frac{1}{3}<s<1$ and" in teaser
    teaser = teaser_text(by_id(papers, "2411.18550").abstract)
    assert teaser.startswith(
        "We study invariant random matrix ensembles … defined on complex Hermitian matrices $M$"
    )
    assert "Forrester and Witte that were" in teaser
    teaser = teaser_text(by_id(papers, "2411.17928").abstract)
    assert "The MapEval library will be publicly available" in teaser


@pytest.mark.parametrize(
    "tex, teaser",
    [
        (
            "We get \\begin{align*} a &= b \\\\ c &= d \\end{align*} where $a$ is real.",
            "We get … where $a$ is real.",
        ),
        (
            "Hence \\[ x = 1 \\]. Also $$y$$ and \\begin{equation}z\\label{e}\\end{equation}",
            "Hence …. Also … and …",
        ),
        ("A $\\begin{pmatrix}1\\end{pmatrix}$ matrix \\cite{x} and $n^2$", "A … matrix and $n^2$"),
        ("Note\\footnote{A \\emph{long} aside.} ends.\n\nNext  line", "Note ends. Next line"),
        ("\\begin{itemize}\\item one \\item two\\end{itemize}", "• one • two"),
    ],
)
def test_teaser_text(tex, teaser):
    assert teaser_text(tex) == teaser


@pytest.mark.parametrize(
    "tex",
    [
        "\\be\\begin{gin{ \\ci\\cite{te} \\begin \\cite",
        "\\url{\\cite\\ref}",
        "\\begin{equation}\\begin{cases}x\\end{equation}",
        "$\\label{a}$ $$\\cite{b}$$ \\(\\ref{c}\\)",
        "\\begin  {equation} \\end {x}",
    ],
)
def test_teaser_never_shows_raw_environments_or_citations(tex):
    teaser = teaser_text(tex)
    assert not any(bad in teaser for bad in FORBIDDEN_IN_TEASERS), teaser


@pytest.mark.parametrize("function", [unicode_text, teaser_text, split_author])
@pytest.mark.parametrize(
    "make",
    [
        lambda k: "\\(" * 16_000 * k,
        lambda k: "{" * 16_000 * k,
        lambda k: "{" * 25_000 * k + "}" * 25_000 * k,
        lambda k: "$$" * 16_000 * k,
        lambda k: "\\begin{equation}x" * 4_000 * k,
        lambda k: "\\footnote{\\cite{" * 4_000 * k,
        lambda k: "~ \\'" * 16_000 * k,
        lambda k: "(" * 100_000 * k + "x",
    ],
    ids=[
        "unclosed-paren-math",
        "unclosed-braces",
        "nested-braces",
        "dollars",
        "unclosed-equations",
        "unclosed-footnotes",
        "ties-and-accents",
        "unclosed-parentheses",
    ],
)
def test_hostile_input_costs_linear_time(function, make):
    # From twice the base size, so that the smaller input is not flattered by the CPU caches.
    once, four_times = seconds_per_call(function, make(2)), seconds_per_call(function, make(8))
    print(f"{function.__name__}: {once * 1000:.1f} ms, 4x input {four_times * 1000:.1f} ms")
    assert once < 2.0
    assert four_times / once < 8


def test_titles_are_fast(papers):
    titles = [p.title + " " for p in papers]  # a trailing space keeps the cache out of the timing
    start = time.perf_counter()
    for title in titles:
        unicode_text(title)
    each = (time.perf_counter() - start) / len(titles)
    print(f"{each * 1e6:.1f} µs a title")
    assert each < 200e-6


def test_random_garbage_never_raises():
    pieces = [
        "\\",
        "{",
        "}",
        "$",
        "$$",
        "(",
        ")",
        "~",
        "'",
        "`",
        '"',
        "-",
        " ",
        "a",
        "é",
        "x",
        "\\begin{",
        "\\end{",
        "equation",
        "\\cite",
        "\\ref{",
        "\\label{",
        "\\footnote{",
        "\\url{",
        "\\href{",
        "\\(",
        "\\[",
        "\\]",
        "\\v",
        "\\l",
        "\\i",
        "\x00",
    ]
    rng = random.Random(20241128)
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        assert isinstance(unicode_text(text), str)
        teaser = teaser_text(text)
        assert not any(bad in teaser for bad in FORBIDDEN_IN_TEASERS), (text, teaser)
        name, affiliation = split_author(text)
        assert name or not any(char.isalpha() for char in text), text
        assert isinstance(author_key(text), str) and isinstance(affiliation, str)
