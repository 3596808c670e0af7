"""LaTeX in titles and abstracts shown readably as HTML: $O(n^2)$ becomes O(n<sup>2</sup>)."""

from __future__ import annotations

import re

from django.utils.html import escape

from paperroute.catalog.textclean import unicode_text

SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "times": "×",
    "cdot": "·",
    "cdots": "⋯",
    "ldots": "…",
    "dots": "…",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "sim": "∼",
    "simeq": "≃",
    "equiv": "≡",
    "propto": "∝",
    "infty": "∞",
    "pm": "±",
    "mp": "∓",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "leftrightarrow": "↔",
    "mapsto": "↦",
    "in": "∈",
    "notin": "∉",
    "subset": "⊂",
    "subseteq": "⊆",
    "cup": "∪",
    "cap": "∩",
    "forall": "∀",
    "exists": "∃",
    "partial": "∂",
    "nabla": "∇",
    "sum": "∑",
    "prod": "∏",
    "int": "∫",
    "sqrt": "√",
    "log": "log",
    "exp": "exp",
    "min": "min",
    "max": "max",
    "sin": "sin",
    "cos": "cos",
    "lim": "lim",
    "ell": "ℓ",
    "langle": "⟨",
    "rangle": "⟩",
    "lfloor": "⌊",
    "rfloor": "⌋",
    "lceil": "⌈",
    "rceil": "⌉",
    "circ": "∘",
    "star": "⋆",
    "ast": "∗",
    "prime": "′",
    "deg": "°",
    "%": "%",
    "&": "&",
    "$": "$",
    "#": "#",
    "_": "_",
    "{": "{",
    "}": "}",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    " ": " ",
    "quad": " ",
    "qquad": "  ",
    "left": "",
    "right": "",
    "big": "",
    "Big": "",
    "bigg": "",
}
# Commands whose braced argument is shown as it is (fonts, text in math).
WRAPPERS = {
    "mathcal",
    "mathbf",
    "mathrm",
    "mathit",
    "mathsf",
    "mathtt",
    "mathbb",
    "boldsymbol",
    "text",
    "textrm",
    "textbf",
    "textit",
    "emph",
    "operatorname",
    "mbox",
    "bm",
    "hat",
    "tilde",
    "bar",
    "vec",
    "widehat",
    "widetilde",
    "overline",
    "texttt",
    "textsc",
    "url",
}
# A fragment ends before the next opening delimiter and within 500 characters, so that text
# with many unclosed "\(" costs linear time, not a scan to the end for each one.
_MATH = re.compile(
    r"\$\$(?P<a>(?:(?!\$\$).){1,500}?)\$\$|\$(?P<b>[^$]{1,500}?)\$"
    r"|\\\((?P<c>(?:(?!\\\().){1,500}?)\\\)|\\\[(?P<d>(?:(?!\\\[).){1,1000}?)\\\]"
    r"|\\begin\{(?P<env>equation|align|gather|multline|eqnarray|displaymath)\*?\}"
    r"(?P<e>(?:(?!\\begin\{(?P=env)).){1,2000}?)\\end\{(?P=env)\*?\}",
    re.S,
)
# Inside display math: environments (array, cases) and alignment marks are layout, not content.
_LAYOUT = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}(?:\s*\{[^{}]*\})?|&")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_SCRIPT = re.compile(r"([\^_])(\{([^{}]*)\}|\\[A-Za-z]+|.)")


# Old-style font switches, as in {\rm max}: they change the look of what follows, and mean nothing.
SWITCHES = {"rm", "bf", "it", "sf", "tt", "sl", "sc", "cal"}
# Stand-ins for \{ and \} (a set's braces, which are content) while grouping braces are dropped.
_OPEN, _CLOSE = "\ue001", "\ue002"
_SWITCH = re.compile(r"\\(?:" + "|".join(sorted(SWITCHES)) + r")(?![A-Za-z])\s*")


def _plain(text: str) -> str:
    """Replace commands and unwrap fonts in a LaTeX fragment (output is not yet escaped; the
    caller drops grouping braces with _ungroup)."""
    text = text.replace(_OPEN, "").replace(_CLOSE, "")
    for _ in range(3):  # nested \mathbf{\hat{x}} unwrap one level per pass
        text = re.sub(r"\\(" + "|".join(WRAPPERS) + r")\s*\{([^{}]*)\}", r"\2", text)
    text = re.sub(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", text)
    text = _SWITCH.sub("", text)
    return _COMMAND.sub(_command, text)


def _command(match: re.Match) -> str:
    name = match.group(1)
    if name in ("{", "}"):
        return _OPEN if name == "{" else _CLOSE
    return SYMBOLS.get(name, name)


def _ungroup(text: str) -> str:
    """Text from _plain without its grouping braces, and with a set's braces back."""
    return text.replace("{", "").replace("}", "").replace(_OPEN, "{").replace(_CLOSE, "}")


def _math_html(fragment: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _SCRIPT.finditer(fragment):
        pieces.append(escape(_ungroup(_plain(fragment[position : match.start()]))))
        tag = "sup" if match.group(1) == "^" else "sub"
        body = match.group(3) if match.group(3) is not None else match.group(2)
        pieces.append(f"<{tag}>{escape(_ungroup(_plain(body)))}</{tag}>")
        position = match.end()
    pieces.append(escape(_ungroup(_plain(fragment[position:]))))
    return '<span class="math">' + "".join(pieces) + "</span>"


def _fragment(match: re.Match) -> str:
    """The math inside a match of _MATH, with display layout reduced to its content."""
    fragment = next(match.group(name) for name in "abcde" if match.group(name) is not None)
    return _LAYOUT.sub(" ", fragment).replace("\\\\", "; ")


def to_html(text: str) -> str:
    """HTML for text that may hold LaTeX: math set readably, everything escaped."""
    text = unicode_text(text or "")
    out = []
    position = 0
    for match in _MATH.finditer(text or ""):
        out.append(_text_html(text[position : match.start()]))
        out.append(_math_html(_fragment(match)))
        position = match.end()
    out.append(_text_html((text or "")[position:]))
    return "".join(out)


def to_plain(text: str) -> str:
    """Text with LaTeX made readable but no markup: for teasers, feeds and meta tags."""

    def math(match):
        fragment = _fragment(match)
        fragment = re.sub(r"\^\{([^{}]*)\}|\^(\w)", lambda m: "^" + (m.group(1) or m.group(2)), fragment)
        return _ungroup(_plain(fragment))

    return _text_plain(_MATH.sub(math, unicode_text(text or "")))


def title_plain(title: str, key: str) -> str:
    """A paper's title as plain text; as stored when that reads as nothing (TeX that is no text,
    such as `{}` or `\\label{…}`), and its id when that is blank too: a link needs words."""
    return to_plain(title).strip() or title.strip() or key


def title_unicode(title: str, key: str) -> str:
    """The same with its math as written (TeX accents made Unicode): for Markdown and search."""
    return unicode_text(title) if to_plain(title).strip() else title_plain(title, key)


def title_html(title: str, key: str) -> str:
    """The same as HTML, with its LaTeX made readable as to_html does."""
    return to_html(title) if to_plain(title).strip() else escape(title.strip() or key)


def _text_plain(text: str) -> str:
    text = re.sub(r"\\(textbf|textit|emph|texttt|textsc|textrm|url)\s*\{([^{}]*)\}", r"\2", text)
    text = re.sub(r"\\([%&$#_{}])", r"\1", text)
    return text.replace("``", "“").replace("''", "”").replace("---", "—").replace("--", "–")


def _text_html(text: str) -> str:
    return escape(_text_plain(text))
