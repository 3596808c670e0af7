"""BibTeX entries for papers: @misc with arXiv eprint fields, or @article when published."""

from __future__ import annotations

import re
import unicodedata

from paperroute.catalog.latex import SWITCHES, SYMBOLS, WRAPPERS
from paperroute.catalog.models import Paper
from paperroute.catalog.records import arxiv_month
from paperroute.catalog.textclean import unicode_text

# Characters that mean something to BibTeX/LaTeX outside math, with their escaped forms. BibTeX
# counts braces without regard to backslashes, so "\}" would still close the field: literal
# braces become commands whose own braces balance.
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Math is kept as LaTeX only when every command in it is one of these: nothing that reads or
# writes files (\input, \openin, \write18), defines macros or changes catcodes.
_MATH_COMMANDS = (
    set(SYMBOLS)
    | WRAPPERS
    | SWITCHES
    | {
        "frac",
        "dfrac",
        "tfrac",
        "binom",
        "sqrt",
        "mathfrak",
        "mathscr",
        "displaystyle",
        "textstyle",
        "scriptstyle",
        "limits",
        "nolimits",
        "not",
        "bigl",
        "bigr",
        "Bigl",
        "Bigr",
        "biggl",
        "biggr",
        "underline",
        "overbrace",
        "underbrace",
        "dot",
        "ddot",
        "check",
        "breve",
        "acute",
        "grave",
        "vdots",
        "ddots",
        "emptyset",
        "varnothing",
        "hbar",
        "wedge",
        "vee",
        "oplus",
        "otimes",
        "odot",
        "Leftarrow",
        "Leftrightarrow",
        "longrightarrow",
        "longmapsto",
        "uparrow",
        "downarrow",
        "perp",
        "parallel",
        "mid",
        "setminus",
        "top",
        "bot",
        "triangle",
        "angle",
        "lvert",
        "rvert",
        "lVert",
        "rVert",
        "vert",
        "Vert",
        "gg",
        "ll",
        "prec",
        "succ",
        "preceq",
        "succeq",
        "cong",
        "models",
        "vdash",
        "dagger",
        "aleph",
        "Re",
        "Im",
        "arg",
        "det",
        "dim",
        "gcd",
        "inf",
        "sup",
        "ker",
        "lg",
        "ln",
        "Pr",
        "sec",
        "sinh",
        "cosh",
        "tan",
        "tanh",
        "cot",
        "coth",
        "csc",
        "hom",
        "liminf",
        "limsup",
        "argmin",
        "argmax",
        "mathnormal",
        "varrho",
        "varsigma",
        "varpi",
        "epsilon",
        "lbrace",
        "rbrace",
        "backslash",
        "bigcup",
        "bigcap",
        "bigoplus",
        "bigotimes",
        "coprod",
        "oint",
        "iint",
        "iiint",
        "leqslant",
        "geqslant",
        "lesssim",
        "gtrsim",
        "ni",
        "supset",
        "supseteq",
        "neg",
        "land",
        "lor",
        "iff",
        "implies",
        "rightrightarrows",
        "hookrightarrow",
        "twoheadrightarrow",
        "colon",
    }
)
_MATH_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


_SAFE_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=-]+")

# Greek letters and math symbols outside math (a title's "{\Lambda}CDM" reads "ΛCDM"), as math
# again: pdflatex has no glyph for them in text and stops ("Unicode character Λ not set up for
# use with LaTeX"). Accented Latin letters and punctuation (é, –, …) it sets as they are.
_AS_MATH = {
    char: "$\\" + name + "$"
    for name, char in reversed(SYMBOLS.items())
    if len(char) == 1 and ord(char) >= 0x370 and not 0x2000 <= ord(char) <= 0x206F and name != "sqrt"
} | {"√": "$\\surd$"}  # \sqrt would take the closing $ for its argument


def escape(text: str) -> str:
    """Text safe inside a braced BibTeX field: specials escaped, control characters dropped, and
    Greek letters and math symbols written as math."""
    text = "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) != "Cc")
    return "".join(_SPECIAL.get(ch) or _AS_MATH.get(ch, ch) for ch in re.sub(r"\s+", " ", text))


def escape_title(text: str) -> str:
    """A title with its math ($...$, already LaTeX) kept when its braces balance, the rest escaped."""
    out = []
    for part in re.split(r"(\$[^$]{1,200}\$)", " ".join(text.split())):
        if len(part) > 2 and part[0] == part[-1] == "$" and _balanced(part):
            out.append(part)
        else:
            out.append(escape(part))
    return "".join(out)


def _balanced(text: str) -> bool:
    """Whether math may stay LaTeX: braces balance as BibTeX counts them, no unknown command."""
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    if depth or "^^" in text or any(unicodedata.category(ch) == "Cc" for ch in text):
        return False  # ^^5c is TeX for a backslash, so "^^5cinput" is \input
    return all(m.group(1) in _MATH_COMMANDS or not m.group(1).isalpha() for m in _MATH_COMMAND.finditer(text))


def issued(paper: Paper) -> tuple[int, ...]:
    """When the paper came out, as (year, month, day) or, when only the month is known, (year,
    month); () when nothing is. Its first version's submission time; without one (arXiv's daily
    listing gives none), the month its arXiv id names; else the day it was announced."""
    if paper.published:
        when = paper.published.date()
        return (when.year, when.month, when.day)
    month = arxiv_month(paper.arxiv_id or "")
    if month:
        return (month.year, month.month)
    day = paper.announced_on
    return (day.year, day.month, day.day) if day else ()


# Names of groups rather than people ("NOvA Collaboration", "The LHCb Consortium"): BibTeX and
# CSL would split them into a given name and a surname.
_GROUP = re.compile(r"(?i)\b(collaboration|consortium|team|group|project|initiative|organi[sz]ation)\b")


def is_group(name: str) -> bool:
    return bool(_GROUP.search(name))


def cite_key(paper: Paper, authors: list[str]) -> str:
    """A key such as vaswani2017attention: first author's surname, year, first title word."""
    names = (authors[0] if authors else "").split()
    if is_group(" ".join(names)):  # "The NOvA Collaboration": nova
        names = [w for w in names if w.lower() != "the"][:1]
    surname = names[-1] if names else "anon"
    when = issued(paper)
    year = when[0] if when else ""
    words = [
        w
        for w in re.findall(r"[A-Za-z]+", _ascii(unicode_text(paper.title)))
        if w.lower() not in {"a", "an", "the", "on", "of", "for", "and", "in", "to"}
    ]
    key = f"{_ascii(surname)}{year}{words[0] if words else ''}".lower()
    return re.sub(r"[^a-z0-9]", "", key) or re.sub(r"[^A-Za-z0-9]", "", paper.key) or "paper"


def entry(paper: Paper) -> str:
    """The BibTeX entry for a paper."""
    authors = paper.author_names
    fields: list[tuple[str, str]] = [("title", "{" + escape_title(unicode_text(paper.title)) + "}")]
    if authors:
        fields.append(("author", " and ".join(_person(a) for a in authors)))
    when = issued(paper)
    if when:
        # month = nov, the macro: braced, {nov} is printed as it is (biber: "not an integer").
        fields += [("year", str(when[0])), ("month", _MONTHS[when[1] - 1])]
    if paper.arxiv_id:
        fields += [("eprint", escape(paper.arxiv_id)), ("archivePrefix", "arXiv")]
        if paper.primary_category:
            fields.append(("primaryClass", escape(paper.primary_category)))
    if paper.doi:
        fields.append(("doi", escape(paper.doi)))
    if paper.journal_ref:
        fields.append(("journal", escape(paper.journal_ref)))
    url = paper.abs_link or paper.project_link
    if _SAFE_URL.fullmatch(url or ""):
        fields.append(("url", url))
    kind = "article" if paper.journal_ref else "misc"
    body = ",\n".join(
        f"  {name:<13} = {value if name == 'month' else '{' + value + '}'}" for name, value in fields
    )
    return f"@{kind}{{{cite_key(paper, authors)},\n{body}\n}}\n"


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _person(name: str) -> str:
    """An author for BibTeX's author field; a group's name braced, so that it stays whole."""
    name = escape(" ".join(name.split()))
    return "{" + name + "}" if is_group(name) else name


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
