"""TeX in arXiv titles, abstracts and author names made plain Unicode; math is left to catalog/latex.py."""

from __future__ import annotations

import functools
import re
import unicodedata

from pylatexenc.latex2text import get_default_latex_context_db

# Combining marks of TeX's text accents, as in pylatexenc's latex2text.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    '"': "\u0308",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
    "b": "\u0331",
    "d": "\u0323",
    "''": "\u0308",
}  # Schr\''odinger: \" typed as \''
# Glyphs of letters and text symbols from pylatexenc's tables, leaving out its placeholders
# (\cite as "<cit.>") and anything that takes arguments or breaks the line.
_SYMBOLS = {
    spec.macroname: spec.simplify_repl
    for spec in get_default_latex_context_db().iter_macro_specs(["latex-base", "advanced-symbols"])
    if isinstance(spec.simplify_repl, str)
    and spec.macroname.isalpha()
    and spec.macroname != "today"
    and not re.search(r"[%\n]", spec.simplify_repl)
}
_SYMBOLS.update(
    LaTeX="LaTeX",
    TeX="TeX",
    deg="°",
    ie="i.e.",
    eg="e.g.",
    etc="etc.",
    etal="et al.",
    item="•",
    par=" ",
    newline=" ",
)
# Letters used inside words (Sj\o rup) swallow the spaces after them, as in TeX; \AA is not among
# them because abstracts use it as the ångström unit ("8542 \AA and").
_LETTERS = {
    "l",
    "L",
    "o",
    "O",
    "ss",
    "ae",
    "AE",
    "oe",
    "OE",
    "aa",
    "i",
    "j",
    "dh",
    "DH",
    "th",
    "TH",
    "ng",
    "NG",
    "dj",
    "DJ",
}
# Font changes: \emph{x} keeps its argument, {\em x} loses only the declaration.
_FONTS = {
    "emph",
    "textbf",
    "textit",
    "texttt",
    "textsc",
    "textrm",
    "textsf",
    "textup",
    "textsl",
    "textmd",
    "textnormal",
    "underline",
    "mbox",
    "hbox",
    "text",
    "em",
    "bf",
    "it",
    "rm",
    "sc",
    "sf",
    "tt",
    "sl",
    "bfseries",
    "itshape",
    "scshape",
    "upshape",
    "mdseries",
    "normalfont",
    "rmfamily",
    "sffamily",
    "ttfamily",
    "tiny",
    "scriptsize",
    "footnotesize",
    "small",
    "normalsize",
    "large",
    "Large",
    "LARGE",
    "huge",
    "Huge",
    "noindent",
    "centering",
}
_ESCAPES = {
    "&": "&",
    "%": "%",
    "$": "$",
    "#": "#",
    "_": "_",
    "{": "{",
    "}": "}",
    "\\": " ",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    "-": "",
    "/": "",
    "@": "",
    "": "",
}
_MATH_ENVS = (
    r"(?:equation|align|alignat|eqnarray|gather|multline|flalign|displaymath|math|split|aligned"
    r"|gathered|cases|array|[pbvBV]?matrix)\*?"
)
# Math spans end within _SPAN characters and before the next opening delimiter, so that text
# with thousands of unclosed "\(" or "$$" costs linear time, as in catalog/latex.py.
_SPAN = 2000
# A display environment may hold one more (\begin{cases} inside \begin{equation*}).
_BODY = r"(?:(?!\\(?:begin|end)\{)[\s\S])"
_INNER = rf"\\begin\{{(?P<inner>[A-Za-z]+\*?)\}}{_BODY}{{0,{_SPAN}}}\\end\{{(?P=inner)\}}"
_ARG = r"(?:\\[ij](?![A-Za-z])|[A-Za-z])"
_CITE = (
    r"\\(?:cite[A-Za-z]*|[cC]ref|autoref|eqref|pageref|nameref|ref|label)(?![A-Za-z])\*?"
    r"(?:(?:\s*\[[^\[\]{}]{0,200}\]){0,2}\s*\{[^{}]{0,500}\})?"
)
# Every token starts with one of the characters in the lookahead; testing that first skips plain
# text about 15 times faster than trying each alternative at every position.
_TOKEN = re.compile(
    r"(?=[h\\$(~{}`'-])(?:"
    + "|".join(
        [
            r"(?P<url>https?://[^\s<>\"'{}|\\^`\]]+)",
            rf"(?P<display>\$\$(?:(?!\$\$)[\s\S]){{1,{_SPAN}}}?\$\$|\\\[(?:(?!\\\[)[\s\S]){{1,{_SPAN}}}?\\\]"
            rf"|\\begin\{{(?P<env>{_MATH_ENVS})\}}(?:{_BODY}|{_INNER}){{0,{_SPAN}}}?\\end\{{(?P=env)\}})",
            rf"(?P<math>\$(?:\\[\s\S]|[^$\\]){{1,{_SPAN}}}?\$|\\\((?:(?!\\\()[\s\S]){{1,{_SPAN}}}?\\\))",
            rf"(?P<cite>\(\s*{_CITE}\s*\)|~?{_CITE})",
            rf"(?P<accent>\\(?P<mark>''|['`\"^~=.])(?:\{{\s*(?P<a1>{_ARG})\s*\}}|(?P<a2>{_ARG}))"
            rf"|\\(?P<lmark>[cvuHkrbd])(?:\s*\{{\s*(?P<a3>{_ARG})\s*\}}|\s+(?P<a4>{_ARG})))",
            r"(?P<note>\\(?:footnote|thanks)\s*\{)",
            r"(?P<skip>\\(?:href|textcolor)\s*\{[^{}]{0,2000}\}(?=\s*\{)|\\color\s*\{[^{}]{0,100}\})",
            r"(?P<urlcmd>\\url\s*\{(?P<address>[^{}]{0,2000})\})",
            r"(?P<envmark>\\(?:begin|end)\s*\{\s*(?P<envname>[A-Za-z]+\*?)\s*\})",
            r"(?P<command>\\(?P<name>[A-Za-z]+)(?P<space>\s*)(?P<arg>\{)?)",
            r"(?P<symbol>\\[\s\S]?)",
            r"(?P<open>\{)",
            r"(?P<close>\})",
            r"(?P<tie>~)",
            r"(?P<dash>(?<![-<])---?(?![->]))",
            r"(?P<quote>``|'')",
        ]
    )
    + ")"
)
_TEX = re.compile(r"[\\{}$~]|--|``|''")  # text without any of these (most titles) is left as it is
_FORBIDDEN = re.compile(r"\\(?:begin\{|end\{|cite|ref\{|label\{)")
_CACHED_LENGTH = 400


def unicode_text(text: str) -> str:
    """A title or abstract with TeX accents and text commands in Unicode, and its math unchanged."""
    try:
        return _cached(text, False) if len(text) <= _CACHED_LENGTH else _convert(text, False)
    except Exception:  # a display helper: whatever the input, show it rather than fail the page
        return text


def teaser_text(text: str) -> str:
    """One line for a teaser or feed summary: as unicode_text, without display math or citations."""
    try:
        return _cached(text, True) if len(text) <= _CACHED_LENGTH else _convert(text, True)
    except Exception:
        return text


@functools.lru_cache(maxsize=8192)  # author names and titles recur on every listing
def _cached(text: str, teaser: bool) -> str:
    return _convert(text, teaser)


def _convert(text: str, teaser: bool) -> str:
    if teaser:
        text = text.replace("\x00", "")  # NUL marks removed math below
    out: list[str] = []
    closers: list[str | None] = []  # what each open brace becomes when closed; None drops its content
    dropping = 0
    position = 0
    for match in _TOKEN.finditer(text) if _TEX.search(text) else ():
        kind, token = match.lastgroup, match.group()
        if not dropping:
            out.append(text[position : match.start()])
        position = match.end()
        value = ""
        if kind in ("url", "display", "math"):
            removed = teaser and (kind == "display" or _FORBIDDEN.search(token))
            value = "\x00" if removed else token
        elif kind in ("cite", "note"):
            while out and not dropping and not out[-1].strip():
                out.pop()
            if out and not dropping:
                out[-1] = out[-1].rstrip()  # "model \cite{x}." reads "model."
            if kind == "note" and teaser:  # an aside has no place in a one-line summary
                closers.append(None)
                dropping += 1
            elif kind == "note":
                value = " ("
                closers.append(")")
        elif kind == "accent":
            base = match["a1"] or match["a2"] or match["a3"] or match["a4"]
            value = unicodedata.normalize("NFC", base[-1] + _ACCENTS[match["mark"] or match["lmark"]])
        elif kind == "urlcmd":
            value = re.sub(r"\\([_%#&~$])", r"\1", match["address"])
        elif kind == "envmark":
            value = token if not teaser and re.fullmatch(_MATH_ENVS, match["envname"]) else ""
        elif kind == "command":
            value = _command(match)
            if match["arg"]:
                closers.append("")
        elif kind == "symbol":
            char = token[1:]
            # A bare accent (\~{}) shows its mark; "\ " is a space; unknown ones stay as written.
            value = " " if char.isspace() else _ESCAPES.get(char, char if char in _ACCENTS else token)
        elif kind == "open":
            closers.append("")
        elif kind == "close" and closers:
            closer = closers.pop()
            if closer is None:
                dropping -= 1
            value = closer or ""
        elif kind == "tie":
            value = "\u00a0" if _is_tie(text, match.start()) else "~"
        elif kind == "dash":
            value = "—" if len(token) == 3 else "–"
        elif kind == "quote":
            before = text[match.start() - 1] if match.start() else " "
            value = "“" if token == "``" or before.isspace() or before in "([" else "”"
        if not dropping and value:
            out.append(value)
    if not dropping:
        out.append(text[position:])
    result = "".join(out)
    if not teaser:
        return result.strip()
    # No raw environment or citation may reach a one-line summary, whatever the input held.
    result = " ".join(_FORBIDDEN.sub(" ", result).split())  # one line, ties included
    if "\x00" in result:
        result = re.sub(r" ?\x00(?: ?\x00)* ?", " … ", result)
        result = re.sub(r" … (?=[.,;:!?])", " …", result)
    return result.strip()


def _command(match: re.Match[str]) -> str:
    name = match["name"]
    if name in _FONTS:
        return ""
    if name in _SYMBOLS:
        keeps_space = name not in _LETTERS and not match["arg"]
        return _SYMBOLS[name] + (match["space"] if keeps_space else "")
    # An unknown macro with an argument (\kc{text}, \SI{100}{}) shows the argument; without one
    # (\name) it stays as written, because dropping it would lose a word.
    return "" if match["arg"] else match.group()


def _is_tie(text: str, index: int) -> bool:
    # "Artemis~1", "Fig.~3" and "50~K" are TeX ties; "~70%", "=~ 500" and "z~1.5" mean "about".
    earlier = text[index - 2] if index > 1 else " "
    before = text[index - 1] if index else " "
    after = text[index + 1 : index + 2] or " "
    if after.isdigit() and before.isalpha() and not earlier.isalpha():
        return False
    return not before.isspace() and before not in "=<>~(" and not after.isspace()


def _split_author(text: str) -> tuple[str, str]:
    clean = " ".join(unicode_text(text).split())
    if "(" not in clean and ")" not in clean:  # most names: no affiliation to take off
        return _named(clean.strip(" ,;"), clean, text, [])
    depth, start = 0, 0
    groups: list[tuple[int, int, int]] = []  # top-level parentheses: start, end, end of contents
    kept: list[str] = []  # the text without stray closing parentheses
    for index, char in enumerate(clean):
        if char == ")" and not depth:
            char = ""
        elif char == ")":
            depth -= 1
            if not depth:
                groups.append((start, index + 1, index))
        elif char == "(":
            start = start if depth else index
            depth += 1
        kept.append(char)
    if depth:
        groups.append((start, len(clean), len(clean)))  # an unclosed "(IFPEN" runs to the end
    # Only parentheses after the name hold an affiliation; "Jean (Johnny) Dupont" stays whole.
    end, affiliations = len(clean), []
    while groups and not clean[groups[-1][1] : end].strip():
        start, stop, inner_end = groups.pop()
        affiliations.append(" ".join(clean[start + 1 : inner_end].split()))
        end = start
    return _named(" ".join("".join(kept[:end]).split()).strip(" ,;"), clean, text, affiliations)


def _named(name: str, clean: str, text: str, affiliations: list[str]) -> tuple[str, str]:
    if not any(char.isalpha() for char in name):
        # Nothing but an affiliation or markup ("\url{"): better the text than no name at all.
        return (clean if any(char.isalpha() for char in clean) else " ".join(text.split())), ""
    return name, "; ".join(a for a in reversed(affiliations) if a)


_split_cached = functools.lru_cache(maxsize=8192)(_split_author)


def split_author(text: str) -> tuple[str, str]:
    """An author's display name in Unicode, and the affiliation written in parentheses after it."""
    try:
        return _split_cached(text) if len(text) <= _CACHED_LENGTH else _split_author(text)
    except Exception:
        return text, ""


def display_name(text: str) -> str:
    """An author's name as readers see it: Unicode, without an affiliation."""
    return split_author(text)[0]


def author_key(text: str) -> str:
    """A key that is the same for the TeX and Unicode spellings of one name, in any case or spacing."""
    name = unicodedata.normalize("NFC", split_author(text)[0])
    return unicodedata.normalize("NFC", " ".join(name.casefold().split()))


def cut(text: str, width: int) -> str:
    """`text`, or its first `width` - 1 characters and "…" when it is longer than `width`."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
